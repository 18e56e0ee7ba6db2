#include "admin/admin_api.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <functional>
#include <optional>
#include <vector>

#include "admin/api_dead_letters.hpp"
#include "admin/api_sample_event.hpp"
#include "admin/http_json.hpp"
#include "admin/metrics_text.hpp"
#include "admin/tokens.hpp"
#include "common/identifier.hpp"
#include "common/json.hpp"
#include "daemon/account_document.hpp"
#include "daemon/api_accounts.hpp"
#include "dispatch/dry_run.hpp"
#include "dispatch/run_history.hpp"
#include "plugin/plugin_registry.hpp"

namespace vumi::admin {

namespace bj = boost::json;
namespace http = boost::beast::http;
using http::status;

namespace {

constexpr std::size_t kMaxRequestDepth = 64;
constexpr std::size_t kDefaultHistory = 50;
constexpr std::size_t kMaxHistory = 1000;
// Runs kept in all accounts together, whatever admin.run_history says per account.
constexpr std::size_t kRunsInAll = 20000;

HttpResponse errors_response(status code, const std::vector<daemon::DocumentError>& errors) {
  bj::array list;
  for (const auto& e : errors) list.push_back(bj::object{{"path", e.path}, {"message", e.message}});
  return json_response(code, bj::object{{"errors", std::move(list)}});
}

HttpResponse error(status code, std::string message, std::string path = "") {
  return errors_response(code, {{std::move(path), std::move(message)}});
}

// "/api/accounts/a%3Ab/routes?x=1" -> {"api", "accounts", "a:b", "routes"} and the query.
std::vector<std::string> path_segments(std::string_view target, std::string& query) {
  std::size_t q = target.find('?');
  if (q != std::string_view::npos) {
    query = std::string(target.substr(q + 1));
    target = target.substr(0, q);
  }
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= target.size()) {
    std::size_t slash = target.find('/', start);
    if (slash == std::string_view::npos) slash = target.size();
    if (slash > start) out.push_back(percent_decode(target.substr(start, slash - start)));
    start = slash + 1;
  }
  return out;
}

// RFC 6902-style changes from a to b ("add", "remove", "replace"); arrays compare whole.
void json_diff(const bj::value& a, const bj::value& b, const std::string& path, bj::array& out) {
  if (a == b) return;
  if (a.is_object() && b.is_object()) {
    const auto& ao = a.get_object();
    const auto& bo = b.get_object();
    auto child = [&](std::string_view key) {
      std::string escaped;
      for (char c : key)
        escaped += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
      return path + "/" + escaped;
    };
    for (const auto& [key, value] : ao) {
      if (const bj::value* other = bo.if_contains(key))
        json_diff(value, *other, child(key), out);
      else
        out.push_back(bj::object{{"op", "remove"}, {"path", child(key)}});
    }
    for (const auto& [key, value] : bo)
      if (!ao.contains(key)) out.push_back(bj::object{{"op", "add"}, {"path", child(key)}, {"value", value}});
    return;
  }
  if (a.is_array() && b.is_array() && a.get_array().size() == b.get_array().size()) {
    for (std::size_t i = 0; i < a.get_array().size(); ++i)
      json_diff(a.get_array()[i], b.get_array()[i], path + "/" + std::to_string(i), out);
    return;
  }
  if (a.is_null()) {
    out.push_back(bj::object{{"op", "add"}, {"path", path}, {"value", b}});
  } else if (b.is_null()) {
    out.push_back(bj::object{{"op", "remove"}, {"path", path}});
  } else {
    out.push_back(bj::object{{"op", "replace"}, {"path", path}, {"value", b}});
  }
}

bj::value schema_or_null(const bj::value& v) {
  return v;
}

}  // namespace

struct AdminApi::Impl {
  Impl(transport::DaemonControl& d, daemon::AdminStore& s, config::AdminConfig c,
       const std::string& operator_token)
      : daemon(d),
        store(s),
        config(std::move(c)),
        runs(config.run_history, std::max(kRunsInAll, config.run_history)) {
    if (!operator_token.empty()) operator_hash = sha256_hex(operator_token);
    for (auto& account : store.accounts()) api_accounts.emplace(account.key, std::move(account));
    daemon.set_chain_observer(&runs);
  }
  ~Impl() { daemon.set_chain_observer(nullptr); }

  HttpResponse test_routes(const std::string& key, const HttpRequest& request);
  HttpResponse list_runs(const std::string& key, const std::string& query);

  HttpResponse handle(const HttpRequest& request);
  std::optional<Caller> authenticate(const HttpRequest& request);
  HttpResponse api(const Caller& caller, const HttpRequest& request, const std::vector<std::string>& path,
                   const std::string& query);
  HttpResponse accounts_collection(const Caller& caller, const HttpRequest& request);
  HttpResponse account_resource(const Caller& caller, const HttpRequest& request,
                                const std::vector<std::string>& path, const std::string& query);
  HttpResponse tokens(const Caller& caller, const HttpRequest& request, const std::vector<std::string>& path);
  HttpResponse plugins();
  HttpResponse cluster();  // GET /api/cluster: this member's shards (docs/scale-out.md)

