// The web page at / (docs/ui.md): static files embedded in the binary, answered before the API.
#pragma once

#include <optional>

#include "admin/http_server.hpp"

namespace vumi::admin {

// The answer for a GET or HEAD of "/" or one of the page's files; nullopt for every other request.
std::optional<HttpResponse> serve_web_page(const HttpRequest& request);

// "text/javascript; charset=utf-8" for "app.js"; application/octet-stream when unknown.
std::string_view content_type_of(std::string_view path);

}  // namespace vumi::admin
