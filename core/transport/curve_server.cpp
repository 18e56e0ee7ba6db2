#include "transport/curve_server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <future>
#include <stdexcept>

#include "transport/curve_keys.hpp"
#include "transport/rate_limited_log.hpp"

namespace vumi::transport {

namespace {

// Where libzmq asks for ZAP decisions (RFC 27).
constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
// How often the handler looks at its stop flag while idle.
constexpr std::chrono::milliseconds kZapPoll{100};
constexpr std::size_t kZapRequestFrames = 7;  // version, id, domain, address, identity, mechanism, key

std::string z85(const zmq::message_t& binary_key) {
  if (binary_key.size() != 32) return {};
  char text[41];
  if (!zmq_z85_encode(text, static_cast<const std::uint8_t*>(binary_key.data()), 32)) return {};
  return text;
}

}  // namespace

const char* CurveServer::domain(SocketRole role) {
  return role == SocketRole::ingest ? "vumi.ingest" : "vumi.outbound";
}

CurveServer::CurveServer(zmq::context_t& context, const config::SecurityConfig& security)
    : policy_(std::make_shared<AccessPolicy>(security)) {
  if (!security.curve()) return;
  if (!curve_available())
    throw std::runtime_error("security.secret_key_file is set, but this libzmq was built without CURVE");
  const CurveKeyPair keys = read_secret_key_file(security.secret_key_file);
  secret_key_ = keys.secret_key;
  public_key_ = keys.public_key;
  enabled_ = true;
  // Bind the ZAP socket on this thread before returning, so no server socket binds before it.
  std::promise<std::string> bound;
  auto bound_result = bound.get_future();
  thread_ = std::thread([this, &context, &bound] {
    zmq::socket_t zap(context, zmq::socket_type::rep);
    zap.set(zmq::sockopt::linger, 0);
    try {
      zap.bind(kZapEndpoint);
    } catch (const zmq::error_t& e) {
      bound.set_value(std::string("cannot start the ZAP handler at ") + kZapEndpoint + ": " + e.what());
      return;
    }
    bound.set_value({});
    serve(zap);
  });
  const std::string failure = bound_result.get();
  if (!failure.empty()) {
    thread_.join();
    throw std::runtime_error(failure);
  }
}

CurveServer::~CurveServer() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void CurveServer::secure(zmq::socket_t& socket, SocketRole role) const {
  if (!enabled_) return;
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, secret_key_);
  socket.set(zmq::sockopt::zap_domain, domain(role));
}

void CurveServer::replace_policy(const config::SecurityConfig& security) {
  auto next = std::make_shared<const AccessPolicy>(security);
  std::lock_guard lock(mutex_);
  policy_ = std::move(next);
}

std::shared_ptr<const AccessPolicy> CurveServer::policy() const {
  std::lock_guard lock(mutex_);
  return policy_;
}

void CurveServer::serve(zmq::socket_t& zap) {
  while (!stopping_) {
    zmq::pollitem_t item{zap.handle(), 0, ZMQ_POLLIN, 0};
    try {
      if (zmq::poll(&item, 1, kZapPoll) == 0) continue;
      answer(zap);
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      spdlog::error("security: ZAP handler: {}", e.what());
    }
  }
}

void CurveServer::answer(zmq::socket_t& zap) {
  static RateLimitedLog refused_log(std::chrono::seconds(5));
  std::array<zmq::message_t, kZapRequestFrames> frames;
  std::size_t count = 0;
  zmq::message_t extra;
  bool more = true;
  while (more) {
    zmq::message_t& into = count < frames.size() ? frames[count] : extra;
    if (!zap.recv(into, zmq::recv_flags::none)) return;
    more = into.more();
    ++count;
  }
  const std::string request_id = count > 1 ? frames[1].to_string() : std::string();
  const std::string domain_name = count > 2 ? frames[2].to_string() : std::string();
  const std::string address = count > 3 ? frames[3].to_string() : std::string();
  const std::string mechanism = count > 5 ? frames[5].to_string() : std::string();
  const std::string key = count == kZapRequestFrames && mechanism == "CURVE" ? z85(frames[6]) : std::string();

  const auto current = policy();
  bool allowed = false;
  std::string role;
  if (!key.empty() && domain_name == domain(SocketRole::ingest)) {
    allowed = current->publisher(key) != nullptr;
    role = "publisher";
  } else if (!key.empty() && domain_name == domain(SocketRole::outbound)) {
    allowed = current->subscriber(key) != nullptr;
    role = "subscriber";
  }
  if (allowed) {
    spdlog::info("security: {} {} connected from {} ({})", role, current->describe(key), address,
                 domain_name == domain(SocketRole::ingest) ? "ingest" : "outbound");
  } else {
    ++refused_;
    if (refused_log.admit()) {
      spdlog::warn(
          "security: refused a connection from {} to {}: {} ({} refused so far; {} similar warnings "
          "suppressed)",
          address, domain_name == domain(SocketRole::ingest) ? "ingest" : "outbound",
          key.empty() ? "no CURVE key"
                      : "key " + key + " is not among security." + (role.empty() ? "publishers" : role + "s"),
          refused_.load(), refused_log.suppressed());
    }
  }
  // The User-Id is the client's public key: every message from this connection carries it.
  zap.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
  zap.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
  zap.send(allowed ? zmq::str_buffer("200") : zmq::str_buffer("400"), zmq::send_flags::sndmore);
  zap.send(allowed ? zmq::str_buffer("OK") : zmq::str_buffer("key not allowed"), zmq::send_flags::sndmore);
  const std::string user_id = allowed ? key : std::string();
  zap.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
  zap.send(zmq::str_buffer(""), zmq::send_flags::none);
}

}  // namespace vumi::transport
