#include "cli/curve_args.hpp"

namespace vumi::cli {

std::optional<transport::CurveClientKeys> client_keys(const CurveArgs& args) {
  if (!args.key_file || !args.server_key_file) return std::nullopt;
  return transport::read_client_keys(*args.key_file, *args.server_key_file);
}

}  // namespace vumi::cli
