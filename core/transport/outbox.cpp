#include "transport/outbox.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/shard_hash.hpp"

namespace vumi::transport {

Outbox::Outbox(store::StateStore& store, OutboundPublisher& publisher)
    : store_(store), publisher_(publisher), window_end_(std::chrono::steady_clock::now() + kStartWindow) {}

bool Outbox::in_start_window() const {
  return std::chrono::steady_clock::now() < window_end_;
}

void Outbox::recover(const RowFilter& filter) {
  std::vector<store::OutboxRow> rows = store_.outbox_pending();
  if (filter) std::erase_if(rows, [&filter](const store::OutboxRow& row) { return !filter(row); });
  if (rows.empty()) return;
  counters_.recovered += rows.size();
  spdlog::warn(
      "outbox: {} message(s) of committed batches were not confirmed sent before the last stop; sending them "
      "again as their subscribers connect (within {} s), before reading ingest",
      rows.size(), kStartWindow.count());
  last_recovered_id_ = std::max(last_recovered_id_, rows.back().id);
  // Rows already waiting (taken over once before and not sent yet) are not loaded twice.
  for (auto& row : rows) {
    const bool known = std::any_of(waiting_.begin(), waiting_.end(),
                                   [&row](const store::OutboxRow& w) { return w.id == row.id; });
    if (!known) waiting_.push_back(std::move(row));
  }
  std::sort(waiting_.begin(), waiting_.end(),
            [](const store::OutboxRow& a, const store::OutboxRow& b) { return a.id < b.id; });
}

std::vector<std::size_t> Outbox::waiting_by_shard(std::uint32_t shards) const {
  std::vector<std::size_t> counts(shards, 0);
  if (shards == 0) return counts;
  for (const auto& row : waiting_) ++counts[row.account_key.empty() ? 0 : shard_of(row.account_key, shards)];
  return counts;
}

std::size_t Outbox::release(const RowFilter& filter) {
  return std::erase_if(waiting_, filter);
}

bool Outbox::recovering() const {
  return !waiting_.empty() && waiting_.front().id <= last_recovered_id_ && in_start_window();
}

void Outbox::send(std::string_view topic, std::string_view body) {
  if (!in_batch_) {
    publisher_.send(topic, body);
    return;
  }
  const Expected<std::int64_t> id = store_.outbox_put(topic, body, account_);
  if (!id) {
    // The store refuses the batch's commit after a failed write, so nothing of it goes out.
    spdlog::error("outbox: {}", id.error().message);
    return;
  }
  batch_rows_.push_back({*id, std::string(topic), std::string(body), account_});
}

void Outbox::batch_begun() {
  in_batch_ = true;
  batch_rows_.clear();
  removing_ = std::move(sent_ids_);
  sent_ids_.clear();
  if (removing_.empty()) return;
  const Expected<void> removed = store_.outbox_remove(removing_);
  if (!removed) spdlog::error("outbox: {}", removed.error().message);
}

void Outbox::batch_committed() {
  in_batch_ = false;
  removing_.clear();
  for (auto& row : batch_rows_) waiting_.push_back(std::move(row));
  batch_rows_.clear();
  flush();
}

void Outbox::batch_rolled_back() {
  in_batch_ = false;
  counters_.discarded += batch_rows_.size();
  batch_rows_.clear();
  // The removals were undone with the batch; they are made again later.
  sent_ids_.insert(sent_ids_.end(), removing_.begin(), removing_.end());
  removing_.clear();
}

void Outbox::flush() {
  if (waiting_.empty()) return;
  if (!in_start_window()) {
    for (const auto& row : waiting_) {
      publisher_.send(row.topic, row.body);  // counted by the publisher if no subscriber takes it
      sent_ids_.push_back(row.id);
    }
    counters_.sent += waiting_.size();
    waiting_.clear();
    return;
  }
  // Within the start window a row waits for a subscriber of its topic; rows of one topic keep
  // their order because a subscription covers all of them at once.
  std::deque<store::OutboxRow> still_waiting;
  for (auto& row : waiting_) {
    if (publisher_.has_subscriber(row.topic)) {
      publisher_.send(row.topic, row.body);
      sent_ids_.push_back(row.id);
      ++counters_.sent;
    } else {
      still_waiting.push_back(std::move(row));
    }
  }
  waiting_ = std::move(still_waiting);
}

void Outbox::remove_sent() {
  if (in_batch_ || sent_ids_.empty()) return;
  const Expected<void> removed = store_.outbox_remove(sent_ids_);
  if (!removed) {
    spdlog::error("outbox: {}", removed.error().message);
    return;
  }
  sent_ids_.clear();
}

}  // namespace vumi::transport