  // The current document of an account, its ETag, and whether the file defines it.
  struct View {
    bj::object document;
    std::string etag;
    bool from_file = false;
    std::uint64_t version = 0;
  };
  std::optional<View> view(const std::string& key);

  // Writes the account's document as edited (null: delete) as its next version, live; If-Match is
  // checked first, and answer makes the response from the stored result.
  HttpResponse change(const Caller& caller, const HttpRequest& request, const std::string& key,
                      const std::function<std::optional<HttpResponse>(bj::value& document)>& edit,
                      const std::function<HttpResponse(const View&)>& answer, bool create = false,
                      bool adds_member = false);
  // change() with the whole document replaced by next (null: delete).
  HttpResponse replace(const Caller& caller, const HttpRequest& request, const std::string& key,
                       bj::value next, const std::function<HttpResponse(const View&)>& answer,
                       bool create = false);
  // The answer to a whole-document write: the document with its key, new version and extra fields.
  static std::function<HttpResponse(const View&)> written(const std::string& key, status code,
                                                          bj::object extra = {});

  std::optional<bj::value> parse_body(const HttpRequest& request, HttpResponse& failure);

  transport::DaemonControl& daemon;
  daemon::AdminStore& store;
  config::AdminConfig config;
  std::string operator_hash;
  std::map<std::string, daemon::StoredAccount> api_accounts;  // current versions, as stored
  dispatch::RunHistory runs;
};

HttpResponse AdminApi::Impl::test_routes(const std::string& key, const HttpRequest& request) {
  HttpResponse failure;
  auto body = parse_body(request, failure);
  if (!body) return failure;
  const bj::object* obj = body->if_object();
  if (!obj)
    return error(status::unprocessable_entity, "expected {\"event\": {...}} or {\"event_id\": \"...\"}");
  for (const auto& [k, v] : *obj)
    if (k != "event" && k != "event_id" && k != "account")
      return error(status::unprocessable_entity, "unknown key (allowed: account, event, event_id)",
                   "/" + std::string(k));
  // A draft of the account's document, validated as a save would be, tried in place of the saved one.
  std::shared_ptr<const dispatch::AccountRoutes> draft;
  if (const bj::value* document = obj->if_contains("account")) {
    std::vector<config::ConfigError> errors;
    auto spec = daemon::parse_account(key, *document, daemon.runtime().config().handlers, errors);
    if (spec) {
      auto built = daemon.runtime().build_account(std::move(*spec));
      if (built)
        draft = std::move(built).value();
      else
        errors.insert(errors.end(), built.error().begin(), built.error().end());
    }
    if (!draft) {
      auto list = daemon::document_errors(errors, "accounts." + key);
      for (auto& e : list) e.path = "/account" + e.path;
      return errors_response(status::unprocessable_entity, list);
    }
  }
  std::string event_text;
  if (const bj::value* event = obj->if_contains("event")) {
    if (!event->is_object()) return error(status::unprocessable_entity, "expected an object", "/event");
    const bj::value* account = event->get_object().if_contains("account_key");
    if (!account || !account->is_string() || account->get_string() != key)
      return error(status::unprocessable_entity, "the event's account_key must be \"" + key + "\"",
                   "/event/account_key");
    event_text = bj::serialize(*event);
  } else if (const bj::value* id = obj->if_contains("event_id")) {
    if (!id->is_string()) return error(status::unprocessable_entity, "expected a string", "/event_id");
    const dispatch::Run* run = runs.find(key, id->get_string());
    if (!run)
      return error(
          status::not_found,
          "no recent event \"" + std::string(id->get_string()) + "\" of account \"" + key + "\" (see /runs)",
          "/event_id");
    if (run->event.empty())
      return error(status::unprocessable_entity, "that event was too large to keep; send it as \"event\"",
                   "/event_id");
    event_text = run->event;
  } else {
    return error(status::unprocessable_entity, "expected {\"event\": {...}} or {\"event_id\": \"...\"}");
  }
  auto report = dispatch::dry_run(daemon.runtime(), event_text, &daemon.store(), draft);
  if (!report)
    return error(status::unprocessable_entity, report.error().message,
                 obj->contains("event") ? "/event" : "/event_id");
  return json_response(status::ok, *report);
}

HttpResponse AdminApi::Impl::list_runs(const std::string& key, const std::string& query) {
  dispatch::RunHistory::Filter filter;
  filter.event_type = query_param(query, "event_type");
  filter.conversation_key = query_param(query, "conversation_key");
  filter.event_id = query_param(query, "event_id");
  filter.status = query_param(query, "status");
  if (filter.status && *filter.status != "ok" && *filter.status != "failed" && *filter.status != "unrouted")
    return error(status::bad_request, "status must be ok, failed or unrouted", "?status");
  if (auto n = query_param(query, "limit")) {
    if (n->empty() || n->size() > 6 || n->find_first_not_of("0123456789") != std::string::npos)
      return error(status::bad_request, "limit must be a number", "?limit");
    filter.limit = std::stoul(*n);
  }
  bj::array list;
  for (const dispatch::Run* run : runs.runs(key, filter)) list.push_back(dispatch::RunHistory::to_json(*run));
  return json_response(status::ok, bj::object{{"key", key}, {"runs", std::move(list)}});
}

