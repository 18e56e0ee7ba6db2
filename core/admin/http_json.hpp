// JSON responses and query strings, shared by the admin API's handlers.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "admin/http_server.hpp"

namespace vumi::admin {

// body serialized with a trailing newline, as application/json (with an ETag when etag is given).
HttpResponse json_response(boost::beast::http::status code, const boost::json::value& body,
                           const std::string& etag = {});

// {"errors": [{"path": path, "message": message}]}: the API's one error shape.
HttpResponse error_response(boost::beast::http::status code, std::string message, std::string path = "");

// %XX escapes decoded (a malformed escape is kept as it is); with plus_is_space, '+' is a space.
std::string percent_decode(std::string_view in, bool plus_is_space = false);

// The decoded value of name in a query string (form encoding: '+' is a space), or nullopt when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

}  // namespace vumi::admin
