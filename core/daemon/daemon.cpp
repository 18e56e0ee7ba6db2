#include "daemon/daemon.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_timer.hpp>
#include <csignal>
#include <stdexcept>
#include <thread>
#include <utility>
#include <zmq.hpp>

#include "cluster/ingest_prefixes.hpp"
#include "cluster/shard_leases.hpp"
#include "common/logging.hpp"
#include "dispatch/crash_guard.hpp"
#include "dispatch/dispatch_pool.hpp"
#include "dispatch/dispatcher.hpp"
#include "dispatch/retry_scheduler.hpp"
#include "store/state_dir_lock.hpp"
#include "store/state_store.hpp"
#include "store/store_factory.hpp"
#include "store/store_values.hpp"
#include "transport/batch_committer.hpp"
#include "transport/curve_server.hpp"
#include "transport/ingest_reader.hpp"
#include "transport/outbound_publisher.hpp"
#include "transport/outbox.hpp"
#include "transport/reliable_ingest.hpp"
#include "transport/status_report.hpp"

namespace vumi::transport {

namespace asio = boost::asio;

constexpr long kPruneIntervalMs = 5000;

// "0,3,5" (or "none").
std::string shard_list(const std::vector<std::uint32_t>& shards) {
  std::string text;
  for (std::uint32_t shard : shards) text += (text.empty() ? "" : ",") + std::to_string(shard);
  return text.empty() ? "none" : text;
}
// dead-letter retention and held-back log counts

struct Daemon::Impl final : IngestHandler, ReliableIngestHandler, DaemonControl {
  explicit Impl(DaemonOptions opts)
      : options(std::move(opts)),
        signals(io_),
        status_timer(io_),
        housekeeping_timer(io_),
        retry_timer(io_),
        prune_timer(io_) {}

  int run();
  bool start();  // false when startup failed (already logged)
  void on_signal(int signal_number);
  void reload();
  void stop();
  void arm_status_timer();
  void arm_retry_timer();  // for the earliest pending retry, when it changed
  void run_retries();
  void arm_prune_timer(std::chrono::milliseconds after);
  void prune_dead_letters();
  unsigned status_interval_s() const;
  void log_security(const config::Config& config) const;

  // A turn's messages share one state transaction; their outbound messages and acknowledgements
  // leave only after it committed (BatchCommitter, docs/delivery.md).
  void on_batch_begin() override { committer->begin(); }
  void on_message(std::string_view topic, std::string_view body) override {
    // With CURVE, the sender's key must have the right to the topic; decided before decoding.
    if (curve->enabled()) {
      if (auto refusal = policy->ingest_refusal(ingest->sender_user_id(), topic, runtime_->routes())) {
        dispatcher->refuse({event::Reason::forbidden, std::move(*refusal)}, topic, body,
                           ingest->current_source());
        return;
      }
    }
    committer->queue(topic, body, ingest->current_source());
  }
  void on_batch_end() override {
    committer->run_queued();  // with several workers, the batch's messages run here
    dispatcher->end_batch();  // repeated dead letters counted in memory are written in this batch
    committer->end();
    // Sends may have consumed the outbound descriptor's edge; look for subscriptions here too.
    outbound->drain_subscriptions();
    arm_retry_timer();
  }
  void on_reliable_batch_begin() override { committer->begin(); }
  void on_reliable_message(std::string_view topic, std::string_view body, std::string_view msg_id,
                           std::string_view peer) override {
    if (curve->enabled()) {
      if (auto refusal = policy->ingest_refusal(reliable->sender_user_id(), topic, runtime_->routes())) {
        dispatcher->refuse({event::Reason::forbidden, std::move(*refusal)}, topic, body,
                           reliable->current_source());
        reliable->acknowledge(peer, msg_id, ack_status::rejected);
        return;
      }
    }
    committer->add_reliable(topic, body, msg_id, peer, reliable->current_source());
  }
  void on_reliable_batch_end() override { on_batch_end(); }
  void set_reading(bool reading);
  void apply_reading();
  void arm_housekeeping_timer();
  void log_left_queued();

