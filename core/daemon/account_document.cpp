#include "daemon/account_document.hpp"

#include <boost/json/array.hpp>

#include "config/account_reader.hpp"
#include "config/field_reader.hpp"

namespace vumi::daemon {

namespace bj = boost::json;

std::optional<config::AccountSpec> parse_account(const std::string& key, const bj::value& document,
                                                 const std::vector<config::HandlerSpec>& handlers,
                                                 std::vector<config::ConfigError>& errors) {
  std::size_t before = errors.size();
  bj::object accounts;
  accounts[key] = document;
  std::vector<config::AccountSpec> out;
  config::FieldReader reader(errors);
  config::read_accounts(accounts, handlers, out, reader);
  if (errors.size() != before || out.size() != 1) return std::nullopt;
  return std::move(out.front());
}

bj::object account_document(const config::AccountSpec& spec) {
  bj::object conversations;
  for (const auto& [key, type] : spec.conversations) conversations[key] = type;
  bj::array tags(spec.tags.begin(), spec.tags.end());
  bj::object handlers;
  for (const auto& h : spec.handlers) {
    bj::object handler{{"type", h.type}};
    if (!h.options.empty()) handler["options"] = h.options;
    handlers[h.name] = std::move(handler);
  }
  bj::array routes;
  for (const auto& r : spec.routes) {
    bj::object on;
    if (!r.on.conversation_type.empty()) on["conversation_type"] = r.on.conversation_type;
    if (!r.on.conversation_key.empty()) on["conversation_key"] = r.on.conversation_key;
    if (!r.on.event_type.empty()) on["event_type"] = r.on.event_type;
    bj::array chain;
    for (const auto& step : r.chain) {
      bj::object s{{"handler", step.handler}};
      if (!step.as.empty()) s["as"] = step.as;
      if (!step.config().empty()) s["config"] = step.config();
      chain.push_back(std::move(s));
    }
    bj::object route{{"on", std::move(on)}, {"chain", std::move(chain)}};
    if (r.retry_json) route["retry"] = *r.retry_json;
    if (!r.enabled) route["enabled"] = false;
    routes.push_back(std::move(route));
  }
  bj::object doc{{"conversations", std::move(conversations)}, {"tags", std::move(tags)}};
  if (!handlers.empty()) doc["handlers"] = std::move(handlers);
  doc["routes"] = std::move(routes);
  return doc;
}

std::string config_path_to_pointer(const std::string& path, const std::string& prefix) {
  std::string rest = path;
  if (!prefix.empty() && path.starts_with(prefix) &&
      (path.size() == prefix.size() || path[prefix.size()] == '.' || path[prefix.size()] == '['))
    rest = path.substr(prefix.size());
  std::string out;
  std::string token;
  auto flush = [&] {
    out += '/';
    for (char c : token) {
      if (c == '~')
        out += "~0";
      else if (c == '/')
        out += "~1";
      else
        out += c;
    }
    token.clear();
  };
  bool any = false;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    char c = rest[i];
    if (c == '.') {
      if (any) flush();
      any = true;
    } else if (c == '[') {
      if (any) flush();
      std::size_t close = rest.find(']', i);
      if (close == std::string::npos) close = rest.size();
      token = rest.substr(i + 1, close - i - 1);
      flush();
      any = false;
      i = close;
    } else {
      token += c;
      any = true;
    }
  }
  if (any) flush();
  return out;
}

std::vector<DocumentError> document_errors(const std::vector<config::ConfigError>& errors,
                                           const std::string& prefix) {
  std::vector<DocumentError> out;
  out.reserve(errors.size());
  for (const auto& e : errors) out.push_back({config_path_to_pointer(e.path, prefix), e.message});
  return out;
}

}  // namespace vumi::daemon
