#include "transport/batch_committer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/derived_id.hpp"
#include "common/identifier.hpp"
#include "dispatch/dead_letters.hpp"

namespace vumi::transport {

namespace {

std::string_view ack_of(dispatch::HandleOutcome outcome) {
  switch (outcome) {
    case dispatch::HandleOutcome::processed:
      return ack_status::ok;
    case dispatch::HandleOutcome::duplicate:
      return ack_status::duplicate;
    case dispatch::HandleOutcome::rejected:
      return ack_status::rejected;
    case dispatch::HandleOutcome::not_owner:
      return ack_status::not_owner;
  }
  return ack_status::retry;
}

}  // namespace

BatchCommitter::BatchCommitter(boost::asio::io_context& io, store::StateStore& store,
                               dispatch::Dispatcher& dispatcher, Outbox& outbox,
                               std::function<void(bool)> set_reading)
    : store_(store),
      dispatcher_(dispatcher),
      outbox_(outbox),
      set_reading_(std::move(set_reading)),
      retry_timer_(io) {}

void BatchCommitter::begin() {
  batch_.clear();
  run_upto_ = 0;
  const Expected<void> begun = store_.begin_batch();
  begin_failed_ = !begun;
  begin_error_ = begun ? std::string() : begun.error().message;
  if (begin_failed_) return;  // the messages are only held, and run when a retry can begin
  outbox_.batch_begun();
}

namespace {

// A reliable message without an event_id gets one derived from its msg_id, so a resend of it
// is the same event to the ledger and yields the same derived ids.
// An identifier msg_id is used as it is: a worker's increasing ids then land next to each other
// in the ledger's index (cheap inserts), where hashed ones would be scattered.
// Made once, when the message arrives (it may run again on a retry): empty when msg_id serves.
std::string derived_event_id(std::string_view msg_id) {
  if (msg_id.empty() || is_identifier(msg_id)) return {};
  return derived_id({"reliable", msg_id});
}

}  // namespace

void BatchCommitter::run(Message& message) {
  message.outcome = dispatcher_.handle(message.topic, message.body, message.event_id(), message.source);
}

void BatchCommitter::run_queued() {
  if (begin_failed_ || run_upto_ == batch_.size()) return;
  if (!pool_) {
    for (; run_upto_ < batch_.size(); ++run_upto_) run(batch_[run_upto_]);
    return;
  }
  jobs_.clear();
  for (std::size_t i = run_upto_; i < batch_.size(); ++i) {
    const Message& m = batch_[i];
    jobs_.push_back({m.topic, m.body, m.event_id(), m.source});
  }
  pool_->handle_all(jobs_);
  for (const auto& job : jobs_) batch_[run_upto_++].outcome = job.outcome;
}

dispatch::HandleOutcome BatchCommitter::add(std::string_view topic, std::string_view body,
                                            std::string_view source) {
  run_queued();  // in order: what was queued before this message runs first
  Message& message =
      batch_.emplace_back(Message{std::string(topic), std::string(body), {}, {}, std::string(source), {}});
  if (!begin_failed_) run(message);
  run_upto_ = batch_.size();
  return message.outcome;
}

void BatchCommitter::queue(std::string_view topic, std::string_view body, std::string_view source) {
  batch_.emplace_back(Message{std::string(topic), std::string(body), {}, {}, std::string(source), {}});
  if (!pool_) run_queued();
}

void BatchCommitter::add_reliable(std::string_view topic, std::string_view body, std::string_view msg_id,
                                  std::string_view peer, std::string_view source) {
  batch_.emplace_back(Message{std::string(topic), std::string(body), std::string(msg_id), std::string(peer),
                              std::string(source), derived_event_id(msg_id)});
  if (!pool_) run_queued();
}

Expected<void> BatchCommitter::commit(const std::vector<Message>& batch) {
  Expected<void> committed = store_.commit_batch();
  if (!committed) {
    outbox_.batch_rolled_back();
    return committed;
  }
  outbox_.batch_committed();
  if (acks_) {
    for (const Message& message : batch)
      if (!message.msg_id.empty()) acks_->acknowledge(message.peer, message.msg_id, ack_of(message.outcome));
  }
  return {};
}

void BatchCommitter::end() {
  run_queued();
  if (begin_failed_) {
    begin_failed_ = false;
    hold(std::move(batch_), begin_error_);
  } else if (Expected<void> committed = commit(batch_); !committed) {
    hold(std::move(batch_), committed.error().message);
  }
  batch_.clear();
  update_reading();
}

void BatchCommitter::hold(std::vector<Message>&& batch, const std::string& error) {
  ++counters_.commits_failed;
  held_ = std::move(batch);
  attempts_ = 1;
  const auto reliable =
      std::count_if(held_.begin(), held_.end(), [](const Message& m) { return !m.msg_id.empty(); });
  spdlog::error(
      "state: {}; none of this batch's effects left the process ({} message(s), {} of them reliable, not "
      "acknowledged); ingest paused, retrying (attempt 2 of {})",
      error, held_.size(), reliable, kMaxAttempts);
  schedule_retry();
}

void BatchCommitter::schedule_retry() {
  auto backoff = kInitialBackoff * (1 << std::min(attempts_ - 1, 16));
  backoff = std::min<std::chrono::milliseconds>(backoff, kMaxBackoff);
  retry_timer_.expires_after(backoff);
  retry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && holding()) retry();
  });
}

