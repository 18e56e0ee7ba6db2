#include "store/sqlite_state_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <string>
#include <system_error>

#include "common/json.hpp"
#include "store/schema_migrations.hpp"
#include "store/state_dir_lock.hpp"
#include "store/store_values.hpp"

namespace vumi::store {

namespace {

namespace bj = boost::json;

// Column order every contact query returns (read_contact depends on it).
#define VUMI_CONTACT_COLUMNS "contact_key, msisdn, name, surname, extra, created_at, updated_at, account_key"
// Column order every dead letter query returns (read_dead_letter depends on it).
#define VUMI_DEAD_LETTER_COLUMNS                                                                           \
  "id, created_at, reason, message, account_key, route, step, input, coalesce(last_seen_at, created_at), " \
  "count, source, topic, attempts, replayed_at, coalesce_key"

// The WHERE clause of a filtered dead-letter query, its parameters bound by bind_filter.
constexpr const char* kDeadLetterFilterSql =
    " WHERE (?1 IS NULL OR id = ?1) AND (?2 = '' OR reason = ?2) AND (?3 = '' OR account_key = ?3)"
    " AND (?4 = '' OR coalesce(last_seen_at, created_at) >= ?4)"
    " AND (?5 = '' OR coalesce(last_seen_at, created_at) < ?5) AND (?6 = 1 OR replayed_at IS NULL)";

// Checks the folder (creating it for read_write) and returns the database file path.
std::filesystem::path prepare_database_file(const std::filesystem::path& state_dir,
                                            SqliteStateStore::Mode mode) {
  std::filesystem::path file = state_dir / SqliteStateStore::kDatabaseFileName;
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
  if (mode == Mode::read_write) {
    prepare_delivery_statements();
    checkpointer_.emplace(connection_, "state database");
  }
  if (const char* fault = std::getenv("VUMI_STORE_FAULT_FILE"); fault && *fault) fault_file_ = fault;
}

SqliteStateStore::~SqliteStateStore() {
  // Writes in an open batch were reported as done to their callers: keep them (nobody is left to
  // tell when that fails).
  if (in_batch_) (void)commit_batch();
}

void SqliteStateStore::configure_connection(Mode mode) {
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
    // The ledger's index takes inserts all over it; 16 MiB of page cache keeps its inner pages.
    connection_.exec("PRAGMA cache_size = -16384");
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
                "input, last_seen_at, count, source, topic, attempts, coalesce_key) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?1, 1, ?8, ?9, ?10, ?11)");
  // The partial index on coalesce_key makes this a point update, however many rows there are.
  dead_letter_coalesce_ = Statement(connection_,
                                    "UPDATE dead_letters SET count = count + 1, last_seen_at = ?2 "
                                    "WHERE coalesce_key = ?1 AND replayed_at IS NULL");
  dead_letter_repeats_ = Statement(connection_,
                                   "UPDATE dead_letters SET count = count + ?2, last_seen_at = ?3 "
                                   "WHERE coalesce_key = ?1 AND replayed_at IS NULL");
  dead_letter_replayed_ = Statement(connection_, "UPDATE dead_letters SET replayed_at = ?2 WHERE id = ?1");
  pending_retry_insert_ = Statement(connection_,
                                    "INSERT INTO pending_retries (due_at_ms, account_key, route, step_index, "
                                    "topic, event, steps, attempts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                                    "RETURNING id");
  pending_retry_delete_ = Statement(connection_, "DELETE FROM pending_retries WHERE id = ?1");
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
  dead_letters_list_ =
      Statement(connection_, "SELECT " VUMI_DEAD_LETTER_COLUMNS
                             " FROM dead_letters WHERE ?1 = '' OR account_key = ?1 ORDER BY id");
  // IMMEDIATE takes the write lock at once (waiting up to busy_timeout), rather than failing
  // with SQLITE_BUSY halfway through a batch when another connection writes.
  prepare_message_ledger_statements();
  begin_ = Statement(connection_, "BEGIN IMMEDIATE");
  commit_ = Statement(connection_, "COMMIT");
  rollback_ = Statement(connection_, "ROLLBACK");
}

Error SqliteStateStore::sqlite_error(std::string_view what) const {
  bool transient = false;
  switch (connection_.errcode()) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      transient = true;
      break;
    default:
      break;
  }
  return store_failure(std::string(what) + ": " + connection_.errmsg(), transient).error();
}

Expected<void> SqliteStateStore::read_contact(Statement& row, std::string_view account, Contact& out) {
  out.contact_key = row.column_text(0);
  out.msisdn = row.column_text(1);
  out.name = row.column_text(2);
  out.surname = row.column_text(3);
  out.created_at = row.column_text(5);
  out.updated_at = row.column_text(6);
  out.account_key = account.empty() ? row.column_text(7) : std::string(account);
  return read_contact_extra(row.column_text(4), out);
}

Expected<std::optional<Contact>> SqliteStateStore::contact_get(std::string_view account,
                                                               std::string_view contact_key) {
  std::lock_guard lock(mutex_);
  StatementUse query(contact_by_key_);
  if (!query->bind_text(1, contact_key) || !query->bind_text(2, account)) {
    return sqlite_error("contact get");
  }
  int rc = query->step();
  if (rc == SQLITE_DONE) return std::optional<Contact>();
  if (rc != SQLITE_ROW) return sqlite_error("contact get for account " + std::string(account));
  std::optional<Contact> contact(std::in_place);
  if (auto read = read_contact(contact_by_key_, account, *contact); !read) return std::move(read).error();
  return contact;
}

Expected<std::optional<Contact>> SqliteStateStore::contact_find_by_msisdn(std::string_view account,
                                                                          std::string_view msisdn) {
  std::lock_guard lock(mutex_);
  StatementUse query(contact_by_msisdn_);
  if (!query->bind_text(1, account) || !query->bind_text(2, msisdn)) {
    return sqlite_error("contact find");
  }
  int rc = query->step();
  if (rc == SQLITE_DONE) return std::optional<Contact>();
  if (rc != SQLITE_ROW) return sqlite_error("contact find by msisdn for account " + std::string(account));
  std::optional<Contact> contact(std::in_place);
  if (auto read = read_contact(contact_by_msisdn_, account, *contact); !read) return std::move(read).error();
  return contact;
}

Expected<UpsertedContact> SqliteStateStore::contact_upsert(std::string_view account,
                                                           const bj::object& fields) {
  if (account.empty()) return vumi::fail(ErrorCode::invalid, "contact upsert: account key is empty");
  if (std::string problem = contact_fields_problem(fields); !problem.empty())
    return vumi::fail(ErrorCode::invalid,
                      "contact upsert for account " + std::string(account) + ": " + problem);
  const std::string new_key = random_contact_key();
  const std::string now = now_iso8601_utc_ms();
  const bj::value* extra = fields.if_contains("extra");
  const std::string extra_text = extra != nullptr ? serialize_object(extra->as_object()) : "{}";

  std::lock_guard lock(mutex_);
  if (auto broken = batch_broken("contact upsert for account " + std::string(account)))
    return std::move(*broken);
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
  if (!bound || upsert->step() != SQLITE_ROW) return write_failed(what);
  UpsertedContact upserted;
  if (auto read = read_contact(contact_upsert_, account, upserted.contact); !read)
    return std::move(read).error();
  if (upsert->step() != SQLITE_DONE) return write_failed(what);
  // The row keeps its key on update, so the fresh key comes back only from an insert.
  upserted.created = upserted.contact.contact_key == new_key;
  return upserted;
}

Expected<std::int64_t> SqliteStateStore::inbox_put(std::string_view account, const bj::value& message) {
  if (account.empty()) return vumi::fail(ErrorCode::invalid, "inbox put: account key is empty");
  const std::string text = json::to_text(message);
  const std::string now = now_iso8601_utc_ms();
  std::lock_guard lock(mutex_);
  if (auto broken = batch_broken("inbox put for account " + std::string(account))) return std::move(*broken);
  StatementUse insert(inbox_insert_);
  const std::string what = "inbox put for account " + std::string(account);
  if (!insert->bind_text(1, account) || !insert->bind_text(2, text) || !insert->bind_text(3, now) ||
      insert->step() != SQLITE_ROW) {
    return write_failed(what);
  }
  std::int64_t id = insert->column_int64(0);
  if (insert->step() != SQLITE_DONE) return write_failed(what);
  return id;
}

Expected<void> SqliteStateStore::dead_letter_put(const DeadLetter& letter) {
  const std::string created_at = letter.created_at.empty() ? now_iso8601_utc_ms() : letter.created_at;
  std::lock_guard lock(mutex_);
  const std::string what = "dead letter put (reason " + letter.reason + ")";
  if (auto broken = batch_broken(what)) return std::move(*broken);
  if (!letter.coalesce_key.empty()) {
    StatementUse update(dead_letter_coalesce_);
    if (!update->bind_text(1, letter.coalesce_key) || !update->bind_text(2, created_at) ||
        update->step() != SQLITE_DONE) {
      return write_failed(what);
    }
    if (sqlite3_changes(connection_.handle()) > 0) return {};
  }
  StatementUse insert(dead_letter_insert_);
  if (!insert->bind_text(1, created_at) || !insert->bind_text(2, letter.reason) ||
      !insert->bind_text(3, letter.message) || !insert->bind_text_or_null(4, letter.account_key) ||
      !insert->bind_text_or_null(5, letter.route) || !insert->bind_text_or_null(6, letter.step) ||
      !insert->bind_text(7, letter.input) || !insert->bind_text_or_null(8, letter.source) ||
      !insert->bind_text_or_null(9, letter.topic) || !insert->bind_text_or_null(10, letter.attempts) ||
      !insert->bind_text_or_null(11, letter.coalesce_key) || insert->step() != SQLITE_DONE) {
    return write_failed(what);
  }
  return {};
}

Expected<void> SqliteStateStore::quarantine_put(std::string_view message_key, std::string_view account,
                                                std::string_view report) {
  const std::string created_at = now_iso8601_utc_ms();
  std::lock_guard lock(mutex_);
  StatementUse insert(quarantine_insert_);
  if (!insert->bind_text(1, message_key) || !insert->bind_text_or_null(2, account) ||
      !insert->bind_text(3, created_at) || !insert->bind_text(4, report) || insert->step() != SQLITE_DONE) {
    return sqlite_error("quarantine put (message " + std::string(message_key) + ")");
  }
  return {};
}

std::vector<std::string> SqliteStateStore::quarantined_keys() {
  std::lock_guard lock(mutex_);
  StatementUse query(quarantine_list_);
  std::vector<std::string> out;
  int rc = query->step();
  for (; rc == SQLITE_ROW; rc = query->step()) out.push_back(query->column_text(0));
  if (rc != SQLITE_DONE) {
    throw StoreError(sqlite_error("listing quarantined messages").message);
  }
  return out;
}

Expected<void> SqliteStateStore::dead_letter_add_repeats(std::string_view coalesce_key, std::int64_t count,
                                                         std::string_view last_seen_at) {
  std::lock_guard lock(mutex_);
  StatementUse update(dead_letter_repeats_);
  if (!update->bind_text(1, coalesce_key) || !update->bind_int64(2, count) ||
      !update->bind_text(3, last_seen_at) || update->step() != SQLITE_DONE)
    return write_failed("counting repeated dead letters");
  return {};
}

Expected<void> SqliteStateStore::dead_letter_mark_replayed(std::int64_t id, std::string_view when) {
  std::lock_guard lock(mutex_);
  StatementUse update(dead_letter_replayed_);
  if (!update->bind_int64(1, id) || !update->bind_text(2, when) || update->step() != SQLITE_DONE)
    return write_failed("marking dead letter " + std::to_string(id) + " replayed");
  return {};
}

Expected<std::int64_t> SqliteStateStore::dead_letters_prune(const DeadLetterRetention& retention,
                                                            std::int64_t max_deleted) {
  std::lock_guard lock(mutex_);
  std::int64_t deleted = 0;
  std::optional<Error> failed;
  // Each rule deletes the oldest rows (by id) beyond its limit, at most what is left of max_deleted.
  auto run = [&](const std::string& sql, std::string_view rule) {
    if (deleted >= max_deleted) return true;
    if (auto failure = connection_.try_exec(sql + " LIMIT " + std::to_string(max_deleted - deleted) + ")")) {
      failed = store_failure("pruning dead letters (" + std::string(rule) + "): " + *failure).error();
      return false;
    }
    deleted += sqlite3_changes(connection_.handle());
    return true;
  };
  if (retention.max_age_s > 0) {
    const std::string cutoff =
        iso8601_utc_ms(std::chrono::system_clock::now() - std::chrono::seconds(retention.max_age_s));
    if (!run("DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters WHERE "
             "coalesce(last_seen_at, created_at) < '" +
                 cutoff + "' ORDER BY id",
             "max_age_s"))
      return std::move(*failed);
  }
  if (retention.max_rows_per_account > 0) {
    // The accounts over their limit, counted on the account index; then each one's oldest rows.
    std::vector<std::pair<std::string, std::int64_t>> over;
    {
      Statement counts(connection_,
                       "SELECT account_key, count(*) FROM dead_letters WHERE account_key IS NOT NULL "
                       "GROUP BY account_key HAVING count(*) > ?1");
      counts.bind_int64(1, retention.max_rows_per_account);
      int rc = counts.step();
      for (; rc == SQLITE_ROW; rc = counts.step())
        over.emplace_back(counts.column_text(0), counts.column_int64(1) - retention.max_rows_per_account);
      if (rc != SQLITE_DONE) return sqlite_error("pruning dead letters (max_rows_per_account)");
    }
    for (const auto& [account, excess] : over) {
      if (deleted >= max_deleted) break;
      Statement del(
          connection_,
          "DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters WHERE account_key = ?1 "
          "ORDER BY id LIMIT ?2)");
      if (!del.bind_text(1, account) || !del.bind_int64(2, std::min(excess, max_deleted - deleted)) ||
          del.step() != SQLITE_DONE) {
        return sqlite_error("pruning dead letters of account " + account + " (max_rows_per_account)");
      }
      deleted += sqlite3_changes(connection_.handle());
    }
  }
  if (retention.max_rows > 0) {
    // Keeps the rows from the max_rows-th newest on.
    if (!run("DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters WHERE id < (SELECT id FROM "
             "dead_letters ORDER BY id DESC LIMIT 1 OFFSET " +
                 std::to_string(retention.max_rows - 1) + ") ORDER BY id",
             "max_rows"))
      return std::move(*failed);
  }
  return deleted;
}

Expected<std::int64_t> SqliteStateStore::pending_retry_put(const PendingRetry& retry) {
  std::lock_guard lock(mutex_);
  StatementUse insert(pending_retry_insert_);
  if (!insert->bind_int64(1, retry.due_at_ms) || !insert->bind_text(2, retry.account_key) ||
      !insert->bind_text(3, retry.route) || !insert->bind_int64(4, retry.step_index) ||
      !insert->bind_text(5, retry.topic) || !insert->bind_text(6, retry.event) ||
      !insert->bind_text(7, retry.steps) || !insert->bind_text(8, retry.attempts) ||
      insert->step() != SQLITE_ROW) {
    return write_failed("storing a pending retry for account " + retry.account_key);
  }
  return insert->column_int64(0);
}

Expected<void> SqliteStateStore::pending_retry_delete(std::int64_t id) {
  std::lock_guard lock(mutex_);
  StatementUse del(pending_retry_delete_);
  if (!del->bind_int64(1, id) || del->step() != SQLITE_DONE)
    return write_failed("deleting pending retry " + std::to_string(id));
  return {};
}

std::vector<Contact> SqliteStateStore::contacts(std::string_view account) {
  std::lock_guard lock(mutex_);
  StatementUse query(contacts_list_);
  std::vector<Contact> out;
  int rc = query->bind_text(1, account) ? query->step() : SQLITE_ERROR;
  for (; rc == SQLITE_ROW; rc = query->step()) {
    Contact contact;
    if (auto read = read_contact(contacts_list_, {}, contact); !read)
      throw StoreError("listing contacts: " + read.error().message);
    out.push_back(std::move(contact));
  }
  if (rc != SQLITE_DONE) throw StoreError(sqlite_error("listing contacts").message);
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
    throw StoreError(sqlite_error("listing inbox").message);
  }
  return out;
}

