// A StateStore that several dispatch threads share: every call runs under one mutex, so the one
// SQLite connection (and the open batch's transaction) sees one call at a time (docs/workers.md).
#pragma once

#include <mutex>

#include "store/state_store.hpp"

namespace vumi::store {

class LockedStateStore final : public StateStore {
 public:
  // inner and mutex outlive this; whoever else reaches inner while workers run takes mutex too.
  LockedStateStore(StateStore& inner, std::mutex& mutex) : inner_(inner), mutex_(mutex) {}

  int schema_version() const override;
  Expected<std::optional<Contact>> contact_get(std::string_view account,
                                               std::string_view contact_key) override;
  Expected<std::optional<Contact>> contact_find_by_msisdn(std::string_view account,
                                                          std::string_view msisdn) override;
  Expected<UpsertedContact> contact_upsert(std::string_view account,
                                           const boost::json::object& fields) override;
  Expected<std::int64_t> inbox_put(std::string_view account, const boost::json::value& message) override;
  Expected<void> dead_letter_put(const DeadLetter& letter) override;
  Expected<void> quarantine_put(std::string_view message_key, std::string_view account,
                                std::string_view report) override;
  std::vector<std::string> quarantined_keys() override;
  Expected<void> message_ledger_put(const MessageLedgerEntry& entry) override;
  Expected<std::optional<MessageLedgerEntry>> message_ledger_get(std::string_view message_id,
                                                                 std::string_view direction) override;
  Expected<void> dead_letter_add_repeats(std::string_view coalesce_key, std::int64_t count,
                                         std::string_view last_seen_at) override;
  Expected<void> dead_letter_mark_replayed(std::int64_t id, std::string_view when) override;
  Expected<std::int64_t> dead_letters_prune(const DeadLetterRetention& retention,
                                            std::int64_t max_deleted) override;
  Expected<std::int64_t> pending_retry_put(const PendingRetry& retry) override;
  Expected<void> pending_retry_delete(std::int64_t id) override;
  std::vector<Contact> contacts(std::string_view account) override;
  std::vector<InboxEntry> inbox(std::string_view account) override;
  std::vector<DeadLetter> dead_letters(std::string_view account) override;
  std::vector<DeadLetter> dead_letters(const DeadLetterFilter& filter) override;
  std::int64_t dead_letters_purge(const DeadLetterFilter& filter) override;
  std::vector<PendingRetry> pending_retries() override;
  Expected<void> begin_batch() override;
  Expected<void> commit_batch() override;
  Expected<void> rollback_batch() override;
  Expected<std::int64_t> outbox_put(std::string_view topic, std::string_view body,
                                    std::string_view account) override;
  std::vector<OutboxRow> outbox_pending() override;
  Expected<void> outbox_remove(const std::vector<std::int64_t>& ids) override;
  Expected<bool> processed_claim(std::string_view account, std::string_view message_key) override;
  Expected<void> processed_forget(std::string_view account, std::string_view message_key) override;
  Expected<std::int64_t> processed_prune(std::int64_t cutoff_unix_s) override;

 private:
  StateStore& inner_;
  std::mutex& mutex_;
};

}  // namespace vumi::store