void BatchCommitter::retry() {
  ++attempts_;
  Expected<void> outcome = store_.begin_batch();
  if (outcome) {
    outbox_.batch_begun();
    for (Message& message : held_) run(message);
    outcome = commit(held_);
  }
  if (outcome) {
    ++counters_.batches_recovered;
    spdlog::info(
        "state: recovered; the held batch of {} message(s) committed on attempt {}, its effects sent",
        held_.size(), attempts_);
    held_.clear();
    update_reading();
    return;
  }
  ++counters_.commits_failed;
  if (attempts_ >= kMaxAttempts) {
    spdlog::error("state: {}; attempt {} of {} failed, giving the batch up", outcome.error().message,
                  attempts_, kMaxAttempts);
    give_up();
    update_reading();
    return;
  }
  spdlog::error("state: {}; attempt {} of {} failed, retrying", outcome.error().message, attempts_,
                kMaxAttempts);
  schedule_retry();
}

void BatchCommitter::give_up() {
  std::vector<Message> batch = std::move(held_);
  held_.clear();
  // One message per transaction: a batch that never commits may hold one message whose writes
  // always fail (the store itself may be fine); the others still go through.
  std::vector<Message> held;
  std::size_t committed_alone = 0;
  for (Message& message : batch) {
    std::vector<Message> single;
    single.push_back(std::move(message));
    if (store_.begin_batch()) {
      outbox_.batch_begun();
      run(single.front());
      if (commit(single)) {
        ++committed_alone;
        continue;
      }
    }
    held.push_back(std::move(single.front()));
  }
  if (committed_alone > 0)
    spdlog::warn("state: {} message(s) of the given-up batch committed one by one", committed_alone);
  counters_.given_up += held.size();
  std::size_t reliable = 0;
  std::vector<const Message*> unreliable;
  for (const Message& message : held) {
    if (message.msg_id.empty()) {
      unreliable.push_back(&message);
    } else {
      ++reliable;
      if (acks_) acks_->acknowledge(message.peer, message.msg_id, ack_status::retry);
    }
  }
  if (reliable > 0)
    spdlog::error(
        "state: {} reliable message(s) of the given-up batch were told to be sent again (\"retry\")",
        reliable);
  if (unreliable.empty()) return;
  // PUB/SUB messages cannot be resent by anyone: keep them as dead letters if the store takes that.
  bool stored = store_.begin_batch().has_value();
  for (const Message* message : unreliable) {
    if (!stored) break;
    store::DeadLetter letter;
    letter.reason = "store_unavailable";
    letter.message = "the state store failed " + std::to_string(kMaxAttempts) +
                     " commits of the batch holding this message (topic \"" + message->topic.substr(0, 300) +
                     "\")";
    letter.input = dispatch::DeadLetterRecorder::input_excerpt(message->body);
    stored = store_.dead_letter_put(letter).has_value();
  }
  stored = stored ? store_.commit_batch().has_value() : ((void)store_.rollback_batch(), false);
  if (stored) {
    spdlog::error("state: {} PUB/SUB message(s) of the given-up batch kept as store_unavailable dead letters",
                  unreliable.size());
    return;
  }
  counters_.lost += unreliable.size();
  spdlog::error(
      "state: {} PUB/SUB message(s) of the given-up batch are LOST (their dead letters could not be "
      "written either); they follow",
      unreliable.size());
  for (const Message* message : unreliable)
    spdlog::error("state: lost message on \"{}\": {:.2000}", message->topic, message->body);
}

void BatchCommitter::update_reading() {
  const bool want = held_.empty() && !outbox_.backlogged() && !outbox_.recovering();
  if (want == reading_) return;
  reading_ = want;
  if (!want && !held_.empty()) {
    // already logged by hold()
  } else if (!want && outbox_.recovering()) {
    spdlog::info("ingest: waiting until the recovered outbox rows are sent");
  } else if (!want) {
    spdlog::warn(
        "outbox: {} message(s) wait for subscribers; ingest paused until they connect or the start "
        "window closes",
        outbox_.waiting());
  } else {
    spdlog::info("ingest: reading");
  }
  set_reading_(want);
}

void BatchCommitter::housekeeping() {
  outbox_.flush();
  if (!holding()) outbox_.remove_sent();
  const auto now = std::chrono::steady_clock::now();
  if (!holding() && now >= next_prune_) {
    next_prune_ = now + std::chrono::hours(1);
    const auto cutoff = std::chrono::duration_cast<std::chrono::seconds>(
                            (std::chrono::system_clock::now() - kProcessedRetention).time_since_epoch())
                            .count();
    if (const Expected<std::int64_t> pruned = store_.processed_prune(cutoff)) {
      counters_.processed_pruned += static_cast<std::uint64_t>(*pruned);
    } else {
      spdlog::error("ledger: {}", pruned.error().message);
    }
  }
  update_reading();
}

void BatchCommitter::finish() {
  if (holding()) {
    retry_timer_.cancel();
    spdlog::warn("stopping with a batch of {} message(s) whose commit failed: one last attempt",
                 held_.size());
    attempts_ = kMaxAttempts - 1;
    retry();
  }
  outbox_.flush();
  outbox_.remove_sent();
  if (outbox_.waiting() > 0)
    spdlog::warn("outbox: {} committed message(s) still wait for a subscriber; kept for the next start",
                 outbox_.waiting());
}

}  // namespace vumi::transport
