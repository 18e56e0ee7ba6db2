// Embedded state in SQLite (<state_dir>/vumi.db): contacts, inbox, dead letters. Schema: docs/state.md.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace vumi::store {

// Opening or migrating the database failed (control plane: thrown, with path and reason).
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Contact {
  std::string contact_key;  // 32 hex chars, assigned on insert
  std::string account_key;
  std::string msisdn;
  std::string name;
  std::string surname;
  boost::json::object extra;
  std::string created_at;  // ISO-8601 UTC
  std::string updated_at;
  boost::json::object to_json() const;  // without account_key
};

struct InboxEntry {
  std::int64_t id = 0;
  std::string account_key;
  boost::json::value message;
  std::string received_at;
};

struct DeadLetter {
  std::int64_t id = 0;      // stable: never reused, kept by coalescing
  std::string created_at;   // first seen; set by the store when empty
  std::string reason;       // stable code: step_failed, max_depth, unowned_tag, ...
  std::string message;      // human explanation
  std::string account_key;  // empty when unknown
  std::string route;        // e.g. accounts.acct1.routes[0]; empty when not routed
  std::string step;         // e.g. chain[1] (handler "sms"); empty when not in a step
  std::string input;  // the raw or decoded input (JSON text or raw bytes as text); a sample when count > 1
  std::string last_seen_at;  // the latest occurrence (set by the store)
  std::int64_t count = 1;    // occurrences coalesced into this row
  std::string source;        // where the input came from, e.g. "ingest tcp://127.0.0.1:7710 from 127.0.0.1"
  std::string topic;         // the ingest topic it came (or would go) on; what replay publishes on
  std::string attempts;      // JSON array [{"at", "error"}] of a retried step; empty otherwise
  std::string replayed_at;   // set when `dead-letters replay` re-submitted it
  // Occurrences with the same non-empty key coalesce into one unreplayed row (count, last_seen_at);
  // empty: every occurrence is its own row.
  std::string coalesce_key;
};

// Which dead letters a listing, purge or replay acts on; empty fields match everything.
struct DeadLetterFilter {
  std::optional<std::int64_t> id;
  std::string reason;
  std::string account;
  std::string since;       // ISO-8601 UTC: last seen at or after
  std::string older_than;  // ISO-8601 UTC: last seen before
  bool include_replayed = true;
  std::int64_t limit = 0;  // listings only: at most this many, lowest ids first; 0: all
};

// How many dead letters are kept; 0 disables a limit.
struct DeadLetterRetention {
  std::int64_t max_rows = 100000;
  std::int64_t max_rows_per_account = 10000;
  std::int64_t max_age_s = 30 * 24 * 3600;
};

// A step waiting for another attempt (table pending_retries).
struct PendingRetry {
  std::int64_t id = 0;
  std::int64_t due_at_ms = 0;  // Unix time in milliseconds
  std::string account_key;
  std::string route;  // the route's config path
  std::int64_t step_index = 0;
  std::string topic;     // the event's topic
  std::string event;     // the envelope as JSON
  std::string steps;     // outputs of the earlier steps, a JSON object
  std::string attempts;  // JSON array [{"at", "error"}] so far
};

// One message the dispatcher passed on, kept so later traffic about it finds its conversation:
// outbound (published to a transport; transport events name it by user_message_id) or inbound
// (routed to a conversation; the conversation's reply names it by in_reply_to).
struct MessageLedgerEntry {
  std::string message_id;
  std::string direction;  // "outbound" or "inbound"
  std::string account_key;
  std::string conversation_type;
  std::string conversation_key;
  std::string tag;         // "pool:tag" the message came on or goes out through; empty when unknown
  std::string created_at;  // set by the store
};

// Data-path operations never throw: they return Expected<T> (Expected<void> when there is no
// value), the Error's message saying what failed. Its code is unavailable when the database could
// not do it now (busy, locked, full, I/O error, connection lost): the same write may succeed later;
// refused for refused values (a constraint, a refused batch) and invalid for bad arguments (a bad
// contact field, an empty account key).
inline bool is_transient(const Error& error) {
  return error.code == ErrorCode::unavailable;
}

// What contact_upsert stored, and whether it inserted (true) or updated (false) it.
struct UpsertedContact {
  Contact contact;
  bool created = false;
};

// An outbound message written in a batch's transaction, sent only after that batch committed
// (the transactional outbox, docs/delivery.md).
struct OutboxRow {
  std::int64_t id = 0;
  std::string topic;
  std::string body;
  std::string account_key;  // the account it was sent for; empty for none (a forwarded command)
};
// How long the message ledger keeps an entry: delivery reports can trail a message by days.
constexpr int kMessageLedgerRetentionHours = 7 * 24;

class StateStore {
 public:
  // The SQLite store in state_dir (tests and tools; the daemon and the commands open the store the
  // config names through open_state_store, store/store_factory.hpp).
  // Opens (creating folder and database, migrating the schema) or throws StoreError.
  static std::unique_ptr<StateStore> open(const std::filesystem::path& state_dir);
  // Opens an existing database read-only for inspection commands; throws StoreError.
  static std::unique_ptr<StateStore> open_read_only(const std::filesystem::path& state_dir);
  virtual ~StateStore() = default;

  virtual int schema_version() const = 0;

