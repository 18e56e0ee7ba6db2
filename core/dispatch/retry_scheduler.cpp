#include "dispatch/retry_scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <chrono>

#include "common/shard_hash.hpp"
#include "store/store_values.hpp"

namespace vumi::dispatch {

namespace bj = boost::json;

std::string event_topic(const event::Envelope& event) {
  std::string topic = "event.";
  topic.append(event.account_key)
      .append(".")
      .append(event.conversation_type)
      .append(".")
      .append(event.event_type);
  return topic;
}

RetryScheduler::RetryScheduler(store::StateStore& store, DeadLetterRecorder& dead_letters, Counters& counters)
    : store_(store), dead_letters_(dead_letters), counters_(counters) {}

std::int64_t RetryScheduler::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t RetryScheduler::backoff_ms(const config::RetryPolicy& policy, std::uint32_t failed_attempts,
                                        std::int64_t hint_ms) {
  const std::int64_t cap = policy.max_backoff_ms;
  if (hint_ms >= 0) return std::min(hint_ms, cap);
  std::int64_t delay = policy.initial_backoff_ms;
  for (std::uint32_t i = 1; i < failed_attempts && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

void RetryScheduler::step_wants_retry(Request request) {
  const config::RetryPolicy& policy = request.route->spec->retry;
  const event::Envelope& event = *request.event;
  request.attempts.push_back(bj::object{{"at", store::now_iso8601_utc_ms()}, {"error", request.error}});
  const auto attempts = static_cast<std::uint32_t>(request.attempts.size());

  if (attempts >= policy.max_attempts) {
    ++counters_.retries_exhausted;
    store::DeadLetter letter;
    letter.reason = "retries_exhausted";
    letter.message = "step " + request.step + " did not succeed in " + std::to_string(attempts) +
                     " attempt(s) (max_attempts " + std::to_string(policy.max_attempts) +
                     "); last error: " + request.error;
    letter.account_key = std::string(event.account_key);
    letter.route = config::route_path(event.account_key, request.route->order);
    letter.step = request.step;
    letter.topic = event_topic(event);
    letter.attempts = bj::serialize(request.attempts);
    letter.input = event.json();
    dead_letters_.record(std::move(letter));
    return;
  }

  store::PendingRetry retry;
  const std::int64_t delay = backoff_ms(policy, attempts, request.retry_after_ms);
  retry.due_at_ms = now_ms() + delay;
  retry.account_key = std::string(event.account_key);
  retry.route = config::route_path(event.account_key, request.route->order);
  retry.step_index = static_cast<std::int64_t>(request.step_index);
  retry.topic = event_topic(event);
  retry.event = event.json();
  retry.steps = request.outputs ? bj::serialize(*request.outputs) : "{}";
  retry.attempts = bj::serialize(request.attempts);
  if (const Expected<std::int64_t> id = store_.pending_retry_put(retry)) {
    retry.id = *id;
  } else {
    // Still retried by this process; only a restart before then would lose it, so say so loudly.
    spdlog::error("retry of event {} ({} {}) is kept in memory only: {}", event.event_id, retry.route,
                  request.step, id.error().message);
  }
  ++counters_.retries_scheduled;
  spdlog::info("event {}: step {} of {} asked for a retry (attempt {} of {}): {}; next attempt in {} ms",
               event.event_id, request.step, retry.route, attempts, policy.max_attempts, request.error,
               delay);
  queue_.push(std::move(retry));
}

void RetryScheduler::load(const AccountFilter& filter) {
  std::vector<store::PendingRetry> waiting;
  waiting.reserve(queue_.size());
  for (; !queue_.empty(); queue_.pop()) waiting.push_back(queue_.top());
  std::size_t loaded = 0;
  for (store::PendingRetry& retry : store_.pending_retries()) {
    if (filter && !filter(retry.account_key)) continue;
    const auto same = [&retry](const store::PendingRetry& w) { return w.id == retry.id; };
    if (std::any_of(waiting.begin(), waiting.end(), same)) continue;
    waiting.push_back(std::move(retry));
    ++loaded;
  }
  for (store::PendingRetry& retry : waiting) queue_.push(std::move(retry));
  if (loaded > 0) spdlog::info("retries: {} pending from an earlier run or another owner", loaded);
}

std::vector<std::size_t> RetryScheduler::waiting_by_shard(std::uint32_t shards) const {
  std::vector<std::size_t> counts(shards, 0);
  if (shards == 0) return counts;
  for (auto copy = queue_; !copy.empty(); copy.pop()) ++counts[shard_of(copy.top().account_key, shards)];
  return counts;
}

std::size_t RetryScheduler::release(const AccountFilter& filter) {
  std::vector<store::PendingRetry> kept;
  std::size_t released = 0;
  for (; !queue_.empty(); queue_.pop()) {
    if (filter(queue_.top().account_key))
      ++released;
    else
      kept.push_back(queue_.top());
  }
  for (store::PendingRetry& retry : kept) queue_.push(std::move(retry));
  return released;
}

std::optional<std::int64_t> RetryScheduler::next_due_ms() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.top().due_at_ms;
}

std::vector<store::PendingRetry> RetryScheduler::take_due(std::int64_t now, std::size_t max) {
  std::vector<store::PendingRetry> due;
  while (!queue_.empty() && due.size() < max && queue_.top().due_at_ms <= now) {
    due.push_back(queue_.top());
    queue_.pop();
  }
  return due;
}

}  // namespace vumi::dispatch