std::vector<DeadLetter> SqliteStateStore::dead_letters(std::string_view account) {
  std::lock_guard lock(mutex_);
  StatementUse query(dead_letters_list_);
  std::vector<DeadLetter> out;
  int rc = query->bind_text(1, account) ? query->step() : SQLITE_ERROR;
  for (; rc == SQLITE_ROW; rc = query->step()) out.push_back(read_dead_letter(dead_letters_list_));
  if (rc != SQLITE_DONE) {
    throw StoreError(sqlite_error("listing dead letters").message);
  }
  return out;
}

DeadLetter SqliteStateStore::read_dead_letter(Statement& row) {
  DeadLetter letter;
  letter.id = row.column_int64(0);
  letter.created_at = row.column_text(1);
  letter.reason = row.column_text(2);
  letter.message = row.column_text(3);
  letter.account_key = row.column_text(4);
  letter.route = row.column_text(5);
  letter.step = row.column_text(6);
  letter.input = row.column_text(7);
  letter.last_seen_at = row.column_text(8);
  letter.count = row.column_int64(9);
  letter.source = row.column_text(10);
  letter.topic = row.column_text(11);
  letter.attempts = row.column_text(12);
  letter.replayed_at = row.column_text(13);
  letter.coalesce_key = row.column_text(14);
  return letter;
}

