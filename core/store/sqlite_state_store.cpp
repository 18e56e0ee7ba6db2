#include "store/sqlite_state_store.hpp"

#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <string>
#include <system_error>

#include "common/json.hpp"
#include "store/schema_migrations.hpp"
#include "store/state_dir_lock.hpp"
#include "store/store_values.hpp"

namespace vumi::store {

namespace {

namespace bj = boost::json;

constexpr const char* kDatabaseFileName = "vumi.db";
constexpr int kBusyTimeoutMs = 5000;

// Column order every contact query returns (read_contact depends on it).
#define VUMI_CONTACT_COLUMNS "contact_key, msisdn, name, surname, extra, created_at, updated_at, account_key"

// Checks the folder (creating it for read_write) and returns the database file path.
std::filesystem::path prepare_database_file(const std::filesystem::path& state_dir,
                                            SqliteStateStore::Mode mode) {
  const std::filesystem::path file = state_dir / kDatabaseFileName;
  std::error_code ec;
  if (mode == SqliteStateStore::Mode::read_only) {
    if (!std::filesystem::exists(file, ec)) {
      throw StoreError("no state at " + file.string() + " (the daemon has not run with this state_dir)");
    }
    return file;
  }
  // Contacts and messages are personal data: the folder is 0700 and every database file 0600,
  // whatever the umask.
  secure_state_dir(state_dir);
  // SQLite needs to create vumi.db-wal and vumi.db-shm next to the database.
  if (::access(state_dir.c_str(), W_OK) != 0) {
    throw StoreError("state folder " + state_dir.string() +
                     " is not writable: " + std::error_code(errno, std::generic_category()).message());
  }
  secure_state_file(file, true);
  secure_state_file(file.string() + "-wal", false);
  secure_state_file(file.string() + "-shm", false);
  return file;
}

int open_flags(SqliteStateStore::Mode mode) {
  return mode == SqliteStateStore::Mode::read_only ? SQLITE_OPEN_READONLY
                                                   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
}

std::string serialize_object(const bj::object& object) {
  return bj::serialize(object);
}

}  // namespace

SqliteStateStore::SqliteStateStore(const std::filesystem::path& state_dir, Mode mode)
    : connection_(prepare_database_file(state_dir, mode), open_flags(mode)) {
  configure_connection(mode);
  if (mode == Mode::read_write) {
    migrate_schema(connection_);
    schema_version_ = static_cast<int>(connection_.query_int("PRAGMA user_version"));
  } else {
    check_read_only_version();
  }
  prepare_statements();
}

SqliteStateStore::~SqliteStateStore() {
  // Writes in an open batch were reported as done to their callers: keep them.
  if (in_batch_) commit_batch();
}

void SqliteStateStore::configure_connection(Mode mode) {
  connection_.exec("PRAGMA busy_timeout = " + std::to_string(kBusyTimeoutMs));
  // SQLite opens lazily: the first read of the schema is where a file that is not a database fails.
  if (auto failure = connection_.try_exec("SELECT count(*) FROM sqlite_schema")) {
    throw StoreError("cannot open state database " + connection_.file().string() + ": " + *failure);
  }
  if (mode == Mode::read_write) {
    Statement journal(connection_, "PRAGMA journal_mode = WAL");
    if (journal.step() != SQLITE_ROW) {
      throw StoreError("cannot open state database " + connection_.file().string() + ": " +
                       connection_.errmsg());
    }
    if (journal.column_text(0) != "wal") {
      throw StoreError("state database " + connection_.file().string() +
                       ": cannot switch to WAL mode (journal mode " + journal.column_text(0) + ")");
    }
    // With WAL, NORMAL survives a process crash; a power loss may drop the last commits only.
    connection_.exec("PRAGMA synchronous = NORMAL");
  }
  connection_.exec("PRAGMA foreign_keys = ON");
}

void SqliteStateStore::check_read_only_version() {
  const std::string file = connection_.file().string();
  const std::int64_t version = connection_.query_int("PRAGMA user_version");
  if (version == 0) {
    throw StoreError("no state at " + file +
                     " (the database has no schema: the daemon has not run with this state_dir)");
  }
  if (version != latest_schema_version()) {
    throw StoreError("state database " + file + " has schema version " + std::to_string(version) +
                     ", this build reads version " + std::to_string(latest_schema_version()) +
                     (version < latest_schema_version() ? " (run the daemon once to migrate it)"
                                                        : " (use a newer vumi-dispatcher)"));
  }
  schema_version_ = static_cast<int>(version);
}

void SqliteStateStore::prepare_statements() {
  contact_by_key_ = Statement(connection_, "SELECT " VUMI_CONTACT_COLUMNS
                                           " FROM contacts WHERE contact_key = ?1 AND account_key = ?2");
  contact_by_msisdn_ = Statement(
      connection_, "SELECT " VUMI_CONTACT_COLUMNS " FROM contacts WHERE account_key = ?1 AND msisdn = ?2");
  // One statement, so an upsert is atomic without an explicit transaction. A NULL name/surname
  // means "not given": keep the stored value. extra is merged as a JSON Merge Patch (RFC 7396).
  contact_upsert_ =
      Statement(connection_,
                "INSERT INTO contacts (contact_key, account_key, msisdn, name, surname, extra, "
                "created_at, updated_at) "
                "VALUES (?1, ?2, ?3, coalesce(?4, ''), coalesce(?5, ''), json_patch('{}', ?6), ?7, ?7) "
                "ON CONFLICT (account_key, msisdn) DO UPDATE SET "
                "name = coalesce(?4, name), surname = coalesce(?5, surname), "
                "extra = json_patch(extra, ?6), updated_at = ?7 "
                "RETURNING " VUMI_CONTACT_COLUMNS);
  inbox_insert_ = Statement(
      connection_, "INSERT INTO inbox (account_key, message, received_at) VALUES (?1, ?2, ?3) RETURNING id");
  dead_letter_insert_ =
      Statement(connection_,
                "INSERT INTO dead_letters (created_at, reason, message, account_key, route, step, "
                "input) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  quarantine_insert_ =
      Statement(connection_,
                "INSERT INTO quarantined_messages (message_key, account_key, created_at, report) "
                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (message_key) DO NOTHING");
  quarantine_list_ =
      Statement(connection_, "SELECT message_key FROM quarantined_messages ORDER BY created_at");
  contacts_list_ = Statement(connection_, "SELECT " VUMI_CONTACT_COLUMNS
                                          " FROM contacts WHERE ?1 = '' OR account_key = ?1 ORDER BY id");
  inbox_list_ = Statement(connection_,
                          "SELECT id, account_key, message, received_at FROM inbox "
                          "WHERE ?1 = '' OR account_key = ?1 ORDER BY id");
  dead_letters_list_ = Statement(connection_,
                                 "SELECT id, created_at, reason, message, account_key, route, step, input "
                                 "FROM dead_letters WHERE ?1 = '' OR account_key = ?1 ORDER BY id");
  // IMMEDIATE takes the write lock at once (waiting up to busy_timeout), rather than failing
  // with SQLITE_BUSY halfway through a batch when another connection writes.
  begin_ = Statement(connection_, "BEGIN IMMEDIATE");
  commit_ = Statement(connection_, "COMMIT");
  rollback_ = Statement(connection_, "ROLLBACK");
}

void SqliteStateStore::fail(StoreStatus& status, std::string_view what) const {
  status.ok = false;
  status.error = std::string(what) + ": " + connection_.errmsg();
}

bool SqliteStateStore::read_contact(Statement& row, std::string_view account, Contact& out,
                                    StoreStatus& status) {
  out.contact_key = row.column_text(0);
  out.msisdn = row.column_text(1);
  out.name = row.column_text(2);
  out.surname = row.column_text(3);
  out.created_at = row.column_text(5);
  out.updated_at = row.column_text(6);
  out.account_key = account.empty() ? row.column_text(7) : std::string(account);
  bj::value extra;
  json::ParseError error;
  if (!json::parse(row.column_text(4), {}, extra, error) || !extra.is_object()) {
    status.ok = false;
    status.error = "contact " + out.contact_key + " has a stored extra that is not a JSON object";
    return false;
  }
  out.extra = std::move(extra.as_object());
  return true;
}

std::optional<Contact> SqliteStateStore::contact_get(std::string_view account, std::string_view contact_key,
                                                     StoreStatus& status) {
  std::lock_guard lock(mutex_);
  StatementUse query(contact_by_key_);
  if (!query->bind_text(1, contact_key) || !query->bind_text(2, account)) {
    fail(status, "contact get");
    return std::nullopt;
  }
  int rc = query->step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) {
    fail(status, "contact get for account " + std::string(account));
    return std::nullopt;
  }
  Contact contact;
  if (!read_contact(contact_by_key_, account, contact, status)) return std::nullopt;
  return contact;
}

std::optional<Contact> SqliteStateStore::contact_find_by_msisdn(std::string_view account,
                                                                std::string_view msisdn,
                                                                StoreStatus& status) {
  std::lock_guard lock(mutex_);
  StatementUse query(contact_by_msisdn_);
  if (!query->bind_text(1, account) || !query->bind_text(2, msisdn)) {
    fail(status, "contact find");
    return std::nullopt;
  }
  int rc = query->step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) {
    fail(status, "contact find by msisdn for account " + std::string(account));
    return std::nullopt;
  }
  Contact contact;
  if (!read_contact(contact_by_msisdn_, account, contact, status)) return std::nullopt;
  return contact;
}

std::optional<Contact> SqliteStateStore::contact_upsert(std::string_view account, const bj::object& fields,
                                                        bool& created, StoreStatus& status) {
  created = false;
  if (account.empty()) {
    status = {false, "contact upsert: account key is empty"};
    return std::nullopt;
  }
  if (std::string problem = contact_fields_problem(fields); !problem.empty()) {
    status = {false, "contact upsert for account " + std::string(account) + ": " + problem};
    return std::nullopt;
  }
  const std::string new_key = random_contact_key();
  const std::string now = now_iso8601_utc_ms();
  const bj::value* extra = fields.if_contains("extra");
  const std::string extra_text = extra != nullptr ? serialize_object(extra->as_object()) : "{}";

  std::lock_guard lock(mutex_);
  StatementUse upsert(contact_upsert_);
  bool bound = upsert->bind_text(1, new_key) && upsert->bind_text(2, account) &&
               upsert->bind_text(3, fields.at("msisdn").as_string()) && upsert->bind_text(6, extra_text) &&
               upsert->bind_text(7, now);
  for (auto [index, key] : {std::pair{4, "name"}, std::pair{5, "surname"}}) {
    const bj::value* value = fields.if_contains(key);
    bound =
        bound && (value != nullptr ? upsert->bind_text(index, value->as_string()) : upsert->bind_null(index));
  }
  const std::string what = "contact upsert for account " + std::string(account);
  if (!bound || upsert->step() != SQLITE_ROW) {
    fail(status, what);
    return std::nullopt;
  }
  Contact contact;
  if (!read_contact(contact_upsert_, account, contact, status)) return std::nullopt;
  if (upsert->step() != SQLITE_DONE) {
    fail(status, what);
    return std::nullopt;
  }
  // The row keeps its key on update, so the fresh key comes back only from an insert.
  created = contact.contact_key == new_key;
  return contact;
}

std::optional<std::int64_t> SqliteStateStore::inbox_put(std::string_view account, const bj::value& message,
                                                        StoreStatus& status) {
  if (account.empty()) {
    status = {false, "inbox put: account key is empty"};
    return std::nullopt;
  }
  const std::string text = json::to_text(message);
  const std::string now = now_iso8601_utc_ms();
  std::lock_guard lock(mutex_);
  StatementUse insert(inbox_insert_);
  const std::string what = "inbox put for account " + std::string(account);
  if (!insert->bind_text(1, account) || !insert->bind_text(2, text) || !insert->bind_text(3, now) ||
      insert->step() != SQLITE_ROW) {
    fail(status, what);
    return std::nullopt;
  }
  std::int64_t id = insert->column_int64(0);
  if (insert->step() != SQLITE_DONE) {
    fail(status, what);
    return std::nullopt;
  }
  return id;
}

StoreStatus SqliteStateStore::dead_letter_put(const DeadLetter& letter) {
  const std::string created_at = letter.created_at.empty() ? now_iso8601_utc_ms() : letter.created_at;
  std::lock_guard lock(mutex_);
  StatementUse insert(dead_letter_insert_);
  StoreStatus status;
  if (!insert->bind_text(1, created_at) || !insert->bind_text(2, letter.reason) ||
      !insert->bind_text(3, letter.message) || !insert->bind_text_or_null(4, letter.account_key) ||
      !insert->bind_text_or_null(5, letter.route) || !insert->bind_text_or_null(6, letter.step) ||
      !insert->bind_text(7, letter.input) || insert->step() != SQLITE_DONE) {
    fail(status, "dead letter put (reason " + letter.reason + ")");
  }
  return status;
}

StoreStatus SqliteStateStore::quarantine_put(std::string_view message_key, std::string_view account,
                                             std::string_view report) {
  const std::string created_at = now_iso8601_utc_ms();
  std::lock_guard lock(mutex_);
  StatementUse insert(quarantine_insert_);
  StoreStatus status;
  if (!insert->bind_text(1, message_key) || !insert->bind_text_or_null(2, account) ||
      !insert->bind_text(3, created_at) || !insert->bind_text(4, report) || insert->step() != SQLITE_DONE) {
    fail(status, "quarantine put (message " + std::string(message_key) + ")");
  }
  return status;
}

std::vector<std::string> SqliteStateStore::quarantined_keys() {
  std::lock_guard lock(mutex_);
  StatementUse query(quarantine_list_);
  std::vector<std::string> out;
  int rc = query->step();
  for (; rc == SQLITE_ROW; rc = query->step()) out.push_back(query->column_text(0));
  if (rc != SQLITE_DONE) {
    StoreStatus status;
    fail(status, "listing quarantined messages");
    throw StoreError(status.error);
  }
  return out;
}

std::vector<Contact> SqliteStateStore::contacts(std::string_view account) {
  std::lock_guard lock(mutex_);
  StatementUse query(contacts_list_);
  std::vector<Contact> out;
  StoreStatus status;
  int rc = query->bind_text(1, account) ? query->step() : SQLITE_ERROR;
  for (; rc == SQLITE_ROW; rc = query->step()) {
    Contact contact;
    if (!read_contact(contacts_list_, {}, contact, status))
      throw StoreError("listing contacts: " + status.error);
    out.push_back(std::move(contact));
  }
  if (rc != SQLITE_DONE) fail(status, "listing contacts");
  if (!status.ok) throw StoreError(status.error);
  return out;
}

std::vector<InboxEntry> SqliteStateStore::inbox(std::string_view account) {
  std::lock_guard lock(mutex_);
  StatementUse query(inbox_list_);
  std::vector<InboxEntry> out;
  int rc = query->bind_text(1, account) ? query->step() : SQLITE_ERROR;
  for (; rc == SQLITE_ROW; rc = query->step()) {
    InboxEntry entry;
    entry.id = query->column_int64(0);
    entry.account_key = query->column_text(1);
    json::ParseError error;
    if (!json::parse(query->column_text(2), {}, entry.message, error)) {
      throw StoreError("inbox entry " + std::to_string(entry.id) + " holds invalid JSON: " + error.message);
    }
    entry.received_at = query->column_text(3);
    out.push_back(std::move(entry));
  }
  if (rc != SQLITE_DONE) {
    StoreStatus status;
    fail(status, "listing inbox");
    throw StoreError(status.error);
  }
  return out;
}

std::vector<DeadLetter> SqliteStateStore::dead_letters(std::string_view account) {
  std::lock_guard lock(mutex_);
  StatementUse query(dead_letters_list_);
  std::vector<DeadLetter> out;
  int rc = query->bind_text(1, account) ? query->step() : SQLITE_ERROR;
  for (; rc == SQLITE_ROW; rc = query->step()) {
    DeadLetter letter;
    letter.id = query->column_int64(0);
    letter.created_at = query->column_text(1);
    letter.reason = query->column_text(2);
    letter.message = query->column_text(3);
    letter.account_key = query->column_text(4);
    letter.route = query->column_text(5);
    letter.step = query->column_text(6);
    letter.input = query->column_text(7);
    out.push_back(std::move(letter));
  }
  if (rc != SQLITE_DONE) {
    StoreStatus status;
    fail(status, "listing dead letters");
    throw StoreError(status.error);
  }
  return out;
}

StoreStatus SqliteStateStore::begin_batch() {
  std::lock_guard lock(mutex_);
  StoreStatus status;
  if (in_batch_) return {false, "begin batch: a batch is already open (nesting is not supported)"};
  StatementUse begin(begin_);
  if (begin->step() != SQLITE_DONE) {
    fail(status, "begin batch");
    return status;
  }
  in_batch_ = true;
  return status;
}

StoreStatus SqliteStateStore::commit_batch() {
  std::lock_guard lock(mutex_);
  StoreStatus status;
  if (!in_batch_) return {false, "commit batch: no batch is open"};
  in_batch_ = false;
  if (!connection_.in_transaction()) {
    // SQLite rolls a transaction back by itself after some errors (disk full, I/O error).
    return {false, "commit batch: SQLite rolled the batch back after an earlier error; its writes are lost"};
  }
  StatementUse commit(commit_);
  if (commit->step() != SQLITE_DONE) {
    fail(status, "commit batch");
    StatementUse rollback(rollback_);
    rollback->step();
  }
  return status;
}

}  // namespace vumi::store
