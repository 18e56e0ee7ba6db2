#include "config/endpoint.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace vumi::config {

namespace {

Expected<void> check_tcp(std::string_view address) {
  std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos)
    return fail(ErrorCode::invalid, "tcp endpoint needs HOST:PORT (e.g. tcp://127.0.0.1:7710)");
  std::string_view host = address.substr(0, colon);
  std::string_view port = address.substr(colon + 1);
  if (host.empty())
    return fail(ErrorCode::invalid, "tcp endpoint has no host (use \"*\" for every interface)");
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3)
      return fail(ErrorCode::invalid, "tcp endpoint has an unclosed IPv6 address \"[\"");
  } else {
    auto bad = std::find_if(host.begin(), host.end(), [](char c) {
      return !(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '*');
    });
    if (bad != host.end())
      return fail(ErrorCode::invalid, std::string("tcp endpoint host contains '") + *bad + "'");
  }
  if (port == "*") return {};
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoul(std::string(port)) > 65535)
    return fail(ErrorCode::invalid,
                "tcp endpoint port \"" + std::string(port) + "\" is not a number from 0 to 65535 or \"*\"");
  return {};
}

}  // namespace

Expected<void> check_endpoint(std::string_view endpoint) {
  auto starts = [&](std::string_view prefix) { return endpoint.substr(0, prefix.size()) == prefix; };
  if (starts("tcp://")) return check_tcp(endpoint.substr(6));
  if (starts("ipc://")) {
    if (endpoint.size() == 6) return fail(ErrorCode::invalid, "ipc endpoint has no path");
    return {};
  }
  if (starts("inproc://")) {
    if (endpoint.size() == 9) return fail(ErrorCode::invalid, "inproc endpoint has no name");
    return {};
  }
  return fail(ErrorCode::invalid,
              "not a ZeroMQ endpoint (expected tcp://HOST:PORT, ipc://PATH or inproc://NAME)");
}

}  // namespace vumi::config
