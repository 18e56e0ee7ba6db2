// Syntax of the ZeroMQ endpoints the config binds: tcp://HOST:PORT, ipc://PATH, inproc://NAME.
#pragma once

#include <string_view>

#include "common/expected.hpp"

namespace vumi::config {

// Success when endpoint is a bindable tcp://, ipc:// or inproc:// endpoint; why not otherwise.
// TCP ports are 0-65535 or "*" (an ephemeral port); hosts are names, IPv4, [IPv6] or "*".
Expected<void> check_endpoint(std::string_view endpoint);

}  // namespace vumi::config
