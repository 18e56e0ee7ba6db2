// An account as a JSON document (what the admin API reads and writes) and back, with config
// errors turned into JSON pointers relative to the document.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace vumi::daemon {

// An error for the API: a JSON pointer into the request's document ("/routes/0/chain/1/config/to_addr").
struct DocumentError {
  std::string path;
  std::string message;
};

// Reads document as accounts.<key> of a config whose global handlers are handlers: the same reader
// and checks as the config file. Errors name their config path ("accounts.k.routes[0]...").
std::optional<config::AccountSpec> parse_account(const std::string& key, const boost::json::value& document,
                                                 const std::vector<config::HandlerSpec>& handlers,
                                                 std::vector<config::ConfigError>& errors);

// The document of an account spec (conversations, tags, handlers, routes).
boost::json::object account_document(const config::AccountSpec& spec);

// "accounts.k.routes[0].chain[1].config.to_addr" -> "/routes/0/chain/1/config/to_addr" when it lies
// under prefix ("accounts.k"); other paths become pointers from the root of the config.
std::string config_path_to_pointer(const std::string& path, const std::string& prefix);

std::vector<DocumentError> document_errors(const std::vector<config::ConfigError>& errors,
                                           const std::string& prefix);

}  // namespace vumi::daemon
