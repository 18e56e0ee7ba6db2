#include "transport/daemon.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <stdexcept>
#include <thread>
#include <utility>
#include <zmq.hpp>

#include "common/logging.hpp"
#include "dispatch/crash_guard.hpp"
#include "dispatch/dispatcher.hpp"
#include "store/state_dir_lock.hpp"
#include "store/state_store.hpp"
#include "transport/curve_server.hpp"
#include "transport/ingest_reader.hpp"
#include "transport/outbound_publisher.hpp"
#include "transport/status_report.hpp"

namespace vumi::transport {

namespace asio = boost::asio;

struct Daemon::Impl final : IngestHandler, DaemonControl {
  explicit Impl(DaemonOptions opts) : options(std::move(opts)), signals(io_), status_timer(io_) {}

  int run();
  bool start();  // false when startup failed (already logged)
  void on_signal(int signal_number);
  void reload();
  void stop();
  void arm_status_timer();
  unsigned status_interval_s() const;
  void log_security(const config::Config& config) const;

  // A turn's messages share one state transaction (one commit instead of one per write).
  void on_batch_begin() override {
    const store::StoreStatus status = store_->begin_batch();
    if (!status.ok) spdlog::error("state: {}; this batch's writes commit one by one", status.error);
  }
  void on_message(std::string_view topic, std::string_view body) override {
    // With CURVE, the sender's key must have the right to the topic; decided before decoding.
    if (curve->enabled()) {
      if (auto refusal = policy->ingest_refusal(ingest->sender_user_id(), topic, runtime_->routes())) {
        dispatcher->refuse({event::Reason::forbidden, std::move(*refusal)}, topic, body);
        return;
      }
    }
    dispatcher->handle(topic, body);
  }
  void on_batch_end() override {
    const store::StoreStatus status = store_->commit_batch();
    if (!status.ok) spdlog::error("state: {}", status.error);
    // Sends may have consumed the outbound descriptor's edge; look for subscriptions here too.
    outbound->drain_subscriptions();
  }

  asio::io_context& io() override { return io_; }
  dispatch::Runtime& runtime() override { return *runtime_; }
  const dispatch::Counters& dispatch_counters() const override { return dispatcher->counters(); }
  const IngestCounters& ingest_counters() const override { return ingest->counters(); }
  const OutboundCounters& outbound_counters() const override { return outbound->counters(); }
  store::StateStore& store() override { return *store_; }
  void set_chain_observer(dispatch::ChainObserver* observer) override { dispatcher->set_observer(observer); }
  void swap_in(std::shared_ptr<dispatch::Runtime> next);

  std::string status() const {
    std::string line = status_line(dispatcher->counters(), ingest->counters(), outbound->counters());
    if (curve->enabled())
      line += " handshakes_refused=" + std::to_string(curve->refused()) +
              " subscriptions_refused=" + std::to_string(outbound->counters().subscriptions_refused);
    return line;
  }