  std::string status() const;
  asio::io_context& io() override { return io_; }
  dispatch::Runtime& runtime() override { return *runtime_; }
  const dispatch::Counters& dispatch_counters() const override { return dispatcher->counters(); }
  const IngestCounters& ingest_counters() const override { return ingest->counters(); }
  const OutboundCounters& outbound_counters() const override { return outbound->counters(); }
  store::StateStore& store() override { return *store_; }
  void set_chain_observer(dispatch::ChainObserver* observer) override { dispatcher->set_observer(observer); }
  bool run_in_batch(const std::function<void(store::StateStore&, const Resubmit&)>& work) override;
  Depths depths() const override {
    return {committer->held_messages(), dispatcher->retries_waiting(), outbox->waiting()};
  }
  void swap_in(const std::shared_ptr<dispatch::Runtime>& next);
  // Cluster membership (docs/scale-out.md).
  void start_cluster(const config::Config& config);         // before the outbox and retries are loaded
  void apply_held(const std::vector<std::uint32_t>& held);  // on the loop: the leases changed
  void update_subscriptions(bool force);                    // when the held shards or the account set changed
  bool owns_row(const store::OutboxRow& row) const {
    return row.account_key.empty() ? ownership->owns_unassigned() : ownership->owns(row.account_key);
  }
  std::vector<ShardFigures> shard_figures() const override;
  std::string cluster_name() const override {
    const auto& cluster = runtime_->config().cluster;
    return cluster ? cluster->name : std::string();
  }

  DaemonOptions options;
  asio::io_context io_{1};
  asio::signal_set signals;
  asio::steady_timer status_timer;
  asio::steady_timer housekeeping_timer;
  asio::system_timer retry_timer;  // due times are wall-clock: they come back from the store after a restart
  std::optional<std::int64_t> retry_armed_for_ms;
  asio::steady_timer prune_timer;
  std::shared_ptr<dispatch::Runtime> runtime_;
  std::thread reloader;  // builds a reloaded config aside
  bool reloading = false;
  std::unique_ptr<store::StateDirLock> state_lock;  // declared before store_: released after it closes
  std::unique_ptr<store::StateStore> store_;
  std::unique_ptr<dispatch::CrashGuard> crash_guard;  // before the dispatcher: it outlives it
  std::optional<zmq::context_t> zmq_context;
  std::unique_ptr<CurveServer> curve;          // before the sockets: outlives them
  std::shared_ptr<const AccessPolicy> policy;  // the publishers' rights in use
  std::unique_ptr<OutboundPublisher> outbound;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<dispatch::DispatchPool> dispatcher;  // `workers` dispatchers (docs/workers.md)
  std::unique_ptr<BatchCommitter> committer;
  std::unique_ptr<IngestReader> ingest;
  std::unique_ptr<ReliableIngestReader> reliable;         // when ingest.reliable_bind is set
  std::optional<dispatch::ShardOwnership> ownership;      // in a cluster: the shards held now
  std::unique_ptr<cluster::ShardLeases> leases;           // in a cluster on postgresql
  const dispatch::Runtime* subscribed_runtime = nullptr;  // what the subscriptions were derived from
  std::uint64_t subscribed_generation = 0;
  bool stopping = false;
  bool want_reading = false;     // what the batch committer asks for
  bool readers_running = false;  // what the readers do
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
  arm_housekeeping_timer();
  arm_retry_timer();
  arm_prune_timer(std::chrono::seconds(1));
  outbound->on_subscribe([this] { committer->subscribers_changed(); });
  outbound->watch_subscriptions(io_);
  if (options.extension && !options.extension->start(*this)) {
    options.extension.reset();
    ingest->close();
    return 1;
  }
  if (reliable) spdlog::info("reliable ingest: bound at {}", reliable->endpoint());
  spdlog::info("dispatch: {} worker(s), events spread over them by account", dispatcher->workers());
  spdlog::info("listening: ingest {}, outbound {}", ingest->endpoint(), outbound->endpoint());
  // Reading starts unless rows a previous run left in the outbox must go out first.
  committer->update_reading();
  if (leases) leases->start();
  io_.run();
  if (reloader.joinable()) reloader.join();
  // Before the loop it serves on and the dispatcher it watches are gone.
  options.extension.reset();