void SqliteStateStore::bind_filter(Statement& query, const DeadLetterFilter& filter) {
  const bool bound = (filter.id ? query.bind_int64(1, *filter.id) : query.bind_null(1)) &&
                     query.bind_text(2, filter.reason) && query.bind_text(3, filter.account) &&
                     query.bind_text(4, filter.since) && query.bind_text(5, filter.older_than) &&
                     query.bind_int64(6, filter.include_replayed ? 1 : 0);
  if (!bound) throw StoreError("dead letter filter: " + connection_.errmsg());
}

std::vector<DeadLetter> SqliteStateStore::dead_letters(const DeadLetterFilter& filter) {
  std::lock_guard lock(mutex_);
  Statement query(connection_, std::string("SELECT " VUMI_DEAD_LETTER_COLUMNS " FROM dead_letters") +
                                   kDeadLetterFilterSql + " ORDER BY id LIMIT ?7");
  bind_filter(query, filter);
  if (!query.bind_int64(7, filter.limit > 0 ? filter.limit : -1))
    throw StoreError("listing dead letters: " + connection_.errmsg());
  std::vector<DeadLetter> out;
  int rc = query.step();
  for (; rc == SQLITE_ROW; rc = query.step()) out.push_back(read_dead_letter(query));
  if (rc != SQLITE_DONE) throw StoreError("listing dead letters: " + connection_.errmsg());
  return out;
}

