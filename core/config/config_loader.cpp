// parse_config / load_config_file: the top level of the operator config (docs/config.md).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>
#include <type_traits>

#include "common/json.hpp"
#include "common/state_backends.hpp"
#include "config/account_reader.hpp"
#include "config/cluster_reader.hpp"
#include "config/config.hpp"
#include "config/config_document.hpp"
#include "config/endpoint.hpp"
#include "config/field_reader.hpp"
#include "config/security_reader.hpp"
#include "config/tag_pool_reader.hpp"

namespace vumi::config {

namespace bj = boost::json;

std::string ConfigError::text() const {
  return path.empty() ? message : path + ": " + message;
}

namespace {

// Reads a retry policy object over `out` (keys absent keep out's values).
void read_retry_policy(FieldReader& reader, const bj::object& obj, const std::string& path,
                       RetryPolicy& out) {
  reader.allowed_keys(obj, {"max_attempts", "initial_backoff_ms", "max_backoff_ms"}, path);
  constexpr std::uint64_t kDayMs = 24 * 3600 * 1000;
  auto field = [&](std::string_view key, std::uint32_t& value, std::uint64_t minimum, std::uint64_t maximum) {
    if (const bj::value* v = obj.if_contains(key)) {
      if (auto n = reader.integer(*v, json::child_path(path, key), minimum, maximum))
        value = static_cast<std::uint32_t>(*n);
    }
  };
  field("max_attempts", out.max_attempts, 1, 1000);
  field("initial_backoff_ms", out.initial_backoff_ms, 0, kDayMs);
  field("max_backoff_ms", out.max_backoff_ms, 0, kDayMs);
  if (out.max_backoff_ms < out.initial_backoff_ms)
    reader.error(json::child_path(path, "max_backoff_ms"), std::to_string(out.max_backoff_ms) +
                                                               " is less than initial_backoff_ms " +
                                                               std::to_string(out.initial_backoff_ms));
}

// Deep enough for any sensible step config; bounded so a hostile file cannot exhaust the stack.
constexpr std::size_t kMaxConfigDepth = 128;

// "$ORIGIN" at the start of a path stands for the folder of the running binary, so the embedded
// config finds the plugins built (or installed) beside it from any working directory.
std::filesystem::path resolve_origin(const std::string& text) {
  constexpr std::string_view kOrigin = "$ORIGIN";
  if (!text.starts_with(kOrigin) || (text.size() > kOrigin.size() && text[kOrigin.size()] != '/'))
    return text;
  std::error_code ec;
  std::filesystem::path binary = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::filesystem::path origin = ec ? std::filesystem::path(".") : binary.parent_path();
  std::string rest = text.substr(kOrigin.size());
  while (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
  return rest.empty() ? origin : origin / rest;
}

class ConfigReader {
 public:
  // With streamed, the accounts the document left out are read from the text's second pass.
  struct StreamedAccounts {
    const TextPieces* text;
    const ConfigDocument* doc;
  };

  ConfigReader(Config& config, std::vector<ConfigError>& errors, StreamedAccounts streamed = {})
      : config_(config), reader_(errors), streamed_(streamed) {}

  void read(const bj::object& top) {
    reader_.allowed_keys(top,
                         {"ingest", "outbound", "state", "state_dir", "plugin_path", "handlers", "accounts",
                          "limits", "status_interval_s", "security", "plugin_path_insecure_ok", "tag_pools",
                          "admin", "cluster", "workers"},
                         "");
    if (const bj::value* v = top.if_contains("ingest"))
      endpoint(*v, "ingest", config_.ingest_bind, &config_.ingest_reliable_bind);
    if (const bj::value* v = top.if_contains("outbound")) endpoint(*v, "outbound", config_.outbound_bind);
    if (config_.ingest_bind == config_.outbound_bind)
      reader_.error("outbound.bind", "the same endpoint as ingest.bind; each socket needs its own");
    const std::string& reliable = config_.ingest_reliable_bind;
    const bool ephemeral = reliable.ends_with(":0") || reliable.ends_with(":*");
    if (!reliable.empty() && !ephemeral &&
        (reliable == config_.ingest_bind || reliable == config_.outbound_bind))
      reader_.error("ingest.reliable_bind", "the same endpoint as another socket; each socket needs its own");
    if (const bj::value* v = top.if_contains("state_dir")) state_dir(*v, "state_dir");
    if (const bj::value* v = top.if_contains("state")) {
      if (top.contains("state_dir"))
        reader_.error("state_dir",
                      "give the state folder once: \"state\": {\"dir\": ...} or the older "
                      "\"state_dir\", not both");
      else
        state(*v);
    }
    if (const bj::value* v = top.if_contains("cluster"))
      read_cluster(*v, config_.state.backend, config_.cluster, reader_);
    if (const bj::value* v = top.if_contains("plugin_path")) plugin_path(*v);
    if (const bj::value* v = top.if_contains("plugin_path_insecure_ok")) {
      if (v->is_bool()) {
        config_.plugin_path_insecure_ok = v->get_bool();
      } else {
        reader_.error("plugin_path_insecure_ok", expected("true or false", *v));
      }
    }
    if (const bj::value* v = top.if_contains("security"))
      read_security(*v, config_dir(), config_.security, reader_);
    check_insecure_binds(config_, reader_);
    if (const bj::value* v = top.if_contains("handlers"))
      read_handler_specs(*v, "handlers", config_.handlers, reader_);
    if (streamed_.doc && streamed_.doc->accounts_left_out)
      read_streamed_accounts();
    else if (const bj::value* v = top.if_contains("accounts"))
      read_accounts(*v, config_.handlers, config_.accounts, reader_);
    if (const bj::value* v = top.if_contains("limits")) limits(*v);
    if (const bj::value* v = top.if_contains("tag_pools")) read_tag_pools(*v, config_.tag_pools, reader_);
    for (AccountSpec& account : config_.accounts) {
      for (std::size_t i = 0; i < account.routes.size(); ++i) {
        RouteSpec& route = account.routes[i];
        route.retry = config_.limits.retry;
        if (route.retry_json)
          read_retry_policy(reader_, *route.retry_json, route_path(account.key, i) + ".retry", route.retry);
      }
    }
    if (const bj::value* v = top.if_contains("admin")) admin(*v);
    if (const bj::value* v = top.if_contains("status_interval_s")) {
      if (auto n = reader_.integer(*v, "status_interval_s", 0, std::numeric_limits<std::uint32_t>::max()))
        config_.status_interval_s = static_cast<std::uint32_t>(*n);
    }
    if (const bj::value* v = top.if_contains("workers")) {
      if (auto n = reader_.integer(*v, "workers", 1, kMaxWorkers))
        config_.workers = static_cast<std::uint32_t>(*n);
    }
  }

 private:
  void read_streamed_accounts() {
    auto each_account = [&](const AccountVisitor& visit) {
      json::ParseError error;
      if (for_each_account(*streamed_.text, kMaxConfigDepth, *streamed_.doc, visit, error)) return;
      if (error.line == 0)
        reader_.error("accounts", "cannot read the config again for its accounts: " + error.message);
      else
        reader_.error("accounts", "the config text changed between its two readings (" + error.message + ")");
    };
    read_accounts(streamed_.doc->account_count, each_account, config_.handlers, config_.accounts, reader_);
  }

  // {"bind": ENDPOINT}; with reliable_out, ingest's optional "reliable_bind" too.
  void endpoint(const bj::value& v, const std::string& path, std::string& out,
                std::string* reliable_out = nullptr) {
    const bj::object* obj = reader_.object(v, path);
    if (!obj) return;
    if (reliable_out) {
      reader_.allowed_keys(*obj, {"bind", "reliable_bind"}, path);
      if (const bj::value* reliable = obj->if_contains("reliable_bind"))
        endpoint_text(*reliable, json::child_path(path, "reliable_bind"), *reliable_out);
    } else {
      reader_.allowed_keys(*obj, {"bind"}, path);
    }
    const bj::value* bind = obj->if_contains("bind");
    if (!bind) {
      reader_.error(path, "missing required key \"bind\"");
      return;
    }
    endpoint_text(*bind, json::child_path(path, "bind"), out);
  }

  void endpoint_text(const bj::value& v, const std::string& bind_path, std::string& out) {
    const bj::value* bind = &v;
    auto text = reader_.string(*bind, bind_path);
    if (!text) return;
    if (auto checked = check_endpoint(*text); !checked) {
      reader_.error(bind_path, json::quoted(*text) + " is " + checked.error().message);
      return;
    }
    out = *text;
  }

  void state_dir(const bj::value& v, const std::string& path) {
    auto dir = reader_.string(v, path);
    if (!dir) return;
    if (dir->empty()) {
      reader_.error(path, "must not be empty");
      return;
    }
    config_.state.dir = *dir;
  }

  // {"backend": NAME, "dir": FOLDER, "url": URL}: which store holds the state, and where: sqlite in
  // dir (default "var"); postgresql at url (dir then keeps only this machine's crash record).
  void state(const bj::value& v) {
    const bj::object* obj = reader_.object(v, "state");
    if (!obj) return;
    reader_.allowed_keys(*obj, {"backend", "dir", "url"}, "state");
    if (const bj::value* dir = obj->if_contains("dir")) state_dir(*dir, "state.dir");
    const bj::value* backend = obj->if_contains("backend");
    if (!backend) {
      reader_.error("state", "missing required key \"backend\" (known: " + state_backend_names() + ")");
      return;
    }
    auto name = reader_.string(*backend, "state.backend");
    if (!name) return;
    if (std::find(kStateBackends.begin(), kStateBackends.end(), *name) == kStateBackends.end()) {
      reader_.error("state.backend",
                    "unknown backend " + json::quoted(*name) + " (known: " + state_backend_names() + ")");
      return;
    }
    config_.state.backend = *name;
    const bj::value* url = obj->if_contains("url");
    if (*name != "postgresql") {
      if (url)
        reader_.error("state.url", "only the postgresql backend takes a url; " + json::quoted(*name) +
                                       " keeps its state in state.dir");
      return;
    }
    if (!url) {
      reader_.error("state",
                    "missing required key \"url\" for backend \"postgresql\" "
                    "(e.g. \"postgresql://vumi@127.0.0.1:5432/vumi\")");
      return;
    }
    auto text = reader_.string(*url, "state.url");
    if (!text) return;
    if (!text->starts_with("postgresql://") && !text->starts_with("postgres://")) {
      reader_.error("state.url",
                    "must be a postgresql:// URL (e.g. \"postgresql://vumi@127.0.0.1:5432/vumi\"), "
                    "not a " +
                        json::quoted(text->substr(0, text->find(':'))) + " URL");
      return;
    }
    config_.state.url = *text;
  }

  void plugin_path(const bj::value& v) {
    config_.plugin_path.clear();
    auto add = [&](const bj::value& entry, const std::string& path) {
      auto p = reader_.string(entry, path);
      if (!p) return;
      if (p->empty()) {
        reader_.error(path, "must not be empty");
        return;
      }
      config_.plugin_path.push_back(resolve_origin(*p));
    };
    if (v.is_string()) {
      add(v, "plugin_path");
      return;
    }
    const bj::array* arr = v.if_array();
    if (!arr) {
      reader_.error("plugin_path", expected("array of strings or a string", v));
      return;
    }
    for (std::size_t i = 0; i < arr->size(); ++i) add((*arr)[i], json::index_path("plugin_path", i));
  }

  // The folder the config file is in ("" for the embedded config: the working directory).
  std::filesystem::path config_dir() const {
    if (config_.source.empty() || config_.source.front() == '<') return {};
    return std::filesystem::path(config_.source).parent_path();
  }

  void admin(const bj::value& v) {
    if (v.is_null()) {
      config_.admin.reset();
      return;
    }
    const bj::object* obj = reader_.object(v, "admin");
    if (!obj) return;
    AdminConfig& admin = *config_.admin;
    reader_.allowed_keys(*obj, {"bind", "token_file", "public_metrics", "account_labels", "run_history"},
                         "admin");
    if (const bj::value* bind = obj->if_contains("bind")) {
      if (auto text = reader_.string(*bind, "admin.bind")) {
        if (auto checked = check_host_port(*text); !checked) {
          reader_.error("admin.bind", json::quoted(*text) + " is " + checked.error().message);
        } else if (!loopback_host(text->substr(0, text->rfind(':'))) && !config_.security.allow_insecure) {
          reader_.error("admin.bind", json::quoted(*text) +
                                          " is beyond loopback: the admin API speaks plain HTTP with bearer "
                                          "tokens; bind 127.0.0.1 behind a TLS proxy, or set "
                                          "security.allow_insecure");
        } else {
          admin.bind = *text;
          admin.bind_given = true;
        }
      }
    }
    if (const bj::value* file = obj->if_contains("token_file")) {
      if (auto text = reader_.string(*file, "admin.token_file")) {
        if (text->empty())
          reader_.error("admin.token_file", "must not be empty");
        else
          admin.token_file = *text;
      }
    }
    auto flag = [&](std::string_view key, bool& out) {
      const bj::value* value = obj->if_contains(key);
      if (!value) return;
      if (!value->is_bool())
        reader_.error(json::child_path("admin", key), expected("boolean", *value));
      else
        out = value->get_bool();
    };
    flag("public_metrics", admin.public_metrics);
    flag("account_labels", admin.account_labels);
    if (const bj::value* n = obj->if_contains("run_history")) {
      if (auto count = reader_.integer(*n, "admin.run_history", 0, 100000))
        admin.run_history = static_cast<std::size_t>(*count);
    }
  }

  static bool loopback_host(const std::string& host) {
    return host == "localhost" || host.starts_with("127.") || host == "::1" || host == "[::1]";
  }

  // Success when text is "host:port" (IPv4 or a name, port 0-65535); why not otherwise.
  static Expected<void> check_host_port(const std::string& text) {
    std::size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return fail(ErrorCode::invalid, "not \"host:port\" (e.g. \"127.0.0.1:7712\")");
    std::string port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(port) > 65535)
      return fail(ErrorCode::invalid, "not \"host:port\": the port must be a number from 0 to 65535");
    return {};
  }

  void limits(const bj::value& v) {
    const bj::object* obj = reader_.object(v, "limits");
    if (!obj) return;
    reader_.allowed_keys(
        *obj,
        {"max_body_bytes", "max_json_depth", "max_string_bytes", "max_emit_depth", "max_ingest_queue_bytes",
         "retry", "dead_letter_max_rows", "dead_letter_max_rows_per_account", "dead_letter_max_age_s"},
        "limits");
    auto field = [&](std::string_view key, auto& out, std::uint64_t maximum) {
      const bj::value* value = obj->if_contains(key);
      if (!value) return;
      if (auto n = reader_.integer(*value, json::child_path("limits", key), 1, maximum))
        out = static_cast<std::remove_reference_t<decltype(out)>>(*n);
    };
    constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 32;  // 4 GiB: far beyond any real message
    field("max_body_bytes", config_.limits.max_body_bytes, kMaxBytes);
    field("max_json_depth", config_.limits.max_json_depth, 10000);
    field("max_string_bytes", config_.limits.max_string_bytes, kMaxBytes);
    field("max_emit_depth", config_.limits.max_emit_depth, 1000);
    field("max_ingest_queue_bytes", config_.limits.max_ingest_queue_bytes, std::uint64_t{1} << 40);
    if (const bj::value* retry = obj->if_contains("retry")) {
      if (const bj::object* r = reader_.object(*retry, "limits.retry"))
        read_retry_policy(reader_, *r, "limits.retry", config_.limits.retry);
    }
    // 0 turns a retention limit off, so these start at 0 rather than 1.
    auto retention = [&](std::string_view key, std::uint64_t& out) {
      if (const bj::value* value = obj->if_contains(key)) {
        if (auto n = reader_.integer(*value, json::child_path("limits", key), 0, std::uint64_t{1} << 40))
          out = *n;
      }
    };
    retention("dead_letter_max_rows", config_.limits.dead_letter_max_rows);
    retention("dead_letter_max_rows_per_account", config_.limits.dead_letter_max_rows_per_account);
    retention("dead_letter_max_age_s", config_.limits.dead_letter_max_age_s);
  }

  Config& config_;
  FieldReader reader_;
  StreamedAccounts streamed_;
};

// Only whitespace (read up to the first byte that is not).
bool blank(const TextPieces& text) {
  bool blank = true;
  std::string why;
  text.each(
      [&](std::string_view piece) {
        blank = piece.find_first_not_of(" \t\r\n") == std::string_view::npos;
        return blank;
      },
      why);
  return blank;
}

}  // namespace

void read_handler_specs(const bj::value& v, const std::string& path, std::vector<HandlerSpec>& out,
                        FieldReader& reader_) {
  const bj::object* obj = reader_.object(v, path);
  if (!obj) return;
  for (const auto& [name, value] : *obj) {
    if (!reader_.identifier_key(name, path, "handler name")) continue;
    HandlerSpec spec;
    spec.name = std::string(name);
    spec.path = json::child_path(path, name);
    const bj::object* h = reader_.object(value, spec.path);
    if (!h) continue;
    reader_.allowed_keys(*h, {"type", "options"}, spec.path);
    if (const bj::value* type = h->if_contains("type")) {
      if (auto t = reader_.identifier(*type, json::child_path(spec.path, "type"), "handler type"))
        spec.type = *t;
    } else {
      reader_.error(spec.path, "missing required key \"type\"");
    }
    if (const bj::value* options = h->if_contains("options")) {
      if (const bj::object* o = reader_.object(*options, json::child_path(spec.path, "options")))
        spec.options = *o;
    }
    out.push_back(std::move(spec));
  }
}

std::uint32_t worker_count(const Config& config) {
  if (config.workers != 0) return config.workers;
  const unsigned cores = std::thread::hardware_concurrency();  // 0 when unknown
  return std::clamp<std::uint32_t>(cores, 1, kMaxWorkers);
}

namespace {

// parse_config over a text in pieces, named by what in a message when it cannot be read.
LoadResult read_config(const TextPieces& text, std::string source, const std::string& what) {
  LoadResult result;
  // The document lives only while it is read: one arena, freed at once. What the Config keeps is
  // copied out into the default resource (strings, options, compiled step configs). The accounts
  // are not in it but read one at a time from a second pass over the text (config_document.hpp).
  ConfigDocument doc;
  json::ParseError parse_error;
  if (!parse_config_document(text, kMaxConfigDepth, doc, parse_error)) {
    if (parse_error.line == 0)
      result.errors.push_back({"", "cannot read " + what + ": " + parse_error.message});
    else if (blank(text))
      result.errors.push_back({"", "the config is empty: expected a JSON object (see docs/config.md)"});
    else
      result.errors.push_back({"", "invalid JSON: " + parse_error.message});
    return result;
  }
  const bj::object* top = doc.root.if_object();
  if (!top) {
    result.errors.push_back(
        {"", "the config must be a JSON object, got " + std::string(json::type_name(doc.root))});
    return result;
  }
  Config config;
  config.source = std::move(source);
  ConfigReader(config, result.errors, {&text, &doc}).read(*top);
  result.config = std::move(config);
  return result;
}

// Files up to this size are read whole; a larger one is read in pieces, twice (config_document.hpp).
constexpr std::size_t kWholeFileBytes = std::size_t{1} << 20;

// A regular file read in pieces from its start as often as asked.
class FilePieces final : public TextPieces {
 public:
  // fd is open on a regular file; opened is its fstat then.
  FilePieces(int fd, const struct stat& opened) : fd_(fd), opened_(opened) {}
  FilePieces(const FilePieces&) = delete;
  FilePieces& operator=(const FilePieces&) = delete;
  ~FilePieces() override { ::close(fd_); }

