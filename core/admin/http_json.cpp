#include "admin/http_json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace vumi::admin {

namespace bj = boost::json;
namespace http = boost::beast::http;

HttpResponse json_response(http::status code, const bj::value& body, const std::string& etag) {
  HttpResponse response{code, 11};
  response.set(http::field::content_type, "application/json");
  if (!etag.empty()) response.set(http::field::etag, etag);
  response.body() = bj::serialize(body);
  response.body() += '\n';
  return response;
}

HttpResponse error_response(http::status code, std::string message, std::string path) {
  return json_response(code, bj::object{{"errors", bj::array{bj::object{{"path", std::move(path)},
                                                                        {"message", std::move(message)}}}}});
}

std::string percent_decode(std::string_view in, bool plus_is_space) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = digit(in[i + 1]);
      int lo = digit(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && in[i] == '+') ? ' ' : in[i];
  }
  return out;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view part = query.substr(start, amp - start);
    std::size_t eq = part.find('=');
    if (part.substr(0, eq) == name)
      return percent_decode(eq == std::string_view::npos ? "" : part.substr(eq + 1), true);
    start = amp + 1;
  }
  return std::nullopt;
}

}  // namespace vumi::admin