std::int64_t SqliteStateStore::dead_letters_purge(const DeadLetterFilter& filter) {
  std::lock_guard lock(mutex_);
  Statement del(connection_, std::string("DELETE FROM dead_letters") + kDeadLetterFilterSql);
  bind_filter(del, filter);
  if (del.step() != SQLITE_DONE) throw StoreError("purging dead letters: " + connection_.errmsg());
  return sqlite3_changes(connection_.handle());
}

std::vector<PendingRetry> SqliteStateStore::pending_retries() {
  std::lock_guard lock(mutex_);
  Statement query(connection_,
                  "SELECT id, due_at_ms, account_key, route, step_index, topic, event, steps, attempts "
                  "FROM pending_retries ORDER BY due_at_ms, id");
  std::vector<PendingRetry> out;
  int rc = query.step();
  for (; rc == SQLITE_ROW; rc = query.step()) {
    PendingRetry retry;
    retry.id = query.column_int64(0);
    retry.due_at_ms = query.column_int64(1);
    retry.account_key = query.column_text(2);
    retry.route = query.column_text(3);
    retry.step_index = query.column_int64(4);
    retry.topic = query.column_text(5);
    retry.event = query.column_text(6);
    retry.steps = query.column_text(7);
    retry.attempts = query.column_text(8);
    out.push_back(std::move(retry));
  }
  if (rc != SQLITE_DONE) throw StoreError("listing pending retries: " + connection_.errmsg());
  return out;
}

