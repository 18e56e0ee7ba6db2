// One batch of ingest messages, one transaction: runs each message through the dispatcher inside
// the store's batch, commits, and only then sends the batch's outbox rows and acknowledges its
// reliable messages. A batch whose commit fails is held and run again with backoff while the
// store recovers, with ingest paused; after the last attempt its messages become dead letters
// (PUB/SUB) or are told to be resent (reliable). docs/delivery.md.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "dispatch/dispatch_pool.hpp"
#include "dispatch/dispatcher.hpp"
#include "store/state_store.hpp"
#include "transport/outbox.hpp"
#include "transport/reliable_ingest.hpp"

namespace vumi::transport {

struct DeliveryCounters {
  std::uint64_t commits_failed = 0;     // batch commits (or begins) that failed, first tries and retries
  std::uint64_t batches_recovered = 0;  // held batches that committed on a retry
  std::uint64_t given_up = 0;           // messages of batches that never committed
  std::uint64_t lost = 0;               // of those, PUB/SUB messages whose dead letter failed too (logged)
  std::uint64_t processed_pruned = 0;   // processed-message keys forgotten after the retention window
};

class BatchCommitter {
 public:
  // Attempts of a failed batch (the first included) and the backoff between them.
  static constexpr int kMaxAttempts = 10;
  static constexpr std::chrono::milliseconds kInitialBackoff{100};
  static constexpr std::chrono::milliseconds kMaxBackoff{5000};
  // How long the processed-message ledger remembers an id.
  static constexpr std::chrono::hours kProcessedRetention{24 * 7};

  // set_reading(false) pauses both ingest readers, set_reading(true) resumes them.
  BatchCommitter(boost::asio::io_context& io, store::StateStore& store, dispatch::Dispatcher& dispatcher,
                 Outbox& outbox, std::function<void(bool)> set_reading);

  // Where acknowledgements of reliable messages go (null: no reliable ingest).
  void set_acknowledger(ReliableIngestReader* reader) { acks_ = reader; }
  // The dispatch workers (docs/workers.md): with more than one, queued messages run at end(),
  // spread over them by account (null, or one worker: each runs when added, on `dispatcher`).
  void set_pool(dispatch::DispatchPool* pool) { pool_ = pool && pool->workers() > 1 ? pool : nullptr; }

  void begin();
  // source names where a message came from, for its dead letters. Runs it now and returns what
  // became of it (processed when the batch could not begin: it is held and run on a retry).
  dispatch::HandleOutcome add(std::string_view topic, std::string_view body, std::string_view source = {});
  // An ingest message: run now with one worker, at end() with several (set_pool).
  void queue(std::string_view topic, std::string_view body, std::string_view source = {});
  void add_reliable(std::string_view topic, std::string_view body, std::string_view msg_id,
                    std::string_view peer, std::string_view source = {});
  // Runs the batch's messages queued and not run yet (with several workers, spread over them);
  // end() does it too, but dead letters the dispatcher holds are written after it (end_batch).
  void run_queued();
  void end();

  // A subscriber connected to the outbound socket: send what waited for it.
  void subscribers_changed() {
    outbox_.flush();
    update_reading();
  }
  // Every second: sends outbox rows that may go, removes sent rows, prunes the ledger hourly,
  // resumes reading when the outbox backlog has cleared.
  void housekeeping();
  // At shutdown: one last attempt for a held batch (then it is given up), the outbox flushed
  // and its sent rows removed.
  void finish();

  // Asks set_reading for what is due now: reading unless a batch is held, the outbox holds rows
  // recovered at start, or too many rows wait for subscribers. Called at start and on changes.
  void update_reading();

  bool holding() const { return !held_.empty(); }
  std::uint64_t held_messages() const { return held_.size(); }
  const DeliveryCounters& counters() const { return counters_; }

 private:
  struct Message {
    std::string topic;
    std::string body;
    std::string msg_id;  // empty for PUB/SUB
    std::string peer;
    std::string source;   // where the message came from (dead letters)
    std::string derived;  // its event id when msg_id is not an identifier itself (batch_committer.cpp)
    dispatch::HandleOutcome outcome = dispatch::HandleOutcome::processed;

    // The event id a reliable message gets when its body has none (empty for PUB/SUB).
    std::string_view event_id() const { return derived.empty() ? std::string_view(msg_id) : derived; }
  };

  void run(Message& message);
  // Commits the open batch; on success sends its outbox rows and acknowledgements, on failure
  // (its writes rolled back) says why.
  Expected<void> commit(const std::vector<Message>& batch);
  void hold(std::vector<Message>&& batch, const std::string& error);
  void schedule_retry();
  void retry();
  void give_up();

  store::StateStore& store_;
  dispatch::Dispatcher& dispatcher_;
  Outbox& outbox_;
  std::function<void(bool)> set_reading_;
  ReliableIngestReader* acks_ = nullptr;
  dispatch::DispatchPool* pool_ = nullptr;         // set with more than one worker
  std::size_t run_upto_ = 0;                       // batch_[0, run_upto_) have run
  std::vector<dispatch::DispatchPool::Job> jobs_;  // reused by run_queued
  boost::asio::steady_timer retry_timer_;
  std::vector<Message> batch_;  // the open batch
  bool begin_failed_ = false;
  std::string begin_error_;
  std::vector<Message> held_;  // a batch whose commit failed, waiting for its next attempt
  int attempts_ = 0;
  bool reading_ = false;
  std::chrono::steady_clock::time_point next_prune_{};
  DeliveryCounters counters_;
};

}  // namespace vumi::transport
