// The daemon's side of CURVE, in one place: the options every server socket gets, and the ZAP
// handler that admits a connection only when its key is a configured publisher (ingest sockets)
// or subscriber (outbound socket). Without security.secret_key_file it does nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "config/config.hpp"
#include "transport/access_policy.hpp"

namespace vumi::transport {

// What a server socket serves, and so which keys may connect to it (its ZAP domain).
enum class SocketRole { ingest, outbound };

class CurveServer {
 public:
  // Reads the secret key file and starts the ZAP handler on context (before any server socket
  // binds: libzmq admits every key while no handler is there). Throws std::runtime_error naming
  // the key file or the reason. With CURVE off in security, only keeps the policy.
  CurveServer(zmq::context_t& context, const config::SecurityConfig& security);
  ~CurveServer();  // stops the ZAP handler (call after the server sockets are closed)
  CurveServer(const CurveServer&) = delete;
  CurveServer& operator=(const CurveServer&) = delete;

  // Makes socket a CURVE server for role (no-op with CURVE off). Call before bind.
  void secure(zmq::socket_t& socket, SocketRole role) const;

  // Replaces the rights (SIGHUP): new handshakes and every later message use them.
  void replace_policy(const config::SecurityConfig& security);
  std::shared_ptr<const AccessPolicy> policy() const;

  bool enabled() const { return enabled_; }
  const std::string& public_key() const { return public_key_; }
  // Handshakes refused because the key is not allowed on that socket.
  std::uint64_t refused() const { return refused_.load(); }

  // The ZAP domain of each role, as set on the sockets and seen by the handler.
  static const char* domain(SocketRole role);

 private:
  void serve(zmq::socket_t& zap);
  void answer(zmq::socket_t& zap);

  bool enabled_ = false;
  std::string secret_key_;
  std::string public_key_;
  mutable std::mutex mutex_;
  std::shared_ptr<const AccessPolicy> policy_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> refused_{0};
  std::thread thread_;
};

}  // namespace vumi::transport