  // Every batch read was committed (or is held after a failed commit: one last attempt), then
  // the outbox is sent; what is still queued in libzmq is counted and dropped.
  committer->finish();
  // After the last commit: whoever takes our shards over finds everything we did.
  if (leases) {
    leases->stop();
    spdlog::info("cluster: shard leases released");
  }
  log_left_queued();
  ingest->close();
  if (reliable) reliable->close();
  spdlog::info("stopped: {}", status());
  outbound->close();
  committer.reset();
  dispatcher.reset();
  crash_guard.reset();
  ingest.reset();
  reliable.reset();
  outbox.reset();
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
    state_lock = std::make_unique<store::StateDirLock>(config.state.dir);
    store_ = store::open_state_store(config.state, store::Access::read_write);
  } catch (const std::exception& e) {
    spdlog::error("not started: {}: {}", store::state_location(config.state), e.what());
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
    outbox = std::make_unique<Outbox>(*store_, *outbound);
    dispatcher =
        std::make_unique<dispatch::DispatchPool>(runtime_, *store_, *outbox, config::worker_count(config));
    if (config.cluster) {
      start_cluster(config);
      outbox->recover([this](const store::OutboxRow& row) { return owns_row(row); });
    } else {
      outbox->recover();
    }
    // The previous run's crash (if any) becomes a dead letter before any message is read.
    crash_guard = std::make_unique<dispatch::CrashGuard>(config.state.dir, *store_);
    dispatcher->guard_crashes(*crash_guard);
    crash_guard->arm(logging::current_format() == logging::Format::json);
    committer = std::make_unique<BatchCommitter>(io_, *store_, dispatcher->first(), *outbox,
                                                 [this](bool reading) { set_reading(reading); });
    committer->set_pool(dispatcher.get());
    ingest = std::make_unique<IngestReader>(
        io_, *zmq_context, config.ingest_bind, config.limits.max_body_bytes, *this,
        IngestReader::kDefaultBudget, [&server](zmq::socket_t& s) { server.secure(s, SocketRole::ingest); },
        config.limits.max_ingest_queue_bytes);
    if (!config.ingest_reliable_bind.empty()) {
      // The same keys and rights as the PUB/SUB ingest socket.
      reliable = std::make_unique<ReliableIngestReader>(
          io_, *zmq_context, config.ingest_reliable_bind, config.limits.max_body_bytes, *this,
          ReliableIngestReader::kDefaultBudget,
          [&server](zmq::socket_t& s) { server.secure(s, SocketRole::ingest); });
      committer->set_acknowledger(reliable.get());
    }
    log_security(config);
    dispatcher->load_pending_retries();
    if (ownership) update_subscriptions(true);
  } catch (const std::exception& e) {
    spdlog::error("not started: {}", e.what());
    reliable.reset();
    ingest.reset();
    committer.reset();
    dispatcher.reset();
    crash_guard.reset();
    outbox.reset();
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
  // Signals are handled on the loop between batches, and a batch's workers have all finished before
  // it commits, so no message is half-handled here: the batch that was being read has been
  // dispatched and committed.
  ingest->stop();
  if (reliable) reliable->stop();
  status_timer.cancel();
  housekeeping_timer.cancel();
  retry_timer.cancel();
  prune_timer.cancel();
  if (options.extension) options.extension->stop();
  io_.stop();
}

void Daemon::Impl::set_reading(bool reading) {
  want_reading = reading;
  if (!reading) {
    apply_reading();
    return;
  }
  // Resuming may be asked from inside a reader's turn; starting it there would arm its watch twice.
  asio::post(io_, [this] { apply_reading(); });
}

void Daemon::Impl::apply_reading() {
  const bool reading = want_reading && !stopping;
  if (reading == readers_running) return;
  readers_running = reading;
  if (reading) {
    ingest->start();
    if (reliable) reliable->start();
  } else {
    ingest->stop();
    if (reliable) reliable->stop();
  }
}

void Daemon::Impl::arm_housekeeping_timer() {
  housekeeping_timer.expires_after(std::chrono::seconds(1));
  housekeeping_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping) return;
    committer->housekeeping();
    if (ownership) update_subscriptions(false);  // accounts the admin API added or removed
    arm_housekeeping_timer();
  });
}