std::optional<Caller> AdminApi::Impl::authenticate(const HttpRequest& request) {
  auto header = request.find(http::field::authorization);
  if (header == request.end()) return std::nullopt;
  std::string_view value = header->value();
  constexpr std::string_view kBearer = "Bearer ";
  if (!value.starts_with(kBearer)) return std::nullopt;
  std::string hash = sha256_hex(value.substr(kBearer.size()));
  if (!operator_hash.empty() && hash == operator_hash) return Caller{"operator", ""};
  if (auto token = store.token_by_hash(hash)) return Caller{token->name, token->account};
  return std::nullopt;
}

std::optional<bj::value> AdminApi::Impl::parse_body(const HttpRequest& request, HttpResponse& failure) {
  json::ParseLimits limits;
  limits.max_depth = kMaxRequestDepth;
  bj::value body;
  json::ParseError parse_error;
  if (!json::parse(request.body(), limits, body, parse_error)) {
    failure = error(status::bad_request, "request body is not JSON: " + parse_error.message);
    return std::nullopt;
  }
  return body;
}

std::optional<AdminApi::Impl::View> AdminApi::Impl::view(const std::string& key) {
  auto running = daemon.runtime().routes().account_routes(key);
  if (running && running->spec.version == 0) {
    View v;
    v.document = daemon::account_document(running->spec);
    v.etag = "\"file-" + sha256_hex(bj::serialize(v.document)).substr(0, 16) + "\"";
    v.from_file = true;
    return v;
  }
  auto stored = api_accounts.find(key);
  if (stored == api_accounts.end()) return std::nullopt;
  View v;
  bj::value doc;
  json::ParseError ignored;
  if (json::parse(stored->second.document, {}, doc, ignored) && doc.is_object())
    v.document = doc.get_object();
  v.version = stored->second.version;
  v.etag = "\"" + std::to_string(v.version) + "\"";
  return v;
}

HttpResponse AdminApi::Impl::replace(const Caller& caller, const HttpRequest& request, const std::string& key,
                                     bj::value next, const std::function<HttpResponse(const View&)>& answer,
                                     bool create) {
  return change(
      caller, request, key,
      [&](bj::value& doc) -> std::optional<HttpResponse> {
        doc = std::move(next);
        return std::nullopt;
      },
      answer, create);
}

std::function<HttpResponse(const AdminApi::Impl::View&)> AdminApi::Impl::written(const std::string& key,
                                                                                 status code,
                                                                                 bj::object extra) {
  return [key, code, extra = std::move(extra)](const View& v) {
    bj::object out = v.document;
    out["key"] = key;
    out["version"] = v.version;
    for (const auto& [name, value] : extra) out[name] = value;
    return json_response(code, out, v.etag);
  };
}

