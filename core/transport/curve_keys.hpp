// CURVE key pairs and key files (docs/security.md): NAME.key holds the Z85 secret key (mode 0600),
// NAME.pub the Z85 public key, each on one line.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <zmq.hpp>

namespace vumi::transport {

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
};

// A fresh key pair from libzmq (throws std::runtime_error when libzmq has no CURVE support).
CurveKeyPair generate_curve_keypair();

// Writes <base>.key (0600) and <base>.pub (0644), refusing to overwrite either; throws
// std::runtime_error naming the file and the reason. Returns the two paths written.
std::pair<std::filesystem::path, std::filesystem::path> write_curve_keypair(const std::filesystem::path& base,
                                                                            const CurveKeyPair& pair);

// Reads a secret key file and derives its public key. Refuses (std::runtime_error naming the file
// and the fix) a file readable by group or others, a missing file, or text that is not a key.
CurveKeyPair read_secret_key_file(const std::filesystem::path& file);

// Reads a public key file (or, for a .key file, derives the public key from the secret).
std::string read_public_key_file(const std::filesystem::path& file);

// Whether this machine's libzmq was built with CURVE.
bool curve_available();

// A client's CURVE identity and the server it trusts.
struct CurveClientKeys {
  CurveKeyPair own;
  std::string server_public_key;
};

// Reads a client's keys: its secret key file (NAME.key) and the daemon's public key file.
CurveClientKeys read_client_keys(const std::filesystem::path& key_file,
                                 const std::filesystem::path& server_key_file);

// Makes socket a CURVE client with keys (before connect).
void apply_curve_client(zmq::socket_t& socket, const CurveClientKeys& keys);

}  // namespace vumi::transport