  // Contacts of one account. Lookups return an empty optional when absent, an error on failure.
  virtual Expected<std::optional<Contact>> contact_get(std::string_view account,
                                                       std::string_view contact_key) = 0;
  virtual Expected<std::optional<Contact>> contact_find_by_msisdn(std::string_view account,
                                                                  std::string_view msisdn) = 0;
  // Inserts, or updates the contact with the same msisdn in the account: fields present in
  // `fields` (msisdn required; name, surname, extra) replace stored ones, others are kept.
  // Returns the stored contact and which happened; invalid for bad fields, else a store error.
  virtual Expected<UpsertedContact> contact_upsert(std::string_view account,
                                                   const boost::json::object& fields) = 0;
  // Stores a message in the account's inbox; returns its id.
  virtual Expected<std::int64_t> inbox_put(std::string_view account, const boost::json::value& message) = 0;
  // Records one occurrence: coalesced into the unreplayed row with the same coalesce_key when
  // there is one, else a new row.
  virtual Expected<void> dead_letter_put(const DeadLetter& letter) = 0;
  // Remembers a message that crashed the daemon by its key (crash::event_key / body_key), so a
  // resent copy is refused; putting a key again keeps the first report.
  virtual Expected<void> quarantine_put(std::string_view message_key, std::string_view account,
                                        std::string_view report) = 0;
  // Every quarantined message key. Control plane: throws StoreError.
  virtual std::vector<std::string> quarantined_keys() = 0;
  // The Vumi Go message ledger (table message_ledger; not the processed-message record below).
  // Records a message in the ledger (replacing an entry with the same message_id and direction);
  // entries older than kMessageLedgerRetentionHours are pruned as new ones arrive.
  virtual Expected<void> message_ledger_put(const MessageLedgerEntry& entry) = 0;
  // The ledger entry of message_id in direction, an empty optional when absent, an error on failure.
  virtual Expected<std::optional<MessageLedgerEntry>> message_ledger_get(std::string_view message_id,
                                                                         std::string_view direction) = 0;
  // Adds `count` occurrences seen until last_seen_at to the unreplayed row with that coalesce_key
  // (a no-op when there is none: it was purged meanwhile).
  virtual Expected<void> dead_letter_add_repeats(std::string_view coalesce_key, std::int64_t count,
                                                 std::string_view last_seen_at) = 0;
  // Marks a dead letter replayed at `when` (ISO-8601 UTC).
  virtual Expected<void> dead_letter_mark_replayed(std::int64_t id, std::string_view when) = 0;
  // Deletes at most max_deleted rows beyond the retention limits, oldest first; returns how many
  // it deleted (small chunks, so the data path never waits long for the lock).
  virtual Expected<std::int64_t> dead_letters_prune(const DeadLetterRetention& retention,
                                                    std::int64_t max_deleted) = 0;

  // Pending retries: stored when a step asks for another attempt (returns its id), deleted when it
  // runs.
  virtual Expected<std::int64_t> pending_retry_put(const PendingRetry& retry) = 0;
  virtual Expected<void> pending_retry_delete(std::int64_t id) = 0;

  // Inspection (oldest first); account empty = all accounts. Control plane: throws StoreError.
  virtual std::vector<Contact> contacts(std::string_view account) = 0;
  virtual std::vector<InboxEntry> inbox(std::string_view account) = 0;
  virtual std::vector<DeadLetter> dead_letters(std::string_view account) = 0;
  virtual std::vector<DeadLetter> dead_letters(const DeadLetterFilter& filter) = 0;
  // Deletes the matching dead letters; returns how many.
  virtual std::int64_t dead_letters_purge(const DeadLetterFilter& filter) = 0;
  // Every pending retry, earliest due first.
  virtual std::vector<PendingRetry> pending_retries() = 0;

  // Groups the writes that follow into one transaction until commit_batch (for throughput);
  // nesting is not supported. Writes outside a batch commit one by one. In a batch, a write that
  // returns no value may be sent without waiting for its answer (PostgreSQL): its failure then
  // refuses the batch's next read and fails commit_batch, as an immediate failure would.
  virtual Expected<void> begin_batch() = 0;
  // Commits the batch; on failure its writes are rolled back and the error says why. A batch in
  // which any write failed is rolled back, never committed in part.
  virtual Expected<void> commit_batch() = 0;
  // Abandons the open batch: every write made since begin_batch is undone.
  virtual Expected<void> rollback_batch() = 0;

  // The transactional outbox. outbox_put adds a row sent for account ("" for none) in the open
  // batch and returns its id; outbox_pending lists the rows not yet removed, oldest first (control
  // plane: throws StoreError); outbox_remove deletes rows that were sent.
  virtual Expected<std::int64_t> outbox_put(std::string_view topic, std::string_view body,
                                            std::string_view account) = 0;
  virtual std::vector<OutboxRow> outbox_pending() = 0;
  virtual Expected<void> outbox_remove(const std::vector<std::int64_t>& ids) = 0;

  // The processed-message record (table processed_messages: redelivery detection, not the message
  // ledger above): records message_key for account and returns true, or false
  // when it was already there (a redelivery); an error on failure.
  virtual Expected<bool> processed_claim(std::string_view account, std::string_view message_key) = 0;
  // Forgets one message key of an account, so the message runs again when it comes back
  // (dead-letters replay of an event whose chain failed).
  virtual Expected<void> processed_forget(std::string_view account, std::string_view message_key) = 0;
  // Forgets processed-message keys recorded before cutoff_unix_s; returns how many went.
  virtual Expected<std::int64_t> processed_prune(std::int64_t cutoff_unix_s) = 0;
};

}  // namespace vumi::store