HttpResponse AdminApi::Impl::change(
    const Caller& caller, const HttpRequest& request, const std::string& key,
    const std::function<std::optional<HttpResponse>(bj::value& document)>& edit,
    const std::function<HttpResponse(const View&)>& answer, bool create, bool adds_member) {
  std::optional<View> current = view(key);
  if (create && current) {
    return error(status::conflict, "account \"" + key + "\" exists already" +
                                       (current->from_file ? " (defined in the config file)" : ""));
  }
  if (!create && !current) return error(status::not_found, "no account \"" + key + "\"");
  if (current && current->from_file) {
    return error(status::conflict, "account \"" + key + "\" is defined in the config file " +
                                       daemon.runtime().config().source +
                                       "; edit the file and reload (SIGHUP), or manage it through the API "
                                       "after removing it from the file");
  }
  auto if_match = request.find(http::field::if_match);
  const std::string etag = current ? current->etag : "";
  if (if_match != request.end()) {
    if (if_match->value() != "*" && if_match->value() != etag)
      return error(status::precondition_failed, "If-Match " + std::string(if_match->value()) +
                                                    " is stale: account \"" + key + "\" is now at " + etag);
  } else if (!create && !adds_member &&
             (request.method() == http::verb::put || request.method() == http::verb::delete_)) {
    // Replacing or deleting what exists needs the version it was read at; adding a new member
    // (a tag, a conversation, a handler under a new name) cannot overwrite anyone's work.
    return error(
        status::precondition_required,
        "If-Match is required to change an existing resource (send the ETag you read, " + etag + ")");
  }

  bj::value document = current ? bj::value(current->document) : bj::value(bj::object{});
  if (auto refused = edit(document)) return *refused;
  const std::uint64_t version = current ? current->version : 0;
  dispatch::Runtime& runtime = daemon.runtime();

  std::shared_ptr<dispatch::AccountRoutes> built;
  if (!document.is_null()) {
    std::vector<config::ConfigError> errors;
    auto spec = daemon::parse_account(key, document, runtime.config().handlers, errors);
    if (spec) {
      spec->version = version + 1;
      auto [owner, tag] = daemon::tag_conflict(runtime, *spec);
      if (!owner.empty()) {
        std::size_t index = 0;
        while (index < spec->tags.size() && spec->tags[index] != tag) ++index;
        return errors_response(status::conflict,
                               {{"/tags/" + std::to_string(index),
                                 "tag \"" + tag + "\" is owned by account \"" + owner + "\""}});
      }
      auto validated = runtime.build_account(std::move(*spec));
      if (validated)
        built = std::move(validated).value();
      else
        errors.insert(errors.end(), validated.error().begin(), validated.error().end());
    }
    if (!built)
      return errors_response(status::unprocessable_entity,
                             daemon::document_errors(errors, "accounts." + key));
  }

  daemon::AccountVersion entry;
  entry.version = version + 1;
  entry.time = daemon::utc_now_iso8601();
  entry.token = caller.token_name;
  entry.document = bj::serialize(document);
  bj::array diff;
  json_diff(current ? bj::value(current->document) : bj::value(nullptr), document, "", diff);
  entry.diff = bj::serialize(diff);
  if (Expected<void> put = store.put_account(key, entry.document, version, entry); !put)
    return error(status::conflict, put.error().message);

  // Between two events of the loop: the account's next event sees the new routes, no other
  // account is touched.
  runtime.routes().replace_account(key, built);
  if (document.is_null()) {
    api_accounts.erase(key);
  } else {
    api_accounts[key] = daemon::StoredAccount{key, entry.document, entry.version};
  }
  spdlog::info("admin: account \"{}\" is now at version {} ({} by token \"{}\")", key, entry.version,
               document.is_null() ? "deleted" : "changed", caller.token_name);
  if (document.is_null()) {
    HttpResponse response{status::no_content, 11};
    return response;
  }
  View now{document.get_object(), "\"" + std::to_string(entry.version) + "\"", false, entry.version};
  return answer(now);
}

HttpResponse AdminApi::Impl::handle(const HttpRequest& request) {
  std::string query;
  std::vector<std::string> path = path_segments(request.target(), query);
  const bool get = request.method() == http::verb::get;

  if (path.size() == 1 && path[0] == "healthz") {
    if (!get) return error(status::method_not_allowed, "use GET");
    if (!config.public_metrics && !authenticate(request))
      return error(status::unauthorized, "a bearer token is required");
    return json_response(
        status::ok, bj::object{{"status", "ok"}, {"accounts", daemon.runtime().routes().account_count()}});
  }
  if (path.size() == 1 && path[0] == "metrics") {
    if (!get) return error(status::method_not_allowed, "use GET");
    if (!config.public_metrics && !authenticate(request))
      return error(status::unauthorized, "a bearer token is required");
    HttpResponse response{status::ok, 11};
    response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    response.body() = metrics_text(daemon, config.account_labels);
    return response;
  }
  if (path.empty() || path[0] != "api")
    return error(status::not_found, "no such resource: " + std::string(request.target()));
  if (path.size() == 2 && path[1] == "openapi.json") {
    if (!get) return error(status::method_not_allowed, "use GET");
    HttpResponse response{status::ok, 11};
    response.set(http::field::content_type, "application/json");
    response.body() = openapi_document();
    return response;
  }
  std::optional<Caller> caller = authenticate(request);
  if (!caller)
    return error(status::unauthorized, "a valid bearer token is required (Authorization: Bearer <token>)");
  return api(*caller, request, path, query);
}

HttpResponse AdminApi::Impl::api(const Caller& caller, const HttpRequest& request,
                                 const std::vector<std::string>& path, const std::string& query) {
  if (path.size() == 2 && path[1] == "plugins") {
    if (request.method() != http::verb::get) return error(status::method_not_allowed, "use GET");
    return plugins();
  }
  if (path.size() >= 2 && path[1] == "tokens") return tokens(caller, request, path);
  if (path.size() == 2 && path[1] == "cluster") {
    if (request.method() != http::verb::get) return error(status::method_not_allowed, "use GET");
    return cluster();
  }
  if (path.size() == 2 && path[1] == "accounts") return accounts_collection(caller, request);
  if (path.size() >= 3 && path[1] == "accounts") {
    if (!caller.may_access(path[2]))
      return error(status::forbidden, "token \"" + caller.token_name + "\" is for account \"" +
                                          caller.account + "\", not \"" + path[2] + "\"");
    return account_resource(caller, request, path, query);
  }
  return error(status::not_found, "no such resource: " + std::string(request.target()));
}

HttpResponse AdminApi::Impl::cluster() {
  const std::vector<transport::DaemonControl::ShardFigures> figures = daemon.shard_figures();
  if (figures.empty())
    return error(status::not_found,
                 "this dispatcher is not in a cluster (its config has no \"cluster\" section)");
  bj::array shards;
  for (const auto& f : figures) {
    shards.push_back(bj::object{{"shard", f.shard},
                                {"held", f.held},
                                {"handled", f.handled},
                                {"outbox_unsent", f.outbox_waiting},
                                {"retries_waiting", f.retries_waiting}});
  }
  return json_response(status::ok, bj::object{{"name", daemon.cluster_name()},
                                              {"not_owner", daemon.dispatch_counters().not_owner},
                                              {"shards", std::move(shards)}});
}

