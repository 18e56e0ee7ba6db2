// The message ledger of SqliteStateStore (docs/state.md, "message_ledger").
#include <string>

#include "store/sqlite_state_store.hpp"
#include "store/store_values.hpp"

namespace vumi::store {

namespace {

// Pruning is one indexed DELETE; running it every this many puts keeps it off most messages.
constexpr std::uint64_t kMessageLedgerPruneEvery = 1024;

}  // namespace

void SqliteStateStore::prepare_message_ledger_statements() {
  message_ledger_insert_ =
      Statement(connection_,
                "INSERT OR REPLACE INTO message_ledger (message_id, direction, account_key, "
                "conversation_type, conversation_key, tag, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  message_ledger_select_ =
      Statement(connection_,
                "SELECT account_key, conversation_type, conversation_key, tag, created_at "
                "FROM message_ledger WHERE message_id = ? AND direction = ?");
  // created_at is written as %Y-%m-%dT%H:%M:%fZ (store_values.hpp), so text order is time order.
  message_ledger_prune_ = Statement(connection_,
                                    "DELETE FROM message_ledger WHERE created_at < "
                                    "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-" +
                                        std::to_string(kMessageLedgerRetentionHours) + " hours')");
}

Expected<void> SqliteStateStore::message_ledger_put(const MessageLedgerEntry& entry) {
  const std::string now = now_iso8601_utc_ms();
  std::lock_guard lock(mutex_);
  {
    StatementUse insert(message_ledger_insert_);
    if (!insert->bind_text(1, entry.message_id) || !insert->bind_text(2, entry.direction) ||
        !insert->bind_text(3, entry.account_key) || !insert->bind_text(4, entry.conversation_type) ||
        !insert->bind_text(5, entry.conversation_key) || !insert->bind_text(6, entry.tag) ||
        !insert->bind_text(7, now) || insert->step() != SQLITE_DONE) {
      return sqlite_error("message ledger put of " + entry.direction + " message " + entry.message_id);
    }
  }
  if (++message_ledger_puts_ % kMessageLedgerPruneEvery == 0) {
    StatementUse prune(message_ledger_prune_);
    if (prune->step() != SQLITE_DONE) return sqlite_error("message ledger prune");
  }
  return {};
}

Expected<std::optional<MessageLedgerEntry>> SqliteStateStore::message_ledger_get(std::string_view message_id,
                                                                                 std::string_view direction) {
  std::lock_guard lock(mutex_);
  StatementUse query(message_ledger_select_);
  const std::string what =
      "message ledger get of " + std::string(direction) + " message " + std::string(message_id);
  if (!query->bind_text(1, message_id) || !query->bind_text(2, direction)) return sqlite_error(what);
  int rc = query->step();
  if (rc == SQLITE_DONE) return std::optional<MessageLedgerEntry>();
  if (rc != SQLITE_ROW) return sqlite_error(what);
  std::optional<MessageLedgerEntry> found(std::in_place);
  MessageLedgerEntry& entry = *found;
  entry.message_id = std::string(message_id);
  entry.direction = std::string(direction);
  entry.account_key = query->column_text(0);
  entry.conversation_type = query->column_text(1);
  entry.conversation_key = query->column_text(2);
  entry.tag = query->column_text(3);
  entry.created_at = query->column_text(4);
  return found;
}

}  // namespace vumi::store
