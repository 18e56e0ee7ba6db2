// The PostgreSQL implementation of StateStore over libpq: one connection, statements prepared by
// name at open. Outside a batch each statement is one round trip; a batch is one pipeline, in which
// writes nobody needs the answer of wait for the next read or the COMMIT (docs/state.md).
#pragma once

#include <filesystem>
#include <mutex>
#include <vector>

#include "store/pg_connection.hpp"
#include "store/state_store.hpp"

namespace vumi::store {

// Every public method takes one mutex, so the store may be shared between threads; writes made by
// any thread while a batch is open join that batch. A lost connection is re-established before the
// next statement outside a batch; a batch it interrupted is lost (its commit fails, transient).
class PgStateStore final : public StateStore {
 public:
  enum class Mode { read_write, read_only };
  // Connects to url and (read_write) migrates the schema, or (read_only) checks that the database
  // has this build's schema; throws StoreError naming the redacted URL and why.
  PgStateStore(const std::string& url, Mode mode);
  ~PgStateStore() override;

  int schema_version() const override { return schema_version_; }
  // Statements sent to the server so far (benchmarks: round trips per event).
  std::uint64_t round_trips() const { return connection_.round_trips(); }

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

  // Delivery tables and the message ledger (pg_delivery_tables.cpp).
  Expected<std::int64_t> outbox_put(std::string_view topic, std::string_view body,
                                    std::string_view account) override;
  std::vector<OutboxRow> outbox_pending() override;
  Expected<void> outbox_remove(const std::vector<std::int64_t>& ids) override;
  Expected<bool> processed_claim(std::string_view account, std::string_view message_key) override;
  Expected<std::int64_t> processed_prune(std::int64_t cutoff_unix_s) override;
  Expected<void> processed_forget(std::string_view account, std::string_view message_key) override;

 private:
  void prepare_statements();
  void prepare_delivery_statements();  // pg_delivery_tables.cpp
  // Runs a prepared statement on the data path: fails (unavailable when pg_transient says so) when
  // it failed or when the open batch can no longer commit; any failure inside a batch breaks the
  // batch, since PostgreSQL aborts its transaction.
  Expected<PgResult> run(const std::string& name, const PgParams& params, std::string_view what);
  // A write whose caller needs no value: in a batch it is sent without waiting (its failure
  // breaks the batch, and commit_batch reports it); outside one it runs at once.
  Expected<void> write(const std::string& name, const PgParams& params, const std::string& what);
  // Takes outbox ids for this batch from the sequence; fails when it could not.
  Expected<void> reserve_outbox_ids(std::string_view what);
  // Makes the first failed deferred write the open batch's failure.
  void note_deferred_failure();
  // As run, for control-plane reads and writes: throws StoreError naming what.
  PgResult must_run(const std::string& name, const PgParams& params, std::string_view what);
  // Fails when the open batch is broken, or the connection is lost and cannot be re-established.
  Expected<void> ready(std::string_view what);
  // Reads a contact from row laid out as the contact columns; fails if extra is not an object.
  static Expected<void> read_contact(const PgResult& result, int row, Contact& out);
  // The contact a lookup statement finds, an empty optional when absent, an error on failure.
  Expected<std::optional<Contact>> contact_lookup(const std::string& statement, const PgParams& params,
                                                  std::string_view what);
  static DeadLetter read_dead_letter(const PgResult& result, int row);
  static PgParams filter_params(const DeadLetterFilter& filter);
  std::vector<DeadLetter> dead_letter_rows(const PgResult& result);
  // Runs BEGIN, COMMIT or ROLLBACK; fails with what and the server's error.
  Expected<void> run_control(const char* sql, std::string_view what);

  std::mutex mutex_;
  PgConnection connection_;
  int schema_version_ = 0;
  bool in_batch_ = false;
  std::string batch_error_;  // the first failure of the open batch
  bool batch_error_transient_ = false;
  // Fault injection for tests (env VUMI_STORE_FAULT_FILE): while this file exists, commits fail.
  std::filesystem::path fault_file_;
  std::uint64_t message_ledger_puts_ = 0;  // prune every kMessageLedgerPruneEvery puts
  // Outbox ids taken from the table's sequence for this batch, so an outbox row is a deferred write.
  std::vector<std::int64_t> reserved_outbox_ids_;
  std::size_t outbox_rows_in_batch_ = 0;
  std::size_t outbox_rows_last_batch_ = 0;  // sizes the next batch's reservation
};

}  // namespace vumi::store