HttpResponse AdminApi::Impl::plugins() {
  bj::array list;
  for (const auto& entry : daemon.runtime().plugins().plugins()) {
    bj::array types;
    for (const auto& type : entry.types) {
      types.push_back(bj::object{{"name", type->name},
                                 {"description", type->description},
                                 {"output", type->output_description},
                                 {"options_schema", schema_or_null(type->options_schema)},
                                 {"step_schema", schema_or_null(type->step_schema)}});
    }
    list.push_back(bj::object{
        {"name", entry.plugin->name()},
        {"version", entry.plugin->version()},
        {"file", entry.plugin->file().string()},
        {"abi", std::to_string(entry.plugin->abi_major()) + "." + std::to_string(entry.plugin->abi_minor())},
        {"handler_types", std::move(types)}});
  }
  bj::object handlers;
  for (const auto& h : daemon.runtime().config().handlers)
    handlers[h.name] = bj::object{{"type", h.type}, {"options", h.options}};
  return json_response(status::ok,
                       bj::object{{"plugins", std::move(list)}, {"global_handlers", std::move(handlers)}});
}

HttpResponse AdminApi::Impl::accounts_collection(const Caller& caller, const HttpRequest& request) {
  if (request.method() == http::verb::get) {
    bj::array list;
    auto add = [&](const std::string& key, bool from_file, std::uint64_t version) {
      if (caller.may_access(key))
        list.push_back(
            bj::object{{"key", key}, {"source", from_file ? "file" : "api"}, {"version", version}});
    };
    const auto& routes = daemon.runtime().routes();
    for (const auto& key : routes.account_keys()) {
      auto account = routes.account_routes(key);
      add(key, account->spec.version == 0, account->spec.version);
    }
    for (const auto& [key, stored] : api_accounts)
      if (!routes.account_routes(key)) add(key, false, stored.version);  // stored, but not applied
    return json_response(status::ok, bj::object{{"accounts", std::move(list)}});
  }
  if (request.method() != http::verb::post) return error(status::method_not_allowed, "use GET or POST");
  if (!caller.is_operator()) return error(status::forbidden, "only the operator token may create accounts");
  HttpResponse failure;
  auto body = parse_body(request, failure);
  if (!body) return failure;
  if (!body->is_object()) return error(status::unprocessable_entity, "expected an object with \"key\"");
  bj::object document = body->get_object();
  const bj::value* key_value = document.if_contains("key");
  if (!key_value || !key_value->is_string())
    return error(status::unprocessable_entity, "missing required string \"key\"", "/key");
  std::string key(key_value->get_string());
  if (auto checked = check_identifier(key); !checked)
    return error(status::unprocessable_entity, "account key " + checked.error().message, "/key");
  document.erase("key");
  return replace(caller, request, key, std::move(document), written(key, status::created), true);
}