Expected<void> SqliteStateStore::begin_batch() {
  std::lock_guard lock(mutex_);
  if (in_batch_)
    return vumi::fail(ErrorCode::internal, "begin batch: a batch is already open (nesting is not supported)");
  StatementUse begin(begin_);
  if (begin->step() != SQLITE_DONE) return sqlite_error("begin batch");
  in_batch_ = true;
  batch_write_error_.clear();
  return {};
}

Expected<void> SqliteStateStore::commit_batch() {
  std::lock_guard lock(mutex_);
  if (!in_batch_) return vumi::fail(ErrorCode::internal, "commit batch: no batch is open");
  in_batch_ = false;
  if (!connection_.in_transaction()) {
    // SQLite rolls a transaction back by itself after some errors (disk full, I/O error).
    return store_failure(
        "commit batch: SQLite rolled the batch back after an earlier error; its writes are lost");
  }
  Expected<void> result;
  std::error_code ec;
  if (!fault_file_.empty() && std::filesystem::exists(fault_file_, ec)) {
    result = store_failure("commit batch: database or disk is full (injected: " + fault_file_.string() +
                           " exists)");
  } else if (!batch_write_error_.empty()) {
    result = store_failure("commit batch: refused, a write in it failed (" + batch_write_error_ + ")");
  } else {
    StatementUse commit(commit_);
    if (commit->step() == SQLITE_DONE) return {};
    result = sqlite_error("commit batch");
  }
  if (connection_.in_transaction()) {
    StatementUse rollback(rollback_);
    rollback->step();
  }
  return result;
}

Expected<void> SqliteStateStore::rollback_batch() {
  std::lock_guard lock(mutex_);
  if (!in_batch_) return vumi::fail(ErrorCode::internal, "rollback batch: no batch is open");
  in_batch_ = false;
  if (!connection_.in_transaction()) return {};
  StatementUse rollback(rollback_);
  if (rollback->step() != SQLITE_DONE) return sqlite_error("rollback batch");
  return {};
}

Error SqliteStateStore::write_failed(std::string_view what) {
  Error error = sqlite_error(what);
  if (in_batch_ && batch_write_error_.empty()) batch_write_error_ = error.message;
  return error;
}

std::optional<Error> SqliteStateStore::batch_broken(std::string_view what) const {
  if (!in_batch_) return std::nullopt;
  if (!batch_write_error_.empty()) {
    return store_failure(std::string(what) + ": refused, an earlier write of this batch failed (" +
                         batch_write_error_ + ")")
        .error();
  }
  if (!connection_.in_transaction())
    return store_failure(std::string(what) + ": refused, SQLite rolled this batch back after an error")
        .error();
  return std::nullopt;
}

}  // namespace vumi::store
