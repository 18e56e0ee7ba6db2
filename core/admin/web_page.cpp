#include "admin/web_page.hpp"

#include <string>

#include "admin/web_files.hpp"

namespace vumi::admin {

namespace http = boost::beast::http;

std::string_view content_type_of(std::string_view path) {
  auto ends = [&](std::string_view suffix) { return path.ends_with(suffix); };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".json")) return "application/json";
  return "application/octet-stream";
}

std::optional<HttpResponse> serve_web_page(const HttpRequest& request) {
  if (request.method() != http::verb::get && request.method() != http::verb::head) return std::nullopt;
  std::string_view target = request.target();
  target = target.substr(0, target.find_first_of("?#"));
  if (target == "/") target = "/index.html";
  const auto& files = web_files();
  auto file = files.find(target);
  if (file == files.end()) return std::nullopt;
  HttpResponse response{http::status::ok, request.version()};
  response.set(http::field::content_type, content_type_of(target));
  // Everything the page uses comes from here: no other origin, no inline script.
  response.set("Content-Security-Policy",
               "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
               "form-action 'self'");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "no-referrer");
  response.set(http::field::cache_control, "no-cache");
  if (request.method() == http::verb::get) response.body() = std::string(file->second);
  response.prepare_payload();
  if (request.method() == http::verb::head) response.content_length(file->second.size());
  return response;
}

}  // namespace vumi::admin
