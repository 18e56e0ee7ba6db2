// The CURVE keys a client command was given (--key, --server-key).
#pragma once

#include <optional>

#include "cli/commands.hpp"
#include "transport/curve_keys.hpp"

namespace vumi::cli {

// The keys read from the files args names, or nullopt without --key; throws std::runtime_error
// naming a file that cannot be used.
std::optional<transport::CurveClientKeys> client_keys(const CurveArgs& args);

}  // namespace vumi::cli