HttpResponse AdminApi::Impl::account_resource(const Caller& caller, const HttpRequest& request,
                                              const std::vector<std::string>& path,
                                              const std::string& query) {
  const std::string& key = path[2];
  const http::verb method = request.method();
  auto current = view(key);
  if (!current && !(path.size() == 4 && path[3] == "history"))
    return error(status::not_found, "no account \"" + key + "\"");

  auto body_object = [&](HttpResponse& failure) -> std::optional<bj::value> {
    return parse_body(request, failure);
  };

  // /api/accounts/{key}
  if (path.size() == 3) {
    auto show = [&](const View& v) {
      bj::object out = v.document;
      out["key"] = key;
      out["source"] = v.from_file ? "file" : "api";
      out["version"] = v.version;
      return json_response(status::ok, out, v.etag);
    };
    if (method == http::verb::get) return show(*current);
    if (method == http::verb::put) {
      HttpResponse failure;
      auto body = body_object(failure);
      if (!body) return failure;
      if (body->is_object()) {
        // Read-only fields a client may send back unchanged.
        body->get_object().erase("key");
        body->get_object().erase("source");
        body->get_object().erase("version");
      }
      return replace(caller, request, key, std::move(*body), show);
    }
    if (method == http::verb::delete_) {
      if (!caller.is_operator())
        return error(status::forbidden, "only the operator token may delete accounts");
      return replace(caller, request, key, nullptr, show);
    }
    return error(status::method_not_allowed, "use GET, PUT or DELETE");
  }

  const std::string& collection = path[3];
  if (collection == "history" && path.size() == 4) {
    if (method != http::verb::get) return error(status::method_not_allowed, "use GET");
    std::size_t limit = kDefaultHistory;
    if (auto n = query_param(query, "limit")) {
      try {
        limit = std::min<std::size_t>(std::stoul(*n), kMaxHistory);
      } catch (const std::exception&) {
        return error(status::bad_request, "limit must be a number", "?limit");
      }
    }
    bj::array list;
    for (const auto& v : store.history(key, limit)) {
      bj::value diff;
      json::ParseError ignored;
      json::parse(v.diff, {}, diff, ignored);
      list.push_back(
          bj::object{{"version", v.version}, {"time", v.time}, {"token", v.token}, {"diff", diff}});
    }
    if (list.empty() && !current) return error(status::not_found, "no account \"" + key + "\"");
    return json_response(status::ok, bj::object{{"key", key}, {"versions", std::move(list)}});
  }
  if (collection == "runs" && path.size() == 4) {
    if (method != http::verb::get) return error(status::method_not_allowed, "use GET");
    return list_runs(key, query);
  }
  if (collection == "sample-event" && path.size() == 4) {
    if (method != http::verb::get) return error(status::method_not_allowed, "use GET");
    return sample_event(runs, key, query);
  }
  if (collection == "dead-letters" && path.size() == 4) {
    if (method != http::verb::get) return error(status::method_not_allowed, "use GET");
    return admin::list_dead_letters(daemon, key,
                                    [&](std::string_view name) { return query_param(query, name); });
  }
  if (collection == "dead-letters" && path.size() == 5 && path[4] == "replay") {
    if (method != http::verb::post) return error(status::method_not_allowed, "use POST");
    HttpResponse failure;
    auto body = body_object(failure);
    if (!body) return failure;
    return replay_dead_letters(daemon, key, *body, caller.token_name);
  }
  if (collection == "routes" && path.size() == 5 && path[4] == "test") {
    if (method != http::verb::post) return error(status::method_not_allowed, "use POST");
    return test_routes(key, request);
  }
  if (collection == "rollback" && path.size() == 4) {
    if (method != http::verb::post) return error(status::method_not_allowed, "use POST");
    HttpResponse failure;
    auto body = body_object(failure);
    if (!body) return failure;
    const bj::value* number = body->is_object() ? body->get_object().if_contains("version") : nullptr;
    if (!number || !number->is_int64() || number->get_int64() < 1)
      return error(status::unprocessable_entity, "expected {\"version\": N} with N >= 1", "/version");
    if (body->get_object().size() != 1)
      return error(status::unprocessable_entity, "only \"version\" is allowed in a rollback");
    auto old = store.version(key, static_cast<std::uint64_t>(number->get_int64()));
    if (!old)
      return error(status::not_found,
                   "account \"" + key + "\" has no version " + std::to_string(number->get_int64()),
                   "/version");
    bj::value restored;
    json::ParseError ignored;
    json::parse(old->document, {}, restored, ignored);
    return replace(caller, request, key, std::move(restored),
                   written(key, status::ok, {{"restored_from", number->get_int64()}}));
  }

  // Sub-resources: each answer carries the account's ETag (one version for the whole account).
  auto answer_member = [&](std::string_view member, const std::optional<std::string>& name, status code) {
    return [this, member = std::string(member), name, code, &key](const View& v) {
      const bj::value* value = v.document.if_contains(member);
      bj::value out = value ? *value : bj::value(nullptr);
      if (name) {
        if (out.is_object()) {
          const bj::value* item = out.get_object().if_contains(*name);
          out = item ? *item : bj::value(nullptr);
        } else if (out.is_array()) {
          std::size_t i = std::stoul(*name);
          out = i < out.get_array().size() ? out.get_array()[i] : bj::value(nullptr);
          if (out.is_object()) out.get_object()["index"] = i;
        } else {
          out = nullptr;
        }
      }
      (void)key;
      (void)this;
      return json_response(code, out, v.etag);
    };
  };

  auto member_of = [](bj::value& doc, std::string_view member, bool array) -> bj::value& {
    bj::object& obj = doc.as_object();
    if (!obj.contains(member)) obj[member] = array ? bj::value(bj::array{}) : bj::value(bj::object{});
    return obj[member];
  };

  if (collection == "conversations" || collection == "handlers") {
    const bool conversations = collection == "conversations";
    if (path.size() == 4) {
      if (method == http::verb::get) {
        const bj::value* value = current->document.if_contains(collection);
        return json_response(status::ok, value ? *value : bj::value(bj::object{}), current->etag);
      }
      if (method == http::verb::post && !conversations) {
        HttpResponse failure;
        auto body = body_object(failure);
        if (!body) return failure;
        if (!body->is_object())
          return error(status::unprocessable_entity,
                       "expected an object with \"name\", \"type\", \"options\"");
        bj::object handler = body->get_object();
        const bj::value* name = handler.if_contains("name");
        if (!name || !name->is_string())
          return error(status::unprocessable_entity, "missing required string \"name\"", "/name");
        std::string handler_name(name->get_string());
        handler.erase("name");
        return change(
            caller, request, key,
            [&](bj::value& doc) -> std::optional<HttpResponse> {
              bj::value& handlers = member_of(doc, "handlers", false);
              if (!handlers.is_object()) return std::nullopt;  // the validator names it
              if (handlers.get_object().contains(handler_name))
                return error(status::conflict,
                             "account \"" + key + "\" has a handler \"" + handler_name + "\" already",
                             "/name");
              handlers.get_object()[handler_name] = handler;
              return std::nullopt;
            },
            answer_member("handlers", handler_name, status::created));
      }
      if (method == http::verb::put && conversations) {
        HttpResponse failure;
        auto body = body_object(failure);
        if (!body) return failure;
        return change(
            caller, request, key,
            [&](bj::value& doc) -> std::optional<HttpResponse> {
              doc.as_object()["conversations"] = *body;
              return std::nullopt;
            },
            answer_member("conversations", std::nullopt, status::ok));
      }
      return error(status::method_not_allowed, conversations ? "use GET or PUT" : "use GET or POST");
    }
    if (path.size() == 5) {
      const std::string& name = path[4];
      const bj::value* members = current->document.if_contains(collection);
      const bool exists = members && members->is_object() && members->get_object().contains(name);
      if (method == http::verb::get) {
        if (!exists)
          return error(status::not_found, "account \"" + key + "\" has no " +
                                              (conversations ? "conversation" : "handler") + " \"" + name +
                                              "\"");
        return json_response(status::ok, members->get_object().at(name), current->etag);
      }
      if (method == http::verb::put) {
        HttpResponse failure;
        auto body = body_object(failure);
        if (!body) return failure;
        return change(
            caller, request, key,
            [&](bj::value& doc) -> std::optional<HttpResponse> {
              bj::value& m = member_of(doc, collection, false);
              if (m.is_object()) m.get_object()[name] = *body;
              return std::nullopt;
            },
            answer_member(collection, name, exists ? status::ok : status::created), false, !exists);
      }
      if (method == http::verb::delete_) {
        if (!exists)
          return error(status::not_found, "account \"" + key + "\" has no " +
                                              (conversations ? "conversation" : "handler") + " \"" + name +
                                              "\"");
        return change(
            caller, request, key,
            [&](bj::value& doc) -> std::optional<HttpResponse> {
              doc.as_object()[collection].as_object().erase(name);
              return std::nullopt;
            },
            [](const View&) {
              return HttpResponse{status::no_content, 11};
            });
      }
      return error(status::method_not_allowed, "use GET, PUT or DELETE");
    }
  }

  if (collection == "tags") {
    if (path.size() == 4) {
      if (method != http::verb::get) return error(status::method_not_allowed, "use GET");
      const bj::value* value = current->document.if_contains("tags");
      return json_response(status::ok, value ? *value : bj::value(bj::array{}), current->etag);
    }
    if (path.size() == 5) {
      const std::string& tag = path[4];
      const bj::value* tags = current->document.if_contains("tags");
      bool owned = false;
      if (tags && tags->is_array())
        for (const auto& t : tags->get_array()) owned = owned || (t.is_string() && t.get_string() == tag);
      if (method == http::verb::get) {
        if (!owned)
          return error(status::not_found, "account \"" + key + "\" does not own tag \"" + tag + "\"");
        return json_response(status::ok, bj::value(tag), current->etag);
      }
      if (method == http::verb::put) {
        if (owned) return json_response(status::ok, bj::value(tag), current->etag);
        return change(
            caller, request, key,
            [&](bj::value& doc) -> std::optional<HttpResponse> {
              bj::value& t = member_of(doc, "tags", true);
              if (t.is_array()) t.get_array().push_back(bj::string(tag));
              return std::nullopt;
            },
            [&](const View& v) { return json_response(status::created, bj::value(tag), v.etag); }, false,
            true);
      }
      if (method == http::verb::delete_) {
        if (!owned)
          return error(status::not_found, "account \"" + key + "\" does not own tag \"" + tag + "\"");
        return change(
            caller, request, key,
            [&](bj::value& doc) -> std::optional<HttpResponse> {
              bj::array& t = doc.as_object()["tags"].as_array();
              for (auto it = t.begin(); it != t.end(); ++it)
                if (it->is_string() && it->get_string() == tag) {
                  t.erase(it);
                  break;
                }
              return std::nullopt;
            },
            [](const View&) {
              return HttpResponse{status::no_content, 11};
            });
      }
      return error(status::method_not_allowed, "use GET, PUT or DELETE");
    }
  }

  if (collection == "routes") {
    const bj::value* routes = current->document.if_contains("routes");
    const std::size_t count = routes && routes->is_array() ? routes->get_array().size() : 0;
    if (path.size() == 4) {
      if (method == http::verb::get)
        return json_response(status::ok, routes ? *routes : bj::value(bj::array{}), current->etag);
      if (method == http::verb::post) {
        HttpResponse failure;
        auto body = body_object(failure);
        if (!body) return failure;
        return change(
            caller, request, key,
            [&](bj::value& doc) -> std::optional<HttpResponse> {
              bj::value& r = member_of(doc, "routes", true);
              if (r.is_array()) r.get_array().push_back(*body);
              return std::nullopt;
            },
            answer_member("routes", std::to_string(count), status::created));
      }
      return error(status::method_not_allowed, "use GET or POST");
    }
    if (path.size() == 5) {
      std::size_t index = 0;
      const std::string& text = path[4];
      if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos)
        return error(status::not_found, "route index must be a number, got \"" + text + "\"");
      index = std::stoul(text);
      if (index >= count)
        return error(status::not_found,
                     "account \"" + key + "\" has " + std::to_string(count) + " route(s); no route " + text);
      if (method == http::verb::get) {
        bj::value out = routes->get_array()[index];
        if (out.is_object()) out.get_object()["index"] = index;
        return json_response(status::ok, out, current->etag);
      }
      if (method == http::verb::put) {
        HttpResponse failure;
        auto body = body_object(failure);
        if (!body) return failure;
        if (body->is_object()) body->get_object().erase("index");
        return change(
            caller, request, key,
            [&](bj::value& doc) -> std::optional<HttpResponse> {
              doc.as_object()["routes"].as_array()[index] = *body;
              return std::nullopt;
            },
            answer_member("routes", text, status::ok));
      }
      if (method == http::verb::delete_) {
        return change(
            caller, request, key,
            [&](bj::value& doc) -> std::optional<HttpResponse> {
              bj::array& r = doc.as_object()["routes"].as_array();
              r.erase(r.begin() + static_cast<std::ptrdiff_t>(index));
              return std::nullopt;
            },
            [](const View&) {
              return HttpResponse{status::no_content, 11};
            });
      }
      return error(status::method_not_allowed, "use GET, PUT or DELETE");
    }
  }
  return error(status::not_found, "no such resource: " + std::string(request.target()));
}

