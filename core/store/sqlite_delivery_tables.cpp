// The delivery tables of the SQLite store: the transactional outbox and the processed-message
// ledger (schema version 2, docs/state.md).
#include <chrono>
#include <limits>

#include "store/sqlite_state_store.hpp"

namespace vumi::store {

void SqliteStateStore::prepare_delivery_statements() {
  outbox_insert_ =
      Statement(connection_, "INSERT INTO outbox (topic, body, account_key) VALUES (?1, ?2, ?3)");
  outbox_delete_ = Statement(connection_, "DELETE FROM outbox WHERE id BETWEEN ?1 AND ?2");
  // OR IGNORE: a key already there changes no row, which is how a redelivery is recognised.
  processed_insert_ = Statement(connection_,
                                "INSERT OR IGNORE INTO processed_messages (account_key, message_key, "
                                "processed_at) VALUES (?1, ?2, ?3)");
  processed_prune_ = Statement(connection_, "DELETE FROM processed_messages WHERE processed_at < ?1");
}

Expected<std::int64_t> SqliteStateStore::outbox_put(std::string_view topic, std::string_view body,
                                                    std::string_view account) {
  std::lock_guard lock(mutex_);
  const std::string what = "outbox put on \"" + std::string(topic.substr(0, 200)) + "\"";
  if (auto broken = batch_broken(what)) return std::move(*broken);
  StatementUse insert(outbox_insert_);
  if (!insert->bind_text(1, topic) || !insert->bind_text(2, body) || !insert->bind_text(3, account) ||
      insert->step() != SQLITE_DONE) {
    return write_failed(what);
  }
  return sqlite3_last_insert_rowid(connection_.handle());
}

std::vector<OutboxRow> SqliteStateStore::outbox_pending() {
  std::lock_guard lock(mutex_);
  Statement query(connection_, "SELECT id, topic, body, account_key FROM outbox ORDER BY id");
  std::vector<OutboxRow> rows;
  int rc = query.step();
  for (; rc == SQLITE_ROW; rc = query.step())
    rows.push_back({query.column_int64(0), query.column_text(1), query.column_text(2), query.column_text(3)});
  if (rc != SQLITE_DONE) throw StoreError("reading the outbox: " + connection_.errmsg());
  return rows;
}

Expected<void> SqliteStateStore::outbox_remove(const std::vector<std::int64_t>& ids) {
  std::lock_guard lock(mutex_);
  if (ids.empty()) return {};
  if (auto broken = batch_broken("outbox remove")) return std::move(*broken);
  // One transaction for the lot unless a batch is open (then they join it).
  const bool own_transaction = !in_batch_ && !connection_.in_transaction();
  if (own_transaction) {
    StatementUse begin(begin_);
    if (begin->step() != SQLITE_DONE) return sqlite_error("outbox remove: begin");
  }
  Expected<void> result;
  // Sent rows come in runs of consecutive ids (rows are written and sent in id order): one range
  // delete a run, not one delete a row.
  for (std::size_t first = 0; first < ids.size();) {
    std::size_t last = first;
    while (last + 1 < ids.size() && ids[last] < std::numeric_limits<std::int64_t>::max() &&
           ids[last + 1] == ids[last] + 1)
      ++last;
    StatementUse remove(outbox_delete_);
    if (!remove->bind_int64(1, ids[first]) || !remove->bind_int64(2, ids[last]) ||
        remove->step() != SQLITE_DONE) {
      result = write_failed("outbox remove of rows " + std::to_string(ids[first]) + " to " +
                            std::to_string(ids[last]));
      break;
    }
    first = last + 1;
  }
  if (own_transaction && connection_.in_transaction()) {
    StatementUse end(result ? commit_ : rollback_);
    if (end->step() != SQLITE_DONE && result) result = sqlite_error("outbox remove: commit");
  }
  return result;
}

Expected<bool> SqliteStateStore::processed_claim(std::string_view account, std::string_view message_key) {
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::lock_guard lock(mutex_);
  const std::string what = "ledger claim for account " + std::string(account);
  if (auto broken = batch_broken(what)) return std::move(*broken);
  StatementUse insert(processed_insert_);
  if (!insert->bind_text(1, account) || !insert->bind_text(2, message_key) || !insert->bind_int64(3, now) ||
      insert->step() != SQLITE_DONE) {
    return write_failed(what);
  }
  return sqlite3_changes(connection_.handle()) == 1;
}

Expected<std::int64_t> SqliteStateStore::processed_prune(std::int64_t cutoff_unix_s) {
  std::lock_guard lock(mutex_);
  if (auto broken = batch_broken("ledger prune")) return std::move(*broken);
  StatementUse prune(processed_prune_);
  if (!prune->bind_int64(1, cutoff_unix_s) || prune->step() != SQLITE_DONE)
    return write_failed("ledger prune");
  return sqlite3_changes(connection_.handle());
}

Expected<void> SqliteStateStore::processed_forget(std::string_view account, std::string_view message_key) {
  std::lock_guard lock(mutex_);
  const std::string what = "ledger forget for account " + std::string(account);
  if (auto broken = batch_broken(what)) return std::move(*broken);
  Statement forget(connection_, "DELETE FROM processed_messages WHERE account_key = ?1 AND message_key = ?2");
  StatementUse use(forget);
  if (!use->bind_text(1, account) || !use->bind_text(2, message_key) || use->step() != SQLITE_DONE)
    return write_failed(what);
  return {};
}

}  // namespace vumi::store