  DaemonOptions options;
  asio::io_context io_{1};
  asio::signal_set signals;
  asio::steady_timer status_timer;
  std::shared_ptr<dispatch::Runtime> runtime_;
  std::thread reloader;  // builds a reloaded config aside
  bool reloading = false;
  std::unique_ptr<store::StateDirLock> state_lock;  // declared before store: released after it closes
  std::unique_ptr<store::StateStore> store_;
  std::unique_ptr<dispatch::CrashGuard> crash_guard;  // before the dispatcher: it outlives it
  std::optional<zmq::context_t> zmq_context;
  std::unique_ptr<CurveServer> curve;          // before the sockets: outlives them
  std::shared_ptr<const AccessPolicy> policy;  // the publishers' rights in use
  std::unique_ptr<OutboundPublisher> outbound;
  std::unique_ptr<dispatch::Dispatcher> dispatcher;
  std::unique_ptr<IngestReader> ingest;
  bool stopping = false;
};

int Daemon::Impl::run() {
  // Signals first: a SIGTERM or SIGHUP during startup must not kill the process half-started.
  signals.add(SIGINT);
  signals.add(SIGTERM);
  signals.add(SIGHUP);
  if (!start()) return 1;
  signals.async_wait([this](const boost::system::error_code& ec, int n) {
    if (!ec) on_signal(n);
  });
  arm_status_timer();
  ingest->start();
  outbound->watch_subscriptions(io_);
  if (options.extension && !options.extension->start(*this)) {
    options.extension.reset();
    ingest->close();
    return 1;
  }
  spdlog::info("listening: ingest {}, outbound {}", ingest->endpoint(), outbound->endpoint());
  io_.run();
  if (reloader.joinable()) reloader.join();
  // Before the loop it serves on and the dispatcher it watches are gone.
  options.extension.reset();

  // Every batch ended with a commit; what remains is to close the sockets in order.
  ingest->close();
  spdlog::info("stopped: {}", status());
  outbound->close();
  dispatcher.reset();
  crash_guard.reset();
  ingest.reset();
  outbound.reset();
  curve.reset();
  zmq_context->close();
  store_.reset();
  return 0;
}

bool Daemon::Impl::start() {
  std::vector<std::string> errors;
  try {
    runtime_ = options.load(errors);
  } catch (const std::exception& e) {
    errors.push_back(e.what());
  }
  if (!runtime_) {
    for (const auto& e : errors) spdlog::error("config: {}", e);
    spdlog::error("not started: the config has {} error(s)", errors.size());
    return false;
  }
  const config::Config& config = runtime_->config();
  try {
    state_lock = std::make_unique<store::StateDirLock>(config.state_dir);
    store_ = store::StateStore::open(config.state_dir);
  } catch (const std::exception& e) {
    spdlog::error("not started: state_dir \"{}\": {}", config.state_dir.string(), e.what());
    return false;
  }
  try {
    zmq_context.emplace(1);
    curve = std::make_unique<CurveServer>(*zmq_context, config.security);
    policy = curve->policy();
    const CurveServer& server = *curve;
    SubscriptionFilter filter;
    if (curve->enabled()) {
      filter = [&server](std::string_view key, std::string_view requested) {
        return server.policy()->granted_prefixes(key, requested);
      };
    }
    outbound = std::make_unique<OutboundPublisher>(
        *zmq_context, config.outbound_bind,
        [&server](zmq::socket_t& s) { server.secure(s, SocketRole::outbound); }, std::move(filter));
    dispatcher = std::make_unique<dispatch::Dispatcher>(runtime_, *store_, *outbound);
    // The previous run's crash (if any) becomes a dead letter before any message is read.
    crash_guard = std::make_unique<dispatch::CrashGuard>(config.state_dir, *store_);
    dispatcher->guard_crashes(*crash_guard);
    crash_guard->arm(logging::current_format() == logging::Format::json);
    ingest = std::make_unique<IngestReader>(
        io_, *zmq_context, config.ingest_bind, config.limits.max_body_bytes, *this,
        IngestReader::kDefaultBudget, [&server](zmq::socket_t& s) { server.secure(s, SocketRole::ingest); },
        config.limits.max_ingest_queue_bytes);
    log_security(config);
  } catch (const std::exception& e) {
    spdlog::error("not started: {}", e.what());
    ingest.reset();
    dispatcher.reset();
    crash_guard.reset();
    outbound.reset();
    curve.reset();
    zmq_context.reset();
    return false;
  }
  return true;
}

void Daemon::Impl::on_signal(int signal_number) {
  if (signal_number == SIGHUP) {
    reload();
  } else {
    spdlog::info("received {}: stopping (the current batch is finished, no new messages are read)",
                 signal_number == SIGINT ? "SIGINT" : "SIGTERM");
    stop();
  }
  if (!stopping) {
    signals.async_wait([this](const boost::system::error_code& ec, int n) {
      if (!ec) on_signal(n);
    });
  }
}

void Daemon::Impl::stop() {
  stopping = true;
  // Handlers run one at a time, so no message is half-handled here: the batch that was being read
  // has been dispatched and committed.
  ingest->stop();
  status_timer.cancel();
  if (options.extension) options.extension->stop();
  io_.stop();
}

void Daemon::Impl::reload() {
  if (reloading) {
    spdlog::warn("received SIGHUP: a reload is already being built; ignored");
    return;
  }
  spdlog::info("received SIGHUP: reloading the config (built aside; dispatch goes on meanwhile)");
  reloading = true;
  if (reloader.joinable()) reloader.join();
  // Reading and building a large config takes seconds: never on the loop.
  reloader = std::thread([this] {
    std::vector<std::string> errors;
    std::shared_ptr<dispatch::Runtime> next;
    try {
      next = options.load(errors);
    } catch (const std::exception& e) {
      errors.push_back(e.what());
    }
    asio::post(io_, [this, next = std::move(next), errors = std::move(errors)]() mutable {
      reloading = false;
      if (stopping) return;
      if (!next) {
        for (const auto& e : errors) spdlog::error("reload: {}", e);
        spdlog::error("reload failed with {} error(s); keeping the running config", errors.size());
        return;
      }
      swap_in(std::move(next));
    });
  });
}

void Daemon::Impl::swap_in(std::shared_ptr<dispatch::Runtime> next) {
  const config::Config& old_config = runtime_->config();
  const config::Config& new_config = next->config();
  auto restart_needed = [](const char* key, const std::string& was, const std::string& now) {
    if (was != now)
      spdlog::warn("reload: {} changed from \"{}\" to \"{}\"; still using \"{}\" until restart", key, was,
                   now, was);
  };
  restart_needed("ingest.bind", old_config.ingest_bind, new_config.ingest_bind);
  restart_needed("outbound.bind", old_config.outbound_bind, new_config.outbound_bind);
  restart_needed("state_dir", old_config.state_dir.string(), new_config.state_dir.string());
  restart_needed("security.secret_key_file", old_config.security.secret_key_file.string(),
                 new_config.security.secret_key_file.string());
  restart_needed("limits.max_ingest_queue_bytes", std::to_string(old_config.limits.max_ingest_queue_bytes),
                 std::to_string(new_config.limits.max_ingest_queue_bytes));
  // New rights apply to new handshakes and to every later message of connected publishers.
  curve->replace_policy(new_config.security);
  policy = curve->policy();
  if (options.extension) options.extension->before_swap(*next);
  const unsigned old_interval = status_interval_s();
  // Between two handlers of the loop: the next message sees only the new config.
  std::shared_ptr<dispatch::Runtime> old = std::exchange(runtime_, next);
  dispatcher->replace_runtime(next);
  ingest->set_max_body_bytes(new_config.limits.max_body_bytes);
  crash_guard->refresh_modules();  // the new config may have loaded plugins
  if (status_interval_s() != old_interval) {
    status_timer.cancel();
    arm_status_timer();
  }
  spdlog::info("reload: config from {} is now in use ({} handler(s), {} account(s))", new_config.source,
               new_config.handlers.size(), next->routes().account_count());
  // Freeing a large runtime takes long too; the reloader thread has finished, so reuse the slot.
  if (reloader.joinable()) reloader.join();
  reloader = std::thread([old = std::move(old)]() mutable { old.reset(); });
}

void Daemon::Impl::log_security(const config::Config& config) const {
  if (curve->enabled()) {
    spdlog::info("security: CURVE on; server public key {}; {} publisher key(s), {} subscriber key(s)",
                 curve->public_key(), config.security.publishers.size(), config.security.subscribers.size());
    return;
  }
  spdlog::warn(
      "security: CURVE is off (no security.secret_key_file): any process that reaches {} may publish for "
      "every account, and any that reaches {} reads every outbound message{}; see docs/security.md",
      ingest->endpoint(), outbound->endpoint(),
      config.security.allow_insecure ? " (allow_insecure: binds beyond loopback are allowed)" : "");
}

unsigned Daemon::Impl::status_interval_s() const {
  return options.status_interval_s ? *options.status_interval_s : runtime_->config().status_interval_s;
}

void Daemon::Impl::arm_status_timer() {
  const unsigned interval = status_interval_s();
  if (interval == 0) return;
  status_timer.expires_after(std::chrono::seconds(interval));
  status_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping) return;
    spdlog::info("status: {}", status());
    arm_status_timer();
  });
}

Daemon::Daemon(DaemonOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Daemon::~Daemon() = default;

int Daemon::run() {
  return impl_->run();
}

}  // namespace vumi::transport