void Daemon::Impl::log_left_queued() {
  // Bounded: a stop must not turn into reading a flood.
  constexpr std::size_t kLimit = 10'000'000;
  const std::size_t dropped = ingest->discard_queued(kLimit);
  const std::size_t unacknowledged = reliable ? reliable->discard_queued(kLimit) : 0;
  spdlog::info(
      "stopped reading: {} PUB/SUB message(s) were still queued and are dropped; {} reliable message(s) were "
      "still queued, unacknowledged (their publishers resend them)",
      dropped, unacknowledged);
}

std::string Daemon::Impl::status() const {
  const auto& d = committer->counters();
  const auto& o = outbox->counters();
  std::string line = status_line(dispatcher->counters(), ingest->counters(), outbound->counters());
  if (curve->enabled())
    line += " handshakes_refused=" + std::to_string(curve->refused()) +
            " subscriptions_refused=" + std::to_string(outbound->counters().subscriptions_refused);
  line += " retries_waiting=" + std::to_string(dispatcher->retries_waiting()) +
          " ingest_connections_closed=" + std::to_string(ingest->connections().closed());
  line += " duplicates=" + std::to_string(dispatcher->counters().duplicates);
  if (ownership) {
    std::vector<std::uint32_t> held;
    for (std::uint32_t shard = 0; shard < ownership->count(); ++shard)
      if (ownership->holds(shard)) held.push_back(shard);
    line +=
        " shards_held=" + shard_list(held) + " not_owner=" + std::to_string(dispatcher->counters().not_owner);
  }
  line += " no_subscriber=" + std::to_string(outbound->counters().no_subscriber);
  if (reliable) {
    line += " reliable_received=" + std::to_string(reliable->counters().messages);
    line += " acks=" + std::to_string(reliable->counters().acks);
  }
  line += " outbox_recovered=" + std::to_string(o.recovered) +
          " outbox_waiting=" + std::to_string(outbox->waiting());
  line += " commits_failed=" + std::to_string(d.commits_failed) +
          " discarded_sends=" + std::to_string(o.discarded);
  line +=
      " batches_recovered=" + std::to_string(d.batches_recovered) + " given_up=" + std::to_string(d.given_up);
  line += " lost=" + std::to_string(d.lost);
  return line;
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
      swap_in(next);
    });
  });
}

void Daemon::Impl::swap_in(const std::shared_ptr<dispatch::Runtime>& next) {
  const config::Config& old_config = runtime_->config();
  const config::Config& new_config = next->config();
  auto restart_needed = [](const char* key, const std::string& was, const std::string& now) {
    if (was != now)
      spdlog::warn("reload: {} changed from \"{}\" to \"{}\"; still using \"{}\" until restart", key, was,
                   now, was);
  };
  restart_needed("ingest.bind", old_config.ingest_bind, new_config.ingest_bind);
  restart_needed("outbound.bind", old_config.outbound_bind, new_config.outbound_bind);
  restart_needed("ingest.reliable_bind", old_config.ingest_reliable_bind, new_config.ingest_reliable_bind);
  restart_needed("state.backend", old_config.state.backend, new_config.state.backend);
  restart_needed("state_dir", old_config.state.dir.string(), new_config.state.dir.string());
  restart_needed("state.url", store::redacted_url(old_config.state.url),
                 store::redacted_url(new_config.state.url));
  restart_needed("security.secret_key_file", old_config.security.secret_key_file.string(),
                 new_config.security.secret_key_file.string());
  restart_needed("workers", std::to_string(dispatcher->workers()),
                 std::to_string(config::worker_count(new_config)));
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
  if (ownership) update_subscriptions(true);
  // libzmq copies ZMQ_MAXMSGSIZE into the listener at bind: a setsockopt now would change nothing,
  // so a raised limit reaches the wire only after a restart (decoding takes any new limit at once).
  if (new_config.limits.max_body_bytes > ingest->max_body_bytes())
    spdlog::warn(
        "reload: limits.max_body_bytes raised to {}; decoding uses it now, but the ingest sockets keep "
        "dropping frames over {} + 64 KiB (their limit at bind) until restart",
        new_config.limits.max_body_bytes, ingest->max_body_bytes());
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

void Daemon::Impl::arm_retry_timer() {
  const std::optional<std::int64_t> due = dispatcher->next_retry_due_ms();
  if (stopping || due == retry_armed_for_ms) return;
  retry_armed_for_ms = due;
  if (!due) {
    retry_timer.cancel();
    return;
  }
  retry_timer.expires_at(std::chrono::system_clock::time_point(std::chrono::milliseconds(*due)));
  retry_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping) return;
    run_retries();
  });
}

