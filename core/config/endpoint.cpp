#include "config/endpoint.hpp"

#include <algorithm>
#include <cctype>

namespace vumi::config {

namespace {

std::optional<std::string> tcp_problem(std::string_view address) {
  std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return "tcp endpoint needs HOST:PORT (e.g. tcp://127.0.0.1:7710)";
  std::string_view host = address.substr(0, colon);
  std::string_view port = address.substr(colon + 1);
  if (host.empty()) return "tcp endpoint has no host (use \"*\" for every interface)";
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return "tcp endpoint has an unclosed IPv6 address \"[\"";
  } else {
    auto bad = std::find_if(host.begin(), host.end(), [](char c) {
      return !(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '*');
    });
    if (bad != host.end()) return std::string("tcp endpoint host contains '") + *bad + "'";
  }
  if (port == "*") return std::nullopt;
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoul(std::string(port)) > 65535)
    return "tcp endpoint port \"" + std::string(port) + "\" is not a number from 0 to 65535 or \"*\"";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> endpoint_problem(std::string_view endpoint) {
  auto starts = [&](std::string_view prefix) { return endpoint.substr(0, prefix.size()) == prefix; };
  if (starts("tcp://")) return tcp_problem(endpoint.substr(6));
  if (starts("ipc://")) {
    if (endpoint.size() == 6) return "ipc endpoint has no path";
    return std::nullopt;
  }
  if (starts("inproc://")) {
    if (endpoint.size() == 9) return "inproc endpoint has no name";
    return std::nullopt;
  }
  return "not a ZeroMQ endpoint (expected tcp://HOST:PORT, ipc://PATH or inproc://NAME)";
}

}  // namespace vumi::config
