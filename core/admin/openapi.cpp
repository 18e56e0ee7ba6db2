// The OpenAPI 3 document served at /api/openapi.json; tests/admin checks that it lists exactly the
// methods the server answers on each path.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "admin/admin_api.hpp"

namespace vumi::admin {

namespace bj = boost::json;

namespace {

bj::object ref(std::string_view name) {
  return bj::object{{"$ref", "#/components/schemas/" + std::string(name)}};
}

bj::object json_content(bj::object schema) {
  return bj::object{{"application/json", bj::object{{"schema", std::move(schema)}}}};
}

bj::object response(std::string_view description, std::optional<bj::object> schema = std::nullopt) {
  bj::object out{{"description", description}};
  if (schema) out["content"] = json_content(std::move(*schema));
  return out;
}

// One operation; body names a schema for the request body (empty: none).
bj::object operation(std::string_view summary, std::string_view ok_code, bj::object ok,
                     std::string_view body = "", bool secured = true) {
  bj::object responses{{ok_code, std::move(ok)}};
  responses["default"] = response("An error: {\"errors\": [{\"path\", \"message\"}]}", ref("Errors"));
  bj::object op{{"summary", summary}, {"responses", std::move(responses)}};
  if (!body.empty()) op["requestBody"] = bj::object{{"required", true}, {"content", json_content(ref(body))}};
  if (!secured) op["security"] = bj::array{};
  return op;
}

bj::object parameter(std::string_view name, std::string_view description) {
  return bj::object{{"name", name},
                    {"in", "path"},
                    {"required", true},
                    {"description", description},
                    {"schema", bj::object{{"type", "string"}}}};
}

bj::object path_item(std::initializer_list<std::pair<std::string_view, bj::object>> operations,
                     std::initializer_list<std::pair<std::string_view, std::string_view>> params = {}) {
  bj::object item;
  for (auto& [method, op] : operations) item[method] = op;
  if (params.size() != 0) {
    bj::array list;
    for (auto& [name, description] : params) list.push_back(parameter(name, description));
    item["parameters"] = std::move(list);
  }
  return item;
}

bj::object build() {
  const auto account = ref("Account");
  const auto any = bj::object{};
  const std::pair<std::string_view, std::string_view> key{"key", "account key"};
  bj::object paths;
  paths["/healthz"] = path_item({{"get", operation("Liveness", "200", response("OK", any), "", false)}});
  paths["/metrics"] = path_item(
      {{"get", operation("Prometheus text exposition format 0.0.4", "200", response("metrics"), "", false)}});
  paths["/api/openapi.json"] =
      path_item({{"get", operation("This document", "200", response("OpenAPI 3", any), "", false)}});
  paths["/api/plugins"] = path_item(
      {{"get", operation("Plugins, their handler types with option and step schemas, and the global handlers",
                         "200", response("plugins", any))}});
  paths["/api/cluster"] = path_item(
      {{"get",
        operation("This cluster member's shards: held, handled, outbox and retries waiting (404 when not "
                  "in a cluster)",
                  "200", response("shards", any))}});
  paths["/api/tokens"] =
      path_item({{"get", operation("Account tokens (operator only)", "200", response("tokens", any))},
                 {"post", operation("Create an account token; the secret is in the answer, once", "201",
                                    response("created", ref("TokenCreated")), "TokenRequest")}});
  paths["/api/tokens/{name}"] = path_item(
      {{"delete", operation("Revoke a token", "204", response("revoked"))}}, {{"name", "token name"}});
  paths["/api/accounts"] =
      path_item({{"get", operation("Accounts the token may see", "200", response("accounts", any))},
                 {"post", operation("Create an account (operator only)", "201", response("created", account),
                                    "AccountWithKey")}});
  paths["/api/accounts/{key}"] = path_item(
      {{"get", operation("An account (ETag)", "200", response("the account", account))},
       {"put", operation("Replace an account (If-Match)", "200", response("changed", account), "Account")},
       {"delete", operation("Delete an account (operator only, If-Match)", "204", response("deleted"))}},
      {key});
  paths["/api/accounts/{key}/conversations"] = path_item(
      {{"get", operation("conversation_key -> conversation_type", "200", response("conversations", any))},
       {"put",
        operation("Replace the conversations (If-Match)", "200", response("changed", any), "Conversations")}},
      {key});
  paths["/api/accounts/{key}/conversations/{conversation_key}"] = path_item(
      {{"get", operation("A conversation's type", "200", response("type", any))},
       {"put", operation("Declare a conversation (If-Match)", "200", response("changed", any), "Any")},
       {"delete", operation("Remove a conversation (If-Match)", "204", response("removed"))}},
      {key, {"conversation_key", "conversation key"}});
  paths["/api/accounts/{key}/tags"] =
      path_item({{"get", operation("Tags the account owns", "200", response("tags", any))}}, {key});
  paths["/api/accounts/{key}/tags/{tag}"] =
      path_item({{"get", operation("Whether the account owns a tag", "200", response("the tag", any))},
                 {"put", operation("Claim a tag (409 naming the owner when another account has it)", "201",
                                   response("claimed", any))},
                 {"delete", operation("Release a tag (If-Match)", "204", response("released"))}},
                {key, {"tag", "\"pool:tag\", percent-encoded"}});
  paths["/api/accounts/{key}/handlers"] =
      path_item({{"get", operation("The account's handler instances", "200", response("handlers", any))},
                 {"post", operation("Create a handler instance: {name, type, options}", "201",
                                    response("created", ref("Handler")), "HandlerWithName")}},
                {key});
  paths["/api/accounts/{key}/handlers/{name}"] =
      path_item({{"get", operation("A handler instance", "200", response("handler", ref("Handler")))},
                 {"put", operation("Replace a handler instance (If-Match)", "200",
                                   response("changed", ref("Handler")), "Handler")},
                 {"delete", operation("Delete a handler instance (If-Match)", "204", response("deleted"))}},
                {key, {"name", "handler name"}});
  paths["/api/accounts/{key}/routes"] =
      path_item({{"get", operation("The account's routes, in order", "200", response("routes", any))},
                 {"post", operation("Append a route", "201", response("created", ref("Route")), "Route")}},
                {key});
  paths["/api/accounts/{key}/routes/{index}"] = path_item(
      {{"get", operation("A route", "200", response("route", ref("Route")))},
       {"put", operation("Replace a route (If-Match)", "200", response("changed", ref("Route")), "Route")},
       {"delete", operation("Delete a route (If-Match)", "204", response("deleted"))}},
      {key, {"index", "position of the route, from 0"}});
  paths["/api/accounts/{key}/history"] = path_item(
      {{"get",
        operation("Versions of the account, newest first (?limit=N)", "200", response("versions", any))}},
      {key});
  paths["/api/accounts/{key}/routes/test"] = path_item(
      {{"post",
        operation(
            "Dry run: the matching routes on an event ({\"event\"} or {\"event_id\"} of a recent run) in a "
            "sandbox, of the saved account or of a draft of it ({\"account\"}); per route and step the "
            "rendered config, output, result, error, and the effects",
            "200", response("report", any), "TestRequest")}},
      {key});
  paths["/api/accounts/{key}/runs"] =
      path_item({{"get", operation("Recent runs, newest first (?event_type, ?conversation_key, ?event_id, "
                                   "?status=ok|failed|unrouted, "
                                   "?limit)",
                                   "200", response("runs", any))}},
                {key});
  paths["/api/accounts/{key}/sample-event"] =
      path_item({{"get", operation("The newest kept event of a type from the run history (?event_type, "
                                   "?conversation_key): {key, event_id, time, event}",
                                   "200", response("event", any))}},
                {key});
  paths["/api/accounts/{key}/dead-letters"] = path_item(
      {{"get",
        operation("The account's dead letters, lowest ids first (?reason, ?since=ISO-8601 or 30s/10m/2h/7d, "
                  "?limit, at most 10000)",
                  "200", response("dead letters", any))}},
      {key});
  paths["/api/accounts/{key}/dead-letters/replay"] = path_item(
      {{"post",
        operation("Replay dead letters inside the daemon, each exactly once (at most 100 per request; "
                  "with dry_run, what would be replayed)",
                  "200", response("replayed and skipped", ref("ReplayResult")), "ReplayRequest")}},
      {key});
  paths["/api/accounts/{key}/rollback"] =
      path_item({{"post", operation("Make a new version with the document of an earlier one", "200",
                                    response("restored", account), "Rollback")}},
                {key});

  bj::object obj{{"type", "object"}};
  bj::object schemas;
  schemas["Errors"] = bj::object{
      {"type", "object"},
      {"required", bj::array{"errors"}},
      {"properties",
       bj::object{
           {"errors",
            bj::object{{"type", "array"},
                       {"items", bj::object{{"type", "object"},
                                            {"properties",
                                             bj::object{{"path", bj::object{{"type", "string"}}},
                                                        {"message", bj::object{{"type", "string"}}}}}}}}}}}};
  schemas["Account"] = bj::object{
      {"type", "object"},
      {"description", "As accounts.<key> in the config file (docs/config.md)"},
      {"properties",
       bj::object{{"conversations", ref("Conversations")},
                  {"tags", bj::object{{"type", "array"}, {"items", bj::object{{"type", "string"}}}}},
                  {"handlers", bj::object{{"type", "object"}, {"additionalProperties", ref("Handler")}}},
                  {"routes", bj::object{{"type", "array"}, {"items", ref("Route")}}}}}};
  schemas["AccountWithKey"] = bj::object{
      {"allOf", bj::array{ref("Account"),
                          bj::object{{"type", "object"},
                                     {"required", bj::array{"key"}},
                                     {"properties", bj::object{{"key", bj::object{{"type", "string"}}}}}}}}};
  schemas["Conversations"] =
      bj::object{{"type", "object"}, {"additionalProperties", bj::object{{"type", "string"}}}};
  schemas["Handler"] =
      bj::object{{"type", "object"},
                 {"required", bj::array{"type"}},
                 {"properties", bj::object{{"type", bj::object{{"type", "string"}}}, {"options", obj}}}};
  schemas["HandlerWithName"] = bj::object{
      {"allOf", bj::array{ref("Handler"),
                          bj::object{{"type", "object"},
                                     {"required", bj::array{"name"}},
                                     {"properties", bj::object{{"name", bj::object{{"type", "string"}}}}}}}}};
  schemas["Route"] = bj::object{
      {"type", "object"},
      {"required", bj::array{"chain"}},
      {"properties",
       bj::object{
           {"on", bj::object{{"type", "object"},
                             {"properties", bj::object{{"conversation_type", bj::object{{"type", "string"}}},
                                                       {"conversation_key", bj::object{{"type", "string"}}},
                                                       {"event_type", bj::object{{"type", "string"}}}}}}},
           {"chain", bj::object{{"type", "array"},
                                {"items", bj::object{{"type", "object"},
                                                     {"required", bj::array{"handler"}},
                                                     {"properties",
                                                      bj::object{{"handler", bj::object{{"type", "string"}}},
                                                                 {"as", bj::object{{"type", "string"}}},
                                                                 {"config", obj}}}}}}},
           {"enabled", bj::object{{"type", "boolean"}, {"default", true}}}}}};
  schemas["Rollback"] =
      bj::object{{"type", "object"},
                 {"required", bj::array{"version"}},
                 {"properties", bj::object{{"version", bj::object{{"type", "integer"}, {"minimum", 1}}}}}};
  schemas["TokenRequest"] = bj::object{
      {"type", "object"},
      {"required", bj::array{"name", "account"}},
      {"properties",
       bj::object{{"name", bj::object{{"type", "string"}}}, {"account", bj::object{{"type", "string"}}}}}};
  schemas["TokenCreated"] = bj::object{{"type", "object"},
                                       {"properties", bj::object{{"name", bj::object{{"type", "string"}}},
                                                                 {"account", bj::object{{"type", "string"}}},
                                                                 {"token", bj::object{{"type", "string"}}}}}};
  schemas["Any"] = bj::object{};
  const bj::object integer{{"type", "integer"}};
  schemas["ReplayRequest"] = bj::object{
      {"type", "object"},
      {"description", "Either ids, or reason and/or since"},
      {"additionalProperties", false},
      {"properties",
       bj::object{
           {"ids", bj::object{{"type", "array"}, {"items", bj::object{{"type", "integer"}, {"minimum", 1}}}}},
           {"reason", bj::object{{"type", "string"}}},
           {"since", bj::object{{"type", "string"}}},
           {"dry_run", bj::object{{"type", "boolean"}}}}}};
  schemas["ReplayResult"] = bj::object{
      {"type", "object"},
      {"required", bj::array{"replayed", "skipped"}},
      {"properties",
       bj::object{
           {"replayed", bj::object{{"type", "array"}, {"items", integer}}},
           {"skipped",
            bj::object{{"type", "array"},
                       {"items",
                        bj::object{{"type", "object"},
                                   {"required", bj::array{"id", "why"}},
                                   {"properties", bj::object{{"id", integer},
                                                             {"why", bj::object{{"type", "string"}}}}}}}}}}}};
  schemas["TestRequest"] = bj::object{{"type", "object"},
                                      {"properties", bj::object{{"event", obj},
                                                                {"event_id", bj::object{{"type", "string"}}},
                                                                {"account", ref("Account")}}}};

  return bj::object{
      {"openapi", "3.0.3"},
      {"info", bj::object{{"title", "vumi-dispatcher admin API"},
                          {"version", "1"},
                          {"description",
                           "Accounts, handler instances and routes, changed live (docs/admin-api.md)."}}},
      {"servers", bj::array{bj::object{{"url", "http://127.0.0.1:7712"}}}},
      {"security", bj::array{bj::object{{"bearer", bj::array{}}}}},
      {"paths", std::move(paths)},
      {"components",
       bj::object{
           {"schemas", std::move(schemas)},
           {"securitySchemes", bj::object{{"bearer", bj::object{{"type", "http"}, {"scheme", "bearer"}}}}}}}};
}

}  // namespace

const std::string& openapi_document() {
  static const std::string document = bj::serialize(build());
  return document;
}

}  // namespace vumi::admin