void Daemon::Impl::run_retries() {
  // Like an ingest batch: one transaction, a bounded number, then back to the loop.
  constexpr std::size_t kRetriesPerTurn = 256;
  // Through the committer, so what the retried steps send leaves only after their commit.
  // While it holds a failed batch, the store is failing: try again later.
  if (committer->holding()) {
    retry_timer.expires_after(std::chrono::milliseconds(500));
    retry_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      run_retries();
    });
    return;
  }
  committer->begin();
  dispatcher->run_due_retries(dispatch::RetryScheduler::now_ms(), kRetriesPerTurn);
  dispatcher->end_batch();
  committer->end();
  outbound->drain_subscriptions();
  retry_armed_for_ms.reset();
  arm_retry_timer();
}

bool Daemon::Impl::run_in_batch(const std::function<void(store::StateStore&, const Resubmit&)>& work) {
  // Like run_retries: one transaction through the committer, never while it holds a failed batch.
  if (committer->holding() || stopping) return false;
  committer->begin();
  work(*store_, [this](std::string_view topic, std::string_view body, std::string_view source) {
    return committer->add(topic, body, source);
  });
  dispatcher->end_batch();
  committer->end();
  outbound->drain_subscriptions();
  arm_retry_timer();
  return true;
}

void Daemon::Impl::arm_prune_timer(std::chrono::milliseconds after) {
  prune_timer.expires_after(after);
  prune_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping) return;
    prune_dead_letters();
  });
}

void Daemon::Impl::prune_dead_letters() {
  // Small chunks between batches: a big backlog is deleted over several turns, never in one long
  // transaction that would hold up dispatch.
  constexpr std::int64_t kRowsPerChunk = 2000;
  dispatcher->flush_suppressed_logs();
  const config::Limits& limits = runtime_->config().limits;
  store::DeadLetterRetention retention;
  retention.max_rows = static_cast<std::int64_t>(limits.dead_letter_max_rows);
  retention.max_rows_per_account = static_cast<std::int64_t>(limits.dead_letter_max_rows_per_account);
  retention.max_age_s = static_cast<std::int64_t>(limits.dead_letter_max_age_s);
  const Expected<std::int64_t> deleted = store_->dead_letters_prune(retention, kRowsPerChunk);
  if (!deleted) spdlog::warn("dead letter retention: {}; trying again later", deleted.error().message);
  if (deleted && *deleted > 0) spdlog::info("dead letter retention: deleted {} old row(s)", *deleted);
  const bool more = deleted && *deleted == kRowsPerChunk;
  arm_prune_timer(more ? std::chrono::milliseconds(20) : std::chrono::milliseconds(kPruneIntervalMs));
}

