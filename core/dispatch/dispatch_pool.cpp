#include "dispatch/dispatch_pool.hpp"

#include <functional>
#include <string>
#include <utility>

#include "crash/crash_handler.hpp"
#include "dispatch/crash_guard.hpp"

namespace vumi::dispatch {

namespace {

// One worker's outbound sink when there are several: one send at a time, under the store's mutex
// (the daemon's sink writes the outbox table through the unlocked store). The account of the
// sends is kept per worker and handed over with each send, since the inner sink is shared.
class LockedSink final : public OutboundSink {
 public:
  LockedSink(OutboundSink& inner, std::mutex& mutex) : inner_(inner), mutex_(mutex) {}
  void send(std::string_view topic, std::string_view body) override {
    const std::lock_guard<std::mutex> lock(mutex_);
    inner_.set_account(account_);
    inner_.send(topic, body);
  }
  void set_account(std::string_view account) override { account_.assign(account); }

 private:
  OutboundSink& inner_;
  std::mutex& mutex_;
  std::string account_;
};

// "event.<account>.<type>.<event_type>" -> "<account>"; empty for any other topic. The body must
// agree with the topic (a message whose body names another account is rejected, with no effect
// but its dead letter), so the topic's account is the one whose order counts.
std::string_view event_topic_account(std::string_view topic) {
  constexpr std::string_view kPrefix = "event.";
  if (!topic.starts_with(kPrefix)) return {};
  const std::string_view rest = topic.substr(kPrefix.size());
  return rest.substr(0, rest.find('.'));
}

}  // namespace

void add_counters(Counters& into, const Counters& from) {
  // A field added to Counters must be added here too: the sum of the members' object sizes (not
  // their element counts) breaks the build when one is added.
  // NOLINTBEGIN(bugprone-sizeof-container): the containers' object sizes, on purpose
  static_assert(sizeof(Counters) == 15 * sizeof(std::uint64_t) + sizeof(Counters::handled_by_shard) +
                                        sizeof(Counters::rejected) + sizeof(Counters::step_timings) +
                                        sizeof(Counters::plugin_metrics));
  // NOLINTEND(bugprone-sizeof-container)
  into.received += from.received;
  into.events += from.events;
  into.chains_run += from.chains_run;
  into.chains_failed += from.chains_failed;
  into.emitted += from.emitted;
  into.commands_forwarded += from.commands_forwarded;
  into.published += from.published;
  into.dead_letters += from.dead_letters;
  into.unrouted += from.unrouted;
  into.quarantined += from.quarantined;
  into.duplicates += from.duplicates;
  into.not_owner += from.not_owner;
  if (into.handled_by_shard.size() < from.handled_by_shard.size())
    into.handled_by_shard.resize(from.handled_by_shard.size());
  for (std::size_t i = 0; i < from.handled_by_shard.size(); ++i)
    into.handled_by_shard[i] += from.handled_by_shard[i];
  into.retries_scheduled += from.retries_scheduled;
  into.retries_run += from.retries_run;
  into.retries_exhausted += from.retries_exhausted;
  for (std::size_t i = 0; i < into.rejected.size(); ++i) into.rejected[i] += from.rejected[i];
  for (const auto& [type, timings] : from.step_timings) {
    StepTimings& sum = into.step_timings[type];
    for (std::size_t i = 0; i < sum.buckets.size(); ++i) sum.buckets[i] += timings.buckets[i];
    sum.count += timings.count;
    sum.sum_seconds += timings.sum_seconds;
    sum.failed += timings.failed;
  }
  for (const auto& [key, value] : from.plugin_metrics) into.plugin_metrics[key] += value;
}

DispatchPool::DispatchPool(std::shared_ptr<const Runtime> runtime, store::StateStore& store,
                           OutboundSink& outbound, std::size_t workers)
    : runtime_(std::move(runtime)), threads_(workers), lanes_(workers) {
  if (workers == 1) {
    dispatchers_.push_back(std::make_unique<Dispatcher>(runtime_, store, outbound));
    return;
  }
  locked_store_ = std::make_unique<store::LockedStateStore>(store, store_mutex_);
  for (std::size_t i = 0; i < workers; ++i) {
    locked_outbounds_.push_back(std::make_unique<LockedSink>(outbound, store_mutex_));
    dispatchers_.push_back(std::make_unique<Dispatcher>(runtime_, *locked_store_, *locked_outbounds_.back()));
  }
}

DispatchPool::~DispatchPool() = default;

std::optional<std::size_t> DispatchPool::worker_of(const Job& job) {
  const std::size_t n = dispatchers_.size();
  if (std::string_view account = event_topic_account(job.topic); !account.empty())
    return std::hash<std::string_view>{}(account) % n;
  if (!job.topic.starts_with("inbound.")) return std::nullopt;
  // An inbound message's account owns its tag: the first worker decodes it for the tag (on this
  // thread, watched by the crash guard; the worker decodes it again).
  const std::string_view owner = first().inbound_owner(job.topic, job.body);
  if (owner.empty()) return std::nullopt;
  return std::hash<std::string_view>{}(owner) % n;
}

void DispatchPool::handle_all(std::span<Job> jobs) {
  if (dispatchers_.size() == 1) {
    for (Job& job : jobs)
      job.outcome = first().handle(job.topic, job.body, job.event_id_if_absent, job.source);
    return;
  }
  // Runs of messages with a known account are spread; any other message is a barrier between them.
  std::vector<std::size_t> worker;
  worker.reserve(jobs.size());
  std::size_t spread_from = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (std::optional<std::size_t> w = worker_of(jobs[i])) {
      worker.push_back(*w);
      continue;
    }
    run_spread(jobs.subspan(spread_from, i - spread_from), worker);
    worker.clear();
    Job& alone = jobs[i];
    alone.outcome = first().handle(alone.topic, alone.body, alone.event_id_if_absent, alone.source);
    spread_from = i + 1;
  }
  run_spread(jobs.subspan(spread_from), worker);
}

