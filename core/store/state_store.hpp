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
  std::int64_t id = 0;
  std::string created_at;   // set by the store when empty
  std::string reason;       // stable code: step_failed, max_depth, unowned_tag, ...
  std::string message;      // human explanation
  std::string account_key;  // empty when unknown
  std::string route;        // e.g. accounts.acct1.routes[0]; empty when not routed
  std::string step;         // e.g. chain[1] (handler "sms"); empty when not in a step
  std::string input;        // the raw or decoded input (JSON text or raw bytes as text)
};

// Result of a data-path operation: never throws; error says what failed.
struct StoreStatus {
  bool ok = true;
  std::string error;
};

class StateStore {
 public:
  // Opens (creating folder and database, migrating the schema) or throws StoreError.
  static std::unique_ptr<StateStore> open(const std::filesystem::path& state_dir);
  // Opens an existing database read-only for inspection commands; throws StoreError.
  static std::unique_ptr<StateStore> open_read_only(const std::filesystem::path& state_dir);
  virtual ~StateStore() = default;

  virtual int schema_version() const = 0;

  // Contacts of one account. Lookups return nullopt when absent (or on error, with status set).
  virtual std::optional<Contact> contact_get(std::string_view account, std::string_view contact_key,
                                             StoreStatus& status) = 0;
  virtual std::optional<Contact> contact_find_by_msisdn(std::string_view account, std::string_view msisdn,
                                                        StoreStatus& status) = 0;
  // Inserts, or updates the contact with the same msisdn in the account: fields present in
  // `fields` (msisdn required; name, surname, extra) replace stored ones, others are kept.
  // `created` tells which happened.
  virtual std::optional<Contact> contact_upsert(std::string_view account, const boost::json::object& fields,
                                                bool& created, StoreStatus& status) = 0;
  virtual std::optional<std::int64_t> inbox_put(std::string_view account, const boost::json::value& message,
                                                StoreStatus& status) = 0;
  virtual StoreStatus dead_letter_put(const DeadLetter& letter) = 0;
  // Remembers a message that crashed the daemon by its key (crash::event_key / body_key), so a
  // resent copy is refused; putting a key again keeps the first report.
  virtual StoreStatus quarantine_put(std::string_view message_key, std::string_view account,
                                     std::string_view report) = 0;
  // Every quarantined message key. Control plane: throws StoreError.
  virtual std::vector<std::string> quarantined_keys() = 0;

  // Inspection (oldest first); account empty = all accounts. Control plane: throws StoreError.
  virtual std::vector<Contact> contacts(std::string_view account) = 0;
  virtual std::vector<InboxEntry> inbox(std::string_view account) = 0;
  virtual std::vector<DeadLetter> dead_letters(std::string_view account) = 0;

  // Groups the writes that follow into one transaction until commit_batch (for throughput);
  // nesting is not supported. Writes outside a batch commit one by one.
  virtual StoreStatus begin_batch() = 0;
  // Commits the batch; on failure its writes are rolled back and the status says why.
  virtual StoreStatus commit_batch() = 0;
};

}  // namespace vumi::store
