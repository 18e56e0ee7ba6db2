// Syntax of the ZeroMQ endpoints the config binds: tcp://HOST:PORT, ipc://PATH, inproc://NAME.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vumi::config {

// Why endpoint is not a bindable tcp://, ipc:// or inproc:// endpoint, or nullopt when it is.
// TCP ports are 0-65535 or "*" (an ephemeral port); hosts are names, IPv4, [IPv6] or "*".
std::optional<std::string> endpoint_problem(std::string_view endpoint);

}  // namespace vumi::config