  bool each(const std::function<bool(std::string_view piece)>& take, std::string& why) const override {
    std::vector<char> buffer(kWholeFileBytes);
    Reading reading;
    for (off_t at = 0;;) {
      const ssize_t n = ::pread(fd_, buffer.data(), buffer.size(), at);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        why = std::strerror(errno);
        return false;
      }
      if (n == 0) {
        readings_.push_back(reading);  // a whole reading, to compare with the others
        return true;
      }
      const std::string_view piece(buffer.data(), static_cast<std::size_t>(n));
      reading.bytes += piece.size();
      reading.hash = (reading.hash * 1099511628211u) ^ std::hash<std::string_view>{}(piece);
      if (!take(piece)) return true;
      at += n;
    }
  }

  // The file was written to since it was opened: its size or modification time differ, or two
  // whole readings saw different bytes. The two passes may then have read different texts.
  bool changed() const {
    struct stat now {};
    if (::fstat(fd_, &now) != 0 || now.st_size != opened_.st_size ||
        now.st_mtim.tv_sec != opened_.st_mtim.tv_sec || now.st_mtim.tv_nsec != opened_.st_mtim.tv_nsec)
      return true;
    for (const Reading& reading : readings_)
      if (reading.bytes != readings_.front().bytes || reading.hash != readings_.front().hash) return true;
    return false;
  }