HttpResponse AdminApi::Impl::tokens(const Caller& caller, const HttpRequest& request,
                                    const std::vector<std::string>& path) {
  if (!caller.is_operator()) return error(status::forbidden, "only the operator token may manage tokens");
  if (path.size() == 2) {
    if (request.method() == http::verb::get) {
      bj::array list;
      for (const auto& t : store.tokens())
        list.push_back(bj::object{{"name", t.name}, {"account", t.account}, {"created", t.created}});
      return json_response(status::ok, bj::object{{"tokens", std::move(list)}});
    }
    if (request.method() == http::verb::post) {
      HttpResponse failure;
      auto body = parse_body(request, failure);
      if (!body) return failure;
      const bj::object* obj = body->if_object();
      if (!obj) return error(status::unprocessable_entity, "expected {\"name\": ..., \"account\": ...}");
      std::vector<daemon::DocumentError> errors;
      for (const auto& [k, v] : *obj)
        if (k != "name" && k != "account")
          errors.push_back({"/" + std::string(k), "unknown key (allowed: account, name)"});
      const bj::value* name = obj->if_contains("name");
      const bj::value* account = obj->if_contains("account");
      if (!name || !name->is_string()) errors.push_back({"/name", "missing required string"});
      if (!account || !account->is_string()) errors.push_back({"/account", "missing required string"});
      if (!errors.empty()) return errors_response(status::unprocessable_entity, errors);
      auto secret =
          create_account_token(store, std::string(name->get_string()), std::string(account->get_string()));
      if (!secret) {
        const std::string& why = secret.error().message;
        return error(
            why.find("exists") != std::string::npos ? status::conflict : status::unprocessable_entity, why);
      }
      return json_response(
          status::created,
          bj::object{{"name", name->get_string()}, {"account", account->get_string()}, {"token", *secret}});
    }
    return error(status::method_not_allowed, "use GET or POST");
  }
  if (path.size() == 3) {
    if (request.method() != http::verb::delete_) return error(status::method_not_allowed, "use DELETE");
    if (!store.remove_token(path[2])) return error(status::not_found, "no token \"" + path[2] + "\"");
    return HttpResponse{status::no_content, 11};
  }
  return error(status::not_found, "no such resource: " + std::string(request.target()));
}

AdminApi::AdminApi(transport::DaemonControl& daemon, daemon::AdminStore& store, config::AdminConfig config,
                   const std::string& operator_token)
    : impl_(std::make_shared<Impl>(daemon, store, std::move(config), operator_token)) {}

HttpResponse AdminApi::handle(const HttpRequest& request) {
  return impl_->handle(request);
}

void AdminApi::reconcile(dispatch::Runtime& next) {
  std::vector<daemon::StoredAccount> changed;
  for (const auto& [key, stored] : impl_->api_accounts) {
    auto built = next.routes().account_routes(key);
    if (!built || built->spec.version != stored.version) changed.push_back(stored);
  }
  // Accounts deleted through the API while the reload was built.
  for (const auto& key : next.routes().account_keys()) {
    auto built = next.routes().account_routes(key);
    if (built->spec.version != 0 && !impl_->api_accounts.contains(key))
      next.routes().replace_account(key, nullptr);
  }
  std::vector<std::string> problems;
  daemon::apply_api_accounts(next, changed, problems);
  for (const auto& p : problems) spdlog::error("reload: {}", p);
}

}  // namespace vumi::admin
