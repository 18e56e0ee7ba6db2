// The SQLite implementation of StateStore: one connection, statements prepared once at open.
#pragma once

#include <filesystem>
#include <mutex>

#include "store/sqlite_connection.hpp"
#include "store/state_store.hpp"

namespace vumi::store {

// Every public method takes one mutex, so the store may be shared between threads; writes made
// by any thread while a batch is open join that batch.
class SqliteStateStore final : public StateStore {
 public:
  enum class Mode { read_write, read_only };
  // Opens (and for read_write creates and migrates) <state_dir>/vumi.db; throws StoreError.
  SqliteStateStore(const std::filesystem::path& state_dir, Mode mode);
  ~SqliteStateStore() override;

  int schema_version() const override { return schema_version_; }

  std::optional<Contact> contact_get(std::string_view account, std::string_view contact_key,
                                     StoreStatus& status) override;
  std::optional<Contact> contact_find_by_msisdn(std::string_view account, std::string_view msisdn,
                                                StoreStatus& status) override;
  std::optional<Contact> contact_upsert(std::string_view account, const boost::json::object& fields,
                                        bool& created, StoreStatus& status) override;
  std::optional<std::int64_t> inbox_put(std::string_view account, const boost::json::value& message,
                                        StoreStatus& status) override;
  StoreStatus dead_letter_put(const DeadLetter& letter) override;
  StoreStatus quarantine_put(std::string_view message_key, std::string_view account,
                             std::string_view report) override;
  std::vector<std::string> quarantined_keys() override;

  std::vector<Contact> contacts(std::string_view account) override;
  std::vector<InboxEntry> inbox(std::string_view account) override;
  std::vector<DeadLetter> dead_letters(std::string_view account) override;

  StoreStatus begin_batch() override;
  StoreStatus commit_batch() override;

 private:
  void configure_connection(Mode mode);
  void check_read_only_version();
  void prepare_statements();
  // Reads a contact from a row laid out as kContactColumns; false (status set) if extra is not an object.
  bool read_contact(Statement& row, std::string_view account, Contact& out, StoreStatus& status);
  // Fails status with "<what>: <SQLite's message>".
  void fail(StoreStatus& status, std::string_view what) const;

  std::mutex mutex_;
  SqliteConnection connection_;
  int schema_version_ = 0;
  bool in_batch_ = false;

  Statement contact_by_key_;
  Statement contact_by_msisdn_;
  Statement contact_upsert_;
  Statement inbox_insert_;
  Statement dead_letter_insert_;
  Statement quarantine_insert_;
  Statement quarantine_list_;
  Statement contacts_list_;
  Statement inbox_list_;
  Statement dead_letters_list_;
  Statement begin_;
  Statement commit_;
  Statement rollback_;
};

}  // namespace vumi::store