void DispatchPool::run_spread(std::span<Job> jobs, const std::vector<std::size_t>& worker) {
  if (jobs.empty()) return;
  for (auto& lane : lanes_) lane.clear();
  for (std::size_t i = 0; i < jobs.size(); ++i) lanes_[worker[i]].push_back(&jobs[i]);
  auto run_lane = [this](std::size_t lane) {
    Dispatcher& dispatcher = *dispatchers_[lane];
    // A crash on this thread is reported with this dispatcher's message.
    const crash::ThreadInFlight watched(lane < in_flight_.size() ? in_flight_[lane] : nullptr);
    for (Job* job : lanes_[lane])
      job->outcome = dispatcher.handle(job->topic, job->body, job->event_id_if_absent, job->source);
  };
  std::size_t busy = 0, last = 0;
  for (std::size_t i = 0; i < lanes_.size(); ++i)
    if (!lanes_[i].empty()) ++busy, last = i;
  if (busy == 1) {
    // One account (or accounts of one worker): no thread to wake; a lane's dispatcher is used by
    // one thread at a time, whichever it is.
    run_lane(last);
    return;
  }
  threads_.run(run_lane);
}

void DispatchPool::refuse(const event::Rejection& rejection, std::string_view topic, std::string_view body,
                          std::string_view source) {
  first().refuse(rejection, topic, body, source);
}

void DispatchPool::set_ownership(const ShardOwnership* ownership) {
  for (const auto& d : dispatchers_) d->set_ownership(ownership);
}

std::size_t DispatchPool::release_retries() {
  std::size_t released = 0;
  for (const auto& d : dispatchers_) released += d->release_retries();
  return released;
}

std::vector<std::size_t> DispatchPool::retries_waiting_by_shard(std::uint32_t shards) const {
  std::vector<std::size_t> waiting(shards, 0);
  for (const auto& d : dispatchers_) {
    const std::vector<std::size_t> of_worker = d->retries_waiting_by_shard(shards);
    for (std::size_t i = 0; i < of_worker.size() && i < waiting.size(); ++i) waiting[i] += of_worker[i];
  }
  return waiting;
}

void DispatchPool::load_pending_retries() {
  // The first worker loads every stored retry of the accounts held here, so the others forget
  // theirs (all stored: scheduled in committed batches) rather than hold a second copy.
  for (std::size_t i = 1; i < dispatchers_.size(); ++i) dispatchers_[i]->forget_retries();
  first().load_pending_retries();
}

std::optional<std::int64_t> DispatchPool::next_retry_due_ms() const {
  std::optional<std::int64_t> earliest;
  for (const auto& d : dispatchers_)
    if (auto due = d->next_retry_due_ms(); due && (!earliest || *due < *earliest)) earliest = due;
  return earliest;
}

std::size_t DispatchPool::run_due_retries(std::int64_t now_ms, std::size_t max) {
  // On the calling thread: each worker keeps the retries its steps asked for.
  std::size_t ran = 0;
  for (const auto& d : dispatchers_) {
    if (ran >= max) break;
    ran += d->run_due_retries(now_ms, max - ran);
  }
  return ran;
}

std::size_t DispatchPool::retries_waiting() const {
  std::size_t n = 0;
  for (const auto& d : dispatchers_) n += d->retries_waiting();
  return n;
}

void DispatchPool::end_batch() {
  for (const auto& d : dispatchers_) d->end_batch();
}

void DispatchPool::flush_suppressed_logs() {
  for (const auto& d : dispatchers_) d->flush_suppressed_logs();
}

void DispatchPool::guard_crashes(CrashGuard& guard) {
  first().guard_crashes(guard);
  in_flight_.assign(1, &guard.in_flight());
  worker_in_flight_.clear();
  for (std::size_t i = 1; i < dispatchers_.size(); ++i) {
    auto& record = worker_in_flight_.emplace_back(std::make_unique<crash::InFlight>());
    dispatchers_[i]->share_quarantine(guard, *record);
    in_flight_.push_back(record.get());
  }
}

void DispatchPool::replace_runtime(const std::shared_ptr<const Runtime>& runtime) {
  runtime_ = runtime;
  for (const auto& d : dispatchers_) d->replace_runtime(runtime);
}

const Counters& DispatchPool::counters() const {
  if (dispatchers_.size() == 1) return first_const().counters();
  sum_ = Counters{};
  for (const auto& d : dispatchers_) add_counters(sum_, d->counters());
  return sum_;
}

void DispatchPool::set_observer(ChainObserver* observer) {
  for (const auto& d : dispatchers_) d->set_observer(observer);
}

}  // namespace vumi::dispatch
