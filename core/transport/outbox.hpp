// Commit, then send: the dispatcher's outbound messages are written to the store's outbox table in
// the batch's transaction and handed to the outbound socket only after that batch committed
// (docs/delivery.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "dispatch/outbound.hpp"
#include "store/state_store.hpp"
#include "transport/outbound_publisher.hpp"

namespace vumi::transport {

struct OutboxCounters {
  std::uint64_t recovered = 0;  // rows found unsent at start (sent again: at-least-once)
  std::uint64_t sent = 0;       // rows handed to the outbound socket after their commit
  std::uint64_t discarded = 0;  // rows of batches that failed to commit: never sent
};

class Outbox final : public dispatch::OutboundSink {
 public:
  // How long after start a row waits for a subscriber of its topic (subscribers reconnect after a
  // restart; a PUB drops what no subscriber takes). Afterwards rows are sent at once.
  static constexpr std::chrono::seconds kStartWindow{30};
  // Rows held waiting for subscribers past which the daemon stops reading ingest.
  static constexpr std::size_t kMaxWaitingRows = 10'000;

  Outbox(store::StateStore& store, OutboundPublisher& publisher);

  // Which rows a cluster member sends: those of the accounts it owns (docs/scale-out.md).
  using RowFilter = std::function<bool(const store::OutboxRow&)>;

  // Loads the rows a previous run left unsent (only those filter accepts, when given); they go out
  // first, as subscribers arrive. Called again when this dispatcher takes over shards. Control
  // plane: throws StoreError.
  void recover(const RowFilter& filter = {});
  // Forgets the unsent rows filter accepts (shards this dispatcher no longer owns): they stay in
  // the table for the new owner. Returns how many.
  std::size_t release(const RowFilter& filter);

  // The account the rows written from now on are for (OutboundSink::set_account).
  void set_account(std::string_view account) override { account_.assign(account); }

  // In a batch: writes the row to the outbox table (sent after the commit). A failed write leaves
  // the batch unable to commit. Outside a batch (not used by the daemon) it sends at once.
  void send(std::string_view topic, std::string_view body) override;

  // Batch boundaries, called by the batch committer around the store's.
  void batch_begun();      // removes the rows sent since the last batch, inside the new one
  void batch_committed();  // the batch's rows may go: sends what has a subscriber (or all, after the window)
  void batch_rolled_back();  // the batch's rows never existed; removals are retried later

  // Sends the rows that may go now (a subscriber arrived, or the start window closed).
  void flush();
  // Removes sent rows from the table outside a batch (idle time, shutdown).
  void remove_sent();

  // More rows wait for subscribers than kMaxWaitingRows: stop reading ingest for now.
  bool backlogged() const { return waiting_.size() > kMaxWaitingRows; }
  std::size_t waiting() const { return waiting_.size(); }
  // The waiting rows counted by their account's shard (shards entries; rows of no account: shard 0).
  std::vector<std::size_t> waiting_by_shard(std::uint32_t shards) const;
  // Rows recovered at start still wait (within the start window): ingest is not read yet, so
  // they go out before anything new.
  bool recovering() const;
  const OutboxCounters& counters() const { return counters_; }

 private:
  bool in_start_window() const;

  store::StateStore& store_;
  OutboundPublisher& publisher_;
  std::chrono::steady_clock::time_point window_end_;
  bool in_batch_ = false;
  std::vector<store::OutboxRow> batch_rows_;  // written in the open batch
  std::deque<store::OutboxRow> waiting_;      // committed, not yet sent (in id order)
  std::vector<std::int64_t> sent_ids_;        // sent, not yet removed from the table
  std::vector<std::int64_t> removing_;        // removals made in the open batch
  std::int64_t last_recovered_id_ = 0;
  std::string account_;  // recorded with each row
  OutboxCounters counters_;
};

}  // namespace vumi::transport
