#include "store/locked_state_store.hpp"

namespace vumi::store {

int LockedStateStore::schema_version() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.schema_version();
}

Expected<std::optional<Contact>> LockedStateStore::contact_get(std::string_view account,
                                                               std::string_view contact_key) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.contact_get(account, contact_key);
}

Expected<std::optional<Contact>> LockedStateStore::contact_find_by_msisdn(std::string_view account,
                                                                          std::string_view msisdn) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.contact_find_by_msisdn(account, msisdn);
}

Expected<UpsertedContact> LockedStateStore::contact_upsert(std::string_view account,
                                                           const boost::json::object& fields) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.contact_upsert(account, fields);
}

Expected<std::int64_t> LockedStateStore::inbox_put(std::string_view account,
                                                   const boost::json::value& message) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.inbox_put(account, message);
}

Expected<void> LockedStateStore::dead_letter_put(const DeadLetter& letter) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.dead_letter_put(letter);
}

Expected<void> LockedStateStore::quarantine_put(std::string_view message_key, std::string_view account,
                                                std::string_view report) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.quarantine_put(message_key, account, report);
}

std::vector<std::string> LockedStateStore::quarantined_keys() {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.quarantined_keys();
}

Expected<void> LockedStateStore::message_ledger_put(const MessageLedgerEntry& entry) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.message_ledger_put(entry);
}

Expected<std::optional<MessageLedgerEntry>> LockedStateStore::message_ledger_get(std::string_view message_id,
                                                                                 std::string_view direction) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.message_ledger_get(message_id, direction);
}

Expected<void> LockedStateStore::dead_letter_add_repeats(std::string_view coalesce_key, std::int64_t count,
                                                         std::string_view last_seen_at) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.dead_letter_add_repeats(coalesce_key, count, last_seen_at);
}

Expected<void> LockedStateStore::dead_letter_mark_replayed(std::int64_t id, std::string_view when) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.dead_letter_mark_replayed(id, when);
}

Expected<std::int64_t> LockedStateStore::dead_letters_prune(const DeadLetterRetention& retention,
                                                            std::int64_t max_deleted) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.dead_letters_prune(retention, max_deleted);
}

Expected<std::int64_t> LockedStateStore::pending_retry_put(const PendingRetry& retry) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.pending_retry_put(retry);
}

Expected<void> LockedStateStore::pending_retry_delete(std::int64_t id) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.pending_retry_delete(id);
}

std::vector<Contact> LockedStateStore::contacts(std::string_view account) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.contacts(account);
}

std::vector<InboxEntry> LockedStateStore::inbox(std::string_view account) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.inbox(account);
}

std::vector<DeadLetter> LockedStateStore::dead_letters(std::string_view account) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.dead_letters(account);
}

std::vector<DeadLetter> LockedStateStore::dead_letters(const DeadLetterFilter& filter) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.dead_letters(filter);
}

std::int64_t LockedStateStore::dead_letters_purge(const DeadLetterFilter& filter) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.dead_letters_purge(filter);
}

std::vector<PendingRetry> LockedStateStore::pending_retries() {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.pending_retries();
}

Expected<void> LockedStateStore::begin_batch() {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.begin_batch();
}

Expected<void> LockedStateStore::commit_batch() {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.commit_batch();
}

Expected<void> LockedStateStore::rollback_batch() {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.rollback_batch();
}

Expected<std::int64_t> LockedStateStore::outbox_put(std::string_view topic, std::string_view body,
                                                    std::string_view account) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.outbox_put(topic, body, account);
}

std::vector<OutboxRow> LockedStateStore::outbox_pending() {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.outbox_pending();
}

Expected<void> LockedStateStore::outbox_remove(const std::vector<std::int64_t>& ids) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.outbox_remove(ids);
}

Expected<bool> LockedStateStore::processed_claim(std::string_view account, std::string_view message_key) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.processed_claim(account, message_key);
}

Expected<void> LockedStateStore::processed_forget(std::string_view account, std::string_view message_key) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.processed_forget(account, message_key);
}

Expected<std::int64_t> LockedStateStore::processed_prune(std::int64_t cutoff_unix_s) {
  const std::lock_guard<std::mutex> lock(mutex_);
  return inner_.processed_prune(cutoff_unix_s);
}

}  // namespace vumi::store
