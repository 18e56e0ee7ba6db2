// The SQLite implementation of StateStore: one connection, statements prepared once at open.
#pragma once

#include <filesystem>
#include <mutex>

#include "store/sqlite_connection.hpp"
#include "store/state_store.hpp"
#include "store/wal_checkpointer.hpp"

namespace vumi::store {

// Every public method takes one mutex, so the store may be shared between threads; writes made
// by any thread while a batch is open join that batch.
class SqliteStateStore final : public StateStore {
 public:
  enum class Mode { read_write, read_only };
  static constexpr const char* kDatabaseFileName = "vumi.db";  // in the state folder
  // Opens (and for read_write creates and migrates) <state_dir>/vumi.db; throws StoreError.
  SqliteStateStore(const std::filesystem::path& state_dir, Mode mode);
  ~SqliteStateStore() override;

  int schema_version() const override { return schema_version_; }

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

  // Delivery tables (sqlite_delivery_tables.cpp).
  Expected<std::int64_t> outbox_put(std::string_view topic, std::string_view body,
                                    std::string_view account) override;
  std::vector<OutboxRow> outbox_pending() override;
  Expected<void> outbox_remove(const std::vector<std::int64_t>& ids) override;
  Expected<bool> processed_claim(std::string_view account, std::string_view message_key) override;
  Expected<std::int64_t> processed_prune(std::int64_t cutoff_unix_s) override;
  Expected<void> processed_forget(std::string_view account, std::string_view message_key) override;

 private:
  void configure_connection(Mode mode);
  void check_read_only_version();
  void prepare_statements();
  void prepare_message_ledger_statements();  // sqlite_message_ledger.cpp
  // Reads a contact from a row laid out as kContactColumns; fails if extra is not an object.
  Expected<void> read_contact(Statement& row, std::string_view account, Contact& out);
  static DeadLetter read_dead_letter(Statement& row);  // a row laid out as VUMI_DEAD_LETTER_COLUMNS
  void bind_filter(Statement& query, const DeadLetterFilter& filter);  // throws StoreError
  // "<what>: <SQLite's message>", unavailable when SQLite's error is transient (busy, full, I/O).
  Error sqlite_error(std::string_view what) const;
  // As sqlite_error, for a write: the open batch can then only be rolled back.
  Error write_failed(std::string_view what);
  // The error when the open batch can no longer commit: a write failed, or SQLite rolled the
  // transaction back by itself. Writes refuse then, so none commits on its own.
  std::optional<Error> batch_broken(std::string_view what) const;
  void prepare_delivery_statements();

  std::mutex mutex_;
  SqliteConnection connection_;
  int schema_version_ = 0;
  bool in_batch_ = false;
  std::string batch_write_error_;  // the first failed write of the open batch
  // Fault injection for tests (env VUMI_STORE_FAULT_FILE): while this file exists, commits fail
  // as a full disk would.
  std::filesystem::path fault_file_;

  Statement contact_by_key_;
  Statement contact_by_msisdn_;
  Statement contact_upsert_;
  Statement inbox_insert_;
  Statement dead_letter_insert_;
  Statement quarantine_insert_;
  Statement quarantine_list_;
  Statement dead_letter_coalesce_;
  Statement dead_letter_replayed_;
  Statement dead_letter_repeats_;
  Statement pending_retry_insert_;
  Statement pending_retry_delete_;
  Statement contacts_list_;
  Statement inbox_list_;
  Statement dead_letters_list_;
  Statement message_ledger_insert_;
  Statement message_ledger_select_;
  Statement message_ledger_prune_;
  std::uint64_t message_ledger_puts_ = 0;  // prune every kMessageLedgerPruneEvery puts
  Statement begin_;
  Statement commit_;
  Statement rollback_;
  Statement outbox_insert_;
  Statement outbox_delete_;
  Statement processed_insert_;
  Statement processed_prune_;
  std::optional<WalCheckpointer> checkpointer_;  // read_write only; last: stops before the rest goes
};

}  // namespace vumi::store