void Daemon::Impl::start_cluster(const config::Config& config) {
  const config::ClusterConfig& cluster = *config.cluster;
  ownership.emplace(cluster.shards);
  dispatcher->set_ownership(&*ownership);
  if (config.state.backend != "postgresql") {
    // Only this process can use the state folder (its lock): its owned shards are its own.
    for (std::uint32_t shard : cluster.owned) ownership->set(shard, true);
    spdlog::info(
        "cluster: {} holds shards {} of {} (state.backend {}: no leases, the state folder's lock "
        "keeps others out)",
        cluster.name, shard_list(cluster.owned), cluster.shards, config.state.backend);
    return;
  }
  cluster::LeaseOptions lease;
  lease.url = cluster::lease_database_url(config);
  lease.name = cluster.name;
  lease.owned = cluster.owned;
  lease.standby = cluster.standby;
  lease.poll = std::chrono::milliseconds(cluster.lease_poll_ms);
  lease.standby_delay = 3 * lease.poll;
  leases = std::make_unique<cluster::ShardLeases>(lease, [this](const std::vector<std::uint32_t>& held) {
    asio::post(io_, [this, held] { apply_held(held); });
  });
  spdlog::info("cluster: {} wants shards {} (standby for {}) of {}; polling for leases every {} ms",
               cluster.name, shard_list(cluster.owned), shard_list(cluster.standby), cluster.shards,
               cluster.lease_poll_ms);
}

void Daemon::Impl::apply_held(const std::vector<std::uint32_t>& held) {
  if (stopping) return;
  std::vector<std::uint32_t> gained;
  std::vector<std::uint32_t> lost;
  for (std::uint32_t shard = 0; shard < ownership->count(); ++shard) {
    const bool now = std::binary_search(held.begin(), held.end(), shard);
    if (now == ownership->holds(shard)) continue;
    (now ? gained : lost).push_back(shard);
    ownership->set(shard, now);
  }
  if (gained.empty() && lost.empty()) return;
  // Given up first: from here on this dispatcher neither handles nor sends for those accounts.
  if (!lost.empty()) {
    const std::size_t rows = outbox->release([this](const store::OutboxRow& row) { return !owns_row(row); });
    const std::size_t retries = dispatcher->release_retries();
    spdlog::warn(
        "cluster: lost shard(s) {}: their {} unsent outbox row(s) and {} waiting retr(ies) are left "
        "to the new owner",
        shard_list(lost), rows, retries);
  }
  if (!gained.empty()) {
    // The previous owner's committed work carries on here: its unsent rows and its retries.
    try {
      outbox->recover([this, &gained](const store::OutboxRow& row) {
        const std::uint32_t shard =
            row.account_key.empty() ? 0 : shard_of(row.account_key, ownership->count());
        return std::find(gained.begin(), gained.end(), shard) != gained.end();
      });
      dispatcher->load_pending_retries();
    } catch (const std::exception& e) {
      spdlog::error("cluster: taking over shard(s) {}: {}; their unsent rows or retries wait for a restart",
                    shard_list(gained), e.what());
    }
    spdlog::info("cluster: took shard(s) {}", shard_list(gained));
  }
  update_subscriptions(true);
  committer->subscribers_changed();
  committer->update_reading();
  retry_armed_for_ms.reset();
  arm_retry_timer();
}

void Daemon::Impl::update_subscriptions(bool force) {
  const dispatch::RouteIndex& routes = runtime_->routes();
  if (!force && subscribed_runtime == runtime_.get() && subscribed_generation == routes.generation()) return;
  subscribed_runtime = runtime_.get();
  subscribed_generation = routes.generation();
  ingest->set_subscriptions(cluster::ingest_prefixes(*ownership, routes.account_keys()));
}

std::vector<DaemonControl::ShardFigures> Daemon::Impl::shard_figures() const {
  if (!ownership) return {};
  const std::uint32_t shards = ownership->count();
  const std::vector<std::size_t> rows = outbox->waiting_by_shard(shards);
  const std::vector<std::size_t> retries = dispatcher->retries_waiting_by_shard(shards);
  const std::vector<std::uint64_t>& handled = dispatcher->counters().handled_by_shard;
  std::vector<ShardFigures> figures;
  for (std::uint32_t shard = 0; shard < shards; ++shard)
    figures.push_back({shard, ownership->holds(shard), handled[shard], rows[shard], retries[shard]});
  return figures;
}

Daemon::Daemon(DaemonOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Daemon::~Daemon() = default;

int Daemon::run() {
  return impl_->run();
}

}  // namespace vumi::transport
