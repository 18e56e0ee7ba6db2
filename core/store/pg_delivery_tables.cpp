// The delivery tables (outbox, processed messages), pending retries and the message ledger of the
// PostgreSQL store (docs/state.md).
#include <algorithm>
#include <chrono>
#include <string>

#include "store/pg_state_store.hpp"
#include "store/store_values.hpp"

namespace vumi::store {

namespace {

// As SQLite's store: pruning the ledger every this many puts keeps it off most messages.
constexpr std::uint64_t kMessageLedgerPruneEvery = 1024;

std::int64_t unix_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void PgStateStore::prepare_delivery_statements() {
  connection_.prepare("outbox_insert",
                      "INSERT INTO outbox (topic, body, account_key) VALUES ($1, $2, $3) RETURNING id", 3);
  // In a batch the ids come from the identity's sequence first, so the insert needs no answer.
  connection_.prepare(
      "outbox_reserve_ids",
      "SELECT nextval(pg_get_serial_sequence('outbox', 'id')) FROM generate_series(1, $1::int) "
      "ORDER BY 1",
      1);
  connection_.prepare(
      "outbox_insert_with_id",
      "INSERT INTO outbox (id, topic, body, account_key) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4)", 4);
  connection_.prepare("outbox_pending", "SELECT id, topic, body, account_key FROM outbox ORDER BY id", 0);
  // One statement for every id: atomic without a transaction of its own.
  connection_.prepare("outbox_delete", "DELETE FROM outbox WHERE id = ANY($1::bigint[])", 1);
  // DO NOTHING: a key already there inserts no row, which is how a redelivery is recognised.
  connection_.prepare(
      "processed_insert",
      "INSERT INTO processed_messages (account_key, message_key, processed_at) VALUES ($1, $2, $3) "
      "ON CONFLICT DO NOTHING",
      3);
  connection_.prepare("processed_prune", "DELETE FROM processed_messages WHERE processed_at < $1", 1);
  connection_.prepare("processed_forget",
                      "DELETE FROM processed_messages WHERE account_key = $1 AND message_key = $2", 2);
  connection_.prepare(
      "pending_retry_insert",
      "INSERT INTO pending_retries (due_at_ms, account_key, route, step_index, topic, event, steps, "
      "attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
      8);
  connection_.prepare("pending_retry_delete", "DELETE FROM pending_retries WHERE id = $1", 1);
  connection_.prepare("pending_retries",
                      "SELECT id, due_at_ms, account_key, route, step_index, topic, event, steps, attempts "
                      "FROM pending_retries ORDER BY due_at_ms, id",
                      0);
  // INSERT OR REPLACE, as SQLite: the entry is written afresh, created_at included.
  connection_.prepare(
      "message_ledger_insert",
      "INSERT INTO message_ledger (message_id, direction, account_key, conversation_type, "
      "conversation_key, tag, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
      "ON CONFLICT (message_id, direction) DO UPDATE SET account_key = excluded.account_key, "
      "conversation_type = excluded.conversation_type, conversation_key = excluded.conversation_key, "
      "tag = excluded.tag, created_at = excluded.created_at",
      7);
  connection_.prepare("message_ledger_select",
                      "SELECT account_key, conversation_type, conversation_key, tag, created_at "
                      "FROM message_ledger WHERE message_id = $1 AND direction = $2",
                      2);
  // created_at is ISO-8601 text (store_values.hpp), so text order is time order.
  connection_.prepare("message_ledger_prune", "DELETE FROM message_ledger WHERE created_at < $1", 1);
}

Expected<std::int64_t> PgStateStore::outbox_put(std::string_view topic, std::string_view body,
                                                std::string_view account) {
  std::lock_guard lock(mutex_);
  const std::string what = "outbox put on \"" + std::string(topic.substr(0, 200)) + "\"";
  if (!in_batch_ || !connection_.pipelining()) {
    Expected<PgResult> result = run("outbox_insert", PgParams().text(topic).text(body).text(account), what);
    if (!result) return std::move(result).error();
    return result->int64(0, 0);
  }
  if (outbox_rows_in_batch_ == reserved_outbox_ids_.size()) {
    if (auto reserved = reserve_outbox_ids(what); !reserved) return std::move(reserved).error();
  }
  const std::int64_t id = reserved_outbox_ids_[outbox_rows_in_batch_++];
  if (auto written =
          write("outbox_insert_with_id", PgParams().int64(id).text(topic).text(body).text(account), what);
      !written)
    return std::move(written).error();
  return id;
}

Expected<void> PgStateStore::reserve_outbox_ids(std::string_view what) {
  // As many as the last batch wrote and some (twice this batch's so far when it writes more):
  // usually one reservation per batch. Ids left over are gaps in the sequence, never reused.
  const std::size_t count =
      std::clamp<std::size_t>(std::max(outbox_rows_last_batch_, 2 * outbox_rows_in_batch_) + 16, 16, 4096);
  Expected<PgResult> result =
      run("outbox_reserve_ids", PgParams().int64(static_cast<std::int64_t>(count)), what);
  if (!result) return std::move(result).error();
  for (int row = 0; row < result->rows(); ++row) reserved_outbox_ids_.push_back(result->int64(row, 0));
  if (outbox_rows_in_batch_ >= reserved_outbox_ids_.size()) {
    // The row cannot be written, so the batch must not commit without it (a message lost).
    batch_error_ = std::string(what) + ": the outbox sequence gave no ids";
    batch_error_transient_ = false;
    return store_failure(batch_error_, false);
  }
  return {};
}

std::vector<OutboxRow> PgStateStore::outbox_pending() {
  std::lock_guard lock(mutex_);
  PgResult result = must_run("outbox_pending", PgParams(), "reading the outbox");
  std::vector<OutboxRow> rows;
  rows.reserve(static_cast<std::size_t>(result.rows()));
  for (int row = 0; row < result.rows(); ++row)
    rows.push_back({result.int64(row, 0), result.text(row, 1), result.text(row, 2), result.text(row, 3)});
  return rows;
}

Expected<void> PgStateStore::outbox_remove(const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return {};
  std::string array = "{";
  for (std::int64_t id : ids) array += (array.size() > 1 ? "," : "") + std::to_string(id);
  array += "}";
  std::lock_guard lock(mutex_);
  return write(
      "outbox_delete", PgParams().text(array),
      "outbox remove of " + std::to_string(ids.size()) + " rows from " + std::to_string(ids.front()));
}

Expected<bool> PgStateStore::processed_claim(std::string_view account, std::string_view message_key) {
  PgParams params;
  params.text(account).text(message_key).int64(unix_now_s());
  std::lock_guard lock(mutex_);
  Expected<PgResult> result =
      run("processed_insert", params, "ledger claim for account " + std::string(account));
  if (!result) return std::move(result).error();
  return result->affected() == 1;
}

Expected<std::int64_t> PgStateStore::processed_prune(std::int64_t cutoff_unix_s) {
  std::lock_guard lock(mutex_);
  Expected<PgResult> result = run("processed_prune", PgParams().int64(cutoff_unix_s), "ledger prune");
  if (!result) return std::move(result).error();
  return result->affected();
}

Expected<void> PgStateStore::processed_forget(std::string_view account, std::string_view message_key) {
  std::lock_guard lock(mutex_);
  return write("processed_forget", PgParams().text(account).text(message_key),
               "ledger forget for account " + std::string(account));
}

Expected<std::int64_t> PgStateStore::pending_retry_put(const PendingRetry& retry) {
  PgParams params;
  params.int64(retry.due_at_ms).text(retry.account_key).text(retry.route).int64(retry.step_index);
  params.text(retry.topic).text(retry.event).text(retry.steps).text(retry.attempts);
  std::lock_guard lock(mutex_);
  Expected<PgResult> result =
      run("pending_retry_insert", params, "storing a pending retry for account " + retry.account_key);
  if (!result) return std::move(result).error();
  return result->int64(0, 0);
}

Expected<void> PgStateStore::pending_retry_delete(std::int64_t id) {
  std::lock_guard lock(mutex_);
  return write("pending_retry_delete", PgParams().int64(id), "deleting pending retry " + std::to_string(id));
}

std::vector<PendingRetry> PgStateStore::pending_retries() {
  std::lock_guard lock(mutex_);
  PgResult result = must_run("pending_retries", PgParams(), "listing pending retries");
  std::vector<PendingRetry> out;
  for (int row = 0; row < result.rows(); ++row) {
    PendingRetry retry;
    retry.id = result.int64(row, 0);
    retry.due_at_ms = result.int64(row, 1);
    retry.account_key = result.text(row, 2);
    retry.route = result.text(row, 3);
    retry.step_index = result.int64(row, 4);
    retry.topic = result.text(row, 5);
    retry.event = result.text(row, 6);
    retry.steps = result.text(row, 7);
    retry.attempts = result.text(row, 8);
    out.push_back(std::move(retry));
  }
  return out;
}

Expected<void> PgStateStore::message_ledger_put(const MessageLedgerEntry& entry) {
  const std::string what = "message ledger put of " + entry.direction + " message " + entry.message_id;
  // Checked here rather than by the table's CHECK: a refused statement would break the open batch.
  if (entry.direction != "outbound" && entry.direction != "inbound")
    return vumi::fail(ErrorCode::invalid, what + ": direction must be \"outbound\" or \"inbound\"");
  PgParams params;
  params.text(entry.message_id).text(entry.direction).text(entry.account_key).text(entry.conversation_type);
  params.text(entry.conversation_key).text(entry.tag).text(now_iso8601_utc_ms());
  std::lock_guard lock(mutex_);
  if (auto written = write("message_ledger_insert", params, what); !written) return written;
  if (++message_ledger_puts_ % kMessageLedgerPruneEvery == 0) {
    const std::string cutoff =
        iso8601_utc_ms(std::chrono::system_clock::now() - std::chrono::hours(kMessageLedgerRetentionHours));
    return write("message_ledger_prune", PgParams().text(cutoff), "message ledger prune");
  }
  return {};
}

Expected<std::optional<MessageLedgerEntry>> PgStateStore::message_ledger_get(std::string_view message_id,
                                                                             std::string_view direction) {
  std::lock_guard lock(mutex_);
  Expected<PgResult> result =
      run("message_ledger_select", PgParams().text(message_id).text(direction),
          "message ledger get of " + std::string(direction) + " message " + std::string(message_id));
  if (!result) return std::move(result).error();
  if (result->rows() == 0) return std::optional<MessageLedgerEntry>();
  std::optional<MessageLedgerEntry> found(std::in_place);
  MessageLedgerEntry& entry = *found;
  entry.message_id = std::string(message_id);
  entry.direction = std::string(direction);
  entry.account_key = result->text(0, 0);
  entry.conversation_type = result->text(0, 1);
  entry.conversation_key = result->text(0, 2);
  entry.tag = result->text(0, 3);
  entry.created_at = result->text(0, 4);
  return found;
}

}  // namespace vumi::store