 private:
  struct Reading {
    std::uint64_t bytes = 0;
    std::uint64_t hash = 0;  // of its pieces' hashes, in order
  };

  int fd_;
  struct stat opened_;
  mutable std::vector<Reading> readings_;  // each whole reading so far
};

}  // namespace

LoadResult parse_config(std::string_view text, std::string source) {
  return read_config(WholeText(text), std::move(source), "the config");
}

LoadResult load_config_file(const std::filesystem::path& file) {
  LoadResult result;
  std::string name = json::quoted(file.string());
  std::error_code ec;
  auto status = std::filesystem::status(file, ec);
  if (!std::filesystem::exists(status)) {
    result.errors.push_back({"", "cannot read config file " + name + ": no such file"});
    return result;
  }
  if (std::filesystem::is_directory(status)) {
    result.errors.push_back({"", "cannot read config file " + name + ": it is a directory"});
    return result;
  }
  // A large regular file is read in pieces, twice, and never held whole (100,000 accounts: 85 MB).
  if (std::filesystem::is_regular_file(status)) {
    const std::uintmax_t size = std::filesystem::file_size(file, ec);
    if (!ec && size > kWholeFileBytes) {
      const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
      struct stat opened {};
      if (fd < 0 || ::fstat(fd, &opened) != 0) {
        result.errors.push_back({"", "cannot read config file " + name + ": " + std::strerror(errno)});
        if (fd >= 0) ::close(fd);
        return result;
      }
      const FilePieces pieces(fd, opened);
      result = read_config(pieces, file.string(), "config file " + name);
      if (pieces.changed()) {
        result.config.reset();
        result.errors = {{"", "config file " + name + " changed while it was read; load it again"}};
      }
      return result;
    }
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    result.errors.push_back({"", "cannot read config file " + name + ": " + std::strerror(errno)});
    return result;
  }
  std::string text;
  text.resize(static_cast<std::size_t>(std::filesystem::file_size(file, ec)));
  if (ec || !in.read(text.data(), static_cast<std::streamsize>(text.size())) || in.peek() != EOF) {
    // Unknown or changing size: read it the slow way.
    in.clear();
    in.seekg(0);
    std::ostringstream stream;
    stream << in.rdbuf();
    text = std::move(stream).str();
  }
  if (in.bad()) {
    result.errors.push_back({"", "cannot read config file " + name + ": read failed"});
    return result;
  }
  return read_config(WholeText(text), file.string(), "config file " + name);
}

}  // namespace vumi::config
