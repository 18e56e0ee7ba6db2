#include "config/security_reader.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "common/json.hpp"

namespace vumi::config {

namespace bj = boost::json;

namespace {

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
constexpr std::size_t kZ85KeyLength = 40;

// A list of identifiers or "*" ("commands" also takes false for none). all is set for "*".
void identifier_list(const bj::object& obj, std::string_view key, const std::string& parent, bool allow_false,
                     bool& all, std::vector<std::string>& out, FieldReader& reader) {
  const bj::value* v = obj.if_contains(key);
  if (!v) return;
  const std::string path = json::child_path(parent, key);
  if (v->is_string() && v->get_string() == "*") {
    all = true;
    return;
  }
  if (allow_false && v->is_bool() && !v->get_bool()) return;
  const bj::array* arr = v->if_array();
  if (!arr) {
    reader.error(path,
                 expected(allow_false ? "array of names, \"*\" or false" : "array of names or \"*\"", *v));
    return;
  }
  for (std::size_t i = 0; i < arr->size(); ++i) {
    if (auto name = reader.identifier((*arr)[i], json::index_path(path, i), "name")) out.push_back(*name);
  }
}

// Calls entry(key, value, entry_path) for each member of the object at path whose key is a CURVE
// public key; a member with any other key is reported.
template <typename Entry>
void for_each_curve_key(const bj::value& v, const std::string& path, FieldReader& reader, Entry&& entry) {
  const bj::object* obj = reader.object(v, path);
  if (!obj) return;
  for (const auto& [key, value] : *obj) {
    const std::string entry_path = json::child_path(path, key);
    if (auto checked = check_curve_key(key); !checked) {
      reader.error(entry_path, "the key " + checked.error().message);
      continue;
    }
    entry(std::string(key), value, entry_path);
  }
}

void read_publishers(const bj::value& v, const std::string& path, SecurityConfig& out, FieldReader& reader) {
  for_each_curve_key(
      v, path, reader, [&](std::string key, const bj::value& value, const std::string& entry_path) {
        const bj::object* rights = reader.object(value, entry_path);
        if (!rights) return;
        reader.allowed_keys(*rights, {"name", "accounts", "commands", "transports"}, entry_path);
        PublisherRights publisher;
        publisher.public_key = std::move(key);
        publisher.name = publisher.public_key.substr(0, 8);
        if (const bj::value* name = rights->if_contains("name")) {
          if (auto text = reader.string(*name, json::child_path(entry_path, "name"))) publisher.name = *text;
        }
        if (!rights->contains("accounts"))
          reader.error(entry_path, "missing required key \"accounts\" (a list of account keys, or \"*\")");
        identifier_list(*rights, "accounts", entry_path, false, publisher.all_accounts, publisher.accounts,
                        reader);
        identifier_list(*rights, "commands", entry_path, true, publisher.all_commands, publisher.commands,
                        reader);
        identifier_list(*rights, "transports", entry_path, false, publisher.all_transports,
                        publisher.transports, reader);
        out.publishers.push_back(std::move(publisher));
      });
}

void read_subscribers(const bj::value& v, const std::string& path, SecurityConfig& out, FieldReader& reader) {
  for_each_curve_key(v, path, reader,
                     [&](std::string key, const bj::value& value, const std::string& entry_path) {
                       const bj::array* arr = value.if_array();
                       if (!arr) {
                         reader.error(entry_path, expected("array of topic prefixes", value));
                         return;
                       }
                       SubscriberRights subscriber;
                       subscriber.public_key = std::move(key);
                       for (std::size_t i = 0; i < arr->size(); ++i) {
                         if (auto prefix = reader.string((*arr)[i], json::index_path(entry_path, i)))
                           subscriber.prefixes.push_back(*prefix);
                       }
                       out.subscribers.push_back(std::move(subscriber));
                     });
}

}  // namespace

Expected<void> check_curve_key(std::string_view text) {
  if (text.size() != kZ85KeyLength)
    return fail(ErrorCode::invalid, "is " + std::to_string(text.size()) +
                                        " characters long; a Z85 CURVE key has 40 (see keygen)");
  for (char c : text) {
    if (kZ85Alphabet.find(c) == std::string_view::npos)
      return fail(ErrorCode::invalid, std::string("contains '") + c + "', which is not a Z85 character");
  }
  return {};
}

bool is_local_endpoint(std::string_view endpoint) {
  if (endpoint.starts_with("ipc://") || endpoint.starts_with("inproc://")) return true;
  if (!endpoint.starts_with("tcp://")) return false;
  std::string_view address = endpoint.substr(6);
  const std::size_t colon = address.rfind(':');
  std::string_view host = colon == std::string_view::npos ? address : address.substr(0, colon);
  return host.starts_with("127.") || host == "localhost" || host == "[::1]" || host == "lo";
}

void read_security(const bj::value& v, const std::filesystem::path& config_dir, SecurityConfig& out,
                   FieldReader& reader) {
  const bj::object* obj = reader.object(v, "security");
  if (!obj) return;
  reader.allowed_keys(*obj, {"secret_key_file", "publishers", "subscribers", "allow_insecure"}, "security");
  if (const bj::value* file = obj->if_contains("secret_key_file")) {
    if (auto text = reader.string(*file, "security.secret_key_file")) {
      if (text->empty()) {
        reader.error("security.secret_key_file", "must not be empty");
      } else {
        std::filesystem::path path(*text);
        out.secret_key_file = path.is_relative() ? config_dir / path : path;
      }
    }
  }
  if (const bj::value* allow = obj->if_contains("allow_insecure")) {
    if (allow->is_bool()) {
      out.allow_insecure = allow->get_bool();
    } else {
      reader.error("security.allow_insecure", expected("true or false", *allow));
    }
  }
  if (const bj::value* p = obj->if_contains("publishers"))
    read_publishers(*p, "security.publishers", out, reader);
  if (const bj::value* s = obj->if_contains("subscribers"))
    read_subscribers(*s, "security.subscribers", out, reader);
  if (!obj->contains("secret_key_file") && (!out.publishers.empty() || !out.subscribers.empty()))
    reader.error("security",
                 "publishers and subscribers need \"secret_key_file\" (the daemon's CURVE secret key)");
}

void check_insecure_binds(const Config& config, FieldReader& reader) {
  if (config.security.curve() || config.security.allow_insecure) return;
  auto check = [&](const char* path, const std::string& endpoint) {
    if (is_local_endpoint(endpoint)) return;
    reader.error(path, json::quoted(endpoint) +
                           " is reachable from other machines, but without security.secret_key_file nothing "
                           "authenticates publishers or listeners; bind 127.0.0.1, set up CURVE "
                           "(docs/security.md) or set \"security\": {\"allow_insecure\": true}");
  };
  check("ingest.bind", config.ingest_bind);
  check("outbound.bind", config.outbound_bind);
}

}  // namespace vumi::config
