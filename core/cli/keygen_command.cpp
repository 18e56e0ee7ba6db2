// `vumi-dispatcher keygen NAME`: a CURVE key pair for the daemon, a worker or a transport.
#include <iostream>

#include "cli/commands.hpp"
#include "transport/curve_keys.hpp"

namespace vumi::cli {

int keygen_command(const std::string& name) {
  const transport::CurveKeyPair pair = transport::generate_curve_keypair();
  const auto [secret_file, public_file] = transport::write_curve_keypair(name, pair);
  std::cout << "secret key: " << secret_file.string() << " (mode 0600: keep it on this machine)\n"
            << "public key: " << public_file.string() << " " << pair.public_key << '\n'
            << "Give the public key to the daemon's operator: as security.publishers or "
               "security.subscribers key (docs/security.md).\n";
  return 0;
}

}  // namespace vumi::cli
