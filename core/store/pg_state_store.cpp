#include "store/pg_state_store.hpp"

#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdlib>
#include <string>

#include "common/json.hpp"
#include "common/utf8.hpp"
#include "store/pg_schema.hpp"
#include "store/store_values.hpp"

namespace vumi::store {

namespace {

namespace bj = boost::json;

// Column order every contact query returns (read_contact depends on it).
#define VUMI_PG_CONTACT_COLUMNS \
  "contact_key, msisdn, name, surname, extra::text, created_at, updated_at, account_key"
// Column order every dead letter query returns (read_dead_letter depends on it).
#define VUMI_PG_DEAD_LETTER_COLUMNS                                                                        \
  "id, created_at, reason, message, account_key, route, step, input, coalesce(last_seen_at, created_at), " \
  "count, source, topic, attempts, replayed_at, coalesce_key"

// The WHERE clause of a filtered dead-letter query; filter_params gives its parameters.
constexpr const char* kDeadLetterFilterSql =
    " WHERE ($1::bigint IS NULL OR id = $1) AND ($2::text = '' OR reason = $2)"
    " AND ($3::text = '' OR account_key = $3)"
    " AND ($4::text = '' OR coalesce(last_seen_at, created_at) >= $4)"
    " AND ($5::text = '' OR coalesce(last_seen_at, created_at) < $5) AND ($6::boolean OR replayed_at IS "
    "NULL)";

}  // namespace

PgStateStore::PgStateStore(const std::string& url, Mode mode) : connection_(url) {
  if (mode == Mode::read_write) {
    migrate_pg_schema(connection_);
    schema_version_ = pg_schema_version(connection_);
  } else {
    // Inspection never writes, whatever a bug would ask.
    connection_.must_run("SET default_transaction_read_only = on", "opening read-only");
    const int version = pg_schema_version(connection_);
    if (version == 0) {
      throw StoreError("no state in " + connection_.where() +
                       " (the database has no schema: the daemon has not run with this url)");
    }
    if (version != latest_schema_version()) {
      throw StoreError(connection_.where() + " has schema version " + std::to_string(version) +
                       ", this build reads version " + std::to_string(latest_schema_version()) +
                       (version < latest_schema_version() ? " (run the daemon once to migrate it)"
                                                          : " (use a newer vumi-dispatcher)"));
    }
    schema_version_ = version;
  }
  prepare_statements();
  prepare_delivery_statements();
  if (const char* fault = std::getenv("VUMI_STORE_FAULT_FILE"); fault && *fault) fault_file_ = fault;
}

PgStateStore::~PgStateStore() {
  // Writes in an open batch were reported as done to their callers: keep them (nobody is left to
  // tell when that fails).
  if (in_batch_) (void)commit_batch();
}

void PgStateStore::prepare_statements() {
  connection_.prepare(
      "contact_by_key",
      "SELECT " VUMI_PG_CONTACT_COLUMNS " FROM contacts WHERE contact_key = $1 AND account_key = $2", 2);
  connection_.prepare(
      "contact_by_msisdn",
      "SELECT " VUMI_PG_CONTACT_COLUMNS " FROM contacts WHERE account_key = $1 AND msisdn = $2", 2);
  // One statement, so an upsert is atomic without an explicit transaction. A NULL name/surname
  // means "not given": keep the stored value. extra is merged as a JSON Merge Patch (RFC 7396).
  connection_.prepare(
      "contact_upsert",
      "INSERT INTO contacts AS c (contact_key, account_key, msisdn, name, surname, extra, "
      "created_at, updated_at) VALUES ($1, $2, $3, coalesce($4::text, ''), coalesce($5::text, ''), "
      "vumi_json_merge_patch('{}', $6::jsonb), $7, $7) "
      "ON CONFLICT (account_key, msisdn) DO UPDATE SET name = coalesce($4::text, c.name), "
      "surname = coalesce($5::text, c.surname), extra = vumi_json_merge_patch(c.extra, $6::jsonb), "
      "updated_at = $7 RETURNING " VUMI_PG_CONTACT_COLUMNS,
      7);
  connection_.prepare(
      "inbox_insert",
      "INSERT INTO inbox (account_key, message, received_at) VALUES ($1, $2, $3) RETURNING id", 3);
  // An unreplayed row with the same coalesce_key takes the occurrence; else a new row. One
  // statement, so one round trip; the unique index on unreplayed keys (schema version 7) makes
  // two dispatchers putting the same key at once meet on one row (the second waits, then adds).
  connection_.prepare(
      "dead_letter_put",
      "INSERT INTO dead_letters (created_at, reason, message, account_key, route, step, input, "
      "last_seen_at, count, source, topic, attempts, coalesce_key) "
      "VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::bytea, $1::text, 1, "
      "$8::text, $9::text, $10::text, $11::text) "
      "ON CONFLICT (coalesce_key) WHERE coalesce_key IS NOT NULL AND replayed_at IS NULL "
      "DO UPDATE SET count = dead_letters.count + 1, last_seen_at = excluded.last_seen_at",
      11);
  connection_.prepare("dead_letter_repeats",
                      "UPDATE dead_letters SET count = count + $2, last_seen_at = $3 "
                      "WHERE coalesce_key = $1 AND replayed_at IS NULL",
                      3);
  connection_.prepare("dead_letter_replayed", "UPDATE dead_letters SET replayed_at = $2 WHERE id = $1", 2);
  connection_.prepare("quarantine_insert",
                      "INSERT INTO quarantined_messages (message_key, account_key, created_at, report) "
                      "VALUES ($1, $2, $3, $4) ON CONFLICT (message_key) DO NOTHING",
                      4);
  connection_.prepare("quarantine_list", "SELECT message_key FROM quarantined_messages ORDER BY created_at",
                      0);
  connection_.prepare("contacts_list",
                      "SELECT " VUMI_PG_CONTACT_COLUMNS
                      " FROM contacts WHERE $1::text = '' OR account_key = $1 ORDER BY id",
                      1);
  connection_.prepare("inbox_list",
                      "SELECT id, account_key, message, received_at FROM inbox "
                      "WHERE $1::text = '' OR account_key = $1 ORDER BY id",
                      1);
  connection_.prepare("dead_letters_list",
                      "SELECT " VUMI_PG_DEAD_LETTER_COLUMNS
                      " FROM dead_letters WHERE $1::text = '' OR account_key = $1 ORDER BY id",
                      1);
  connection_.prepare("dead_letters_filtered",
                      std::string("SELECT " VUMI_PG_DEAD_LETTER_COLUMNS " FROM dead_letters") +
                          kDeadLetterFilterSql + " ORDER BY id LIMIT $7::bigint",
                      7);
  connection_.prepare("dead_letters_purge", std::string("DELETE FROM dead_letters") + kDeadLetterFilterSql,
                      6);
}

Expected<void> PgStateStore::ready(std::string_view what) {
  if (in_batch_ && !batch_error_.empty()) {
    return store_failure(
        std::string(what) + ": refused, an earlier statement of this batch failed (" + batch_error_ + ")",
        batch_error_transient_);
  }
  if (connection_.connected()) return {};
  if (in_batch_) {
    batch_error_ =
        std::string(what) + ": the connection to " + connection_.where() + " was lost; this batch is lost";
    batch_error_transient_ = true;
    return store_failure(batch_error_, true);
  }
  if (Expected<void> reconnected = connection_.reconnect(); !reconnected)
    return store_failure(std::string(what) + ": " + reconnected.error().message, true);
  return {};
}

Expected<PgResult> PgStateStore::run(const std::string& name, const PgParams& params, std::string_view what) {
  if (auto usable = ready(what); !usable) return std::move(usable).error();
  PgResult result = connection_.run_prepared(name, params);
  note_deferred_failure();
  if (result.ok()) return result;
  if (in_batch_ && !batch_error_.empty()) {
    // A deferred write before it failed, so the server skipped this statement.
    return ready(what).error();
  }
  const bool transient = pg_transient(result, connection_);
  std::string error = std::string(what) + ": " + result.error();
  if (in_batch_) {
    batch_error_ = error;
    batch_error_transient_ = transient;
  }
  return store_failure(std::move(error), transient);
}

Expected<void> PgStateStore::write(const std::string& name, const PgParams& params, const std::string& what) {
  if (!in_batch_ || !connection_.pipelining()) {
    if (auto result = run(name, params, what); !result) return std::move(result).error();
    return {};
  }
  if (auto usable = ready(what); !usable) return usable;
  if (!connection_.defer_prepared(name, params, what)) {
    batch_error_ = what + ": cannot send to " + connection_.where() + ": " + connection_.error();
    batch_error_transient_ = true;
    return store_failure(batch_error_, true);
  }
  return {};
}

void PgStateStore::note_deferred_failure() {
  PgConnection::DeferredFailure failure = connection_.take_deferred_failure();
  if (failure.error.empty() || !in_batch_ || !batch_error_.empty()) return;
  batch_error_ = std::move(failure.error);
  batch_error_transient_ = failure.transient;
}

PgResult PgStateStore::must_run(const std::string& name, const PgParams& params, std::string_view what) {
  Expected<PgResult> result = run(name, params, what);
  if (!result) throw StoreError(result.error().message);
  return std::move(*result);
}

Expected<void> PgStateStore::read_contact(const PgResult& result, int row, Contact& out) {
  out.contact_key = result.text(row, 0);
  out.msisdn = result.text(row, 1);
  out.name = result.text(row, 2);
  out.surname = result.text(row, 3);
  out.created_at = result.text(row, 5);
  out.updated_at = result.text(row, 6);
  out.account_key = result.text(row, 7);
  return read_contact_extra(result.text(row, 4), out);
}

Expected<std::optional<Contact>> PgStateStore::contact_lookup(const std::string& statement,
                                                              const PgParams& params, std::string_view what) {
  std::lock_guard lock(mutex_);
  Expected<PgResult> result = run(statement, params, what);
  if (!result) return std::move(result).error();
  if (result->rows() == 0) return std::optional<Contact>();
  std::optional<Contact> contact(std::in_place);
  if (auto read = read_contact(*result, 0, *contact); !read) return std::move(read).error();
  return contact;
}

Expected<std::optional<Contact>> PgStateStore::contact_get(std::string_view account,
                                                           std::string_view contact_key) {
  return contact_lookup("contact_by_key", PgParams().text(contact_key).text(account),
                        "contact get for account " + std::string(account));
}

Expected<std::optional<Contact>> PgStateStore::contact_find_by_msisdn(std::string_view account,
                                                                      std::string_view msisdn) {
  return contact_lookup("contact_by_msisdn", PgParams().text(account).text(msisdn),
                        "contact find by msisdn for account " + std::string(account));
}

Expected<UpsertedContact> PgStateStore::contact_upsert(std::string_view account, const bj::object& fields) {
  const std::string what = "contact upsert for account " + std::string(account);
  if (account.empty()) return vumi::fail(ErrorCode::invalid, "contact upsert: account key is empty");
  if (std::string problem = contact_fields_problem(fields); !problem.empty())
    return vumi::fail(ErrorCode::invalid, what + ": " + problem);
  const std::string new_key = random_contact_key();
  PgParams params;
  params.text(new_key).text(account).text(fields.at("msisdn").as_string());
  for (const char* key : {"name", "surname"}) {
    const bj::value* value = fields.if_contains(key);
    if (value != nullptr)
      params.text(value->as_string());
    else
      params.null();
  }
  const bj::value* extra = fields.if_contains("extra");
  params.text(extra != nullptr ? bj::serialize(extra->as_object()) : "{}").text(now_iso8601_utc_ms());

  std::lock_guard lock(mutex_);
  Expected<PgResult> result = run("contact_upsert", params, what);
  if (!result) return std::move(result).error();
  UpsertedContact upserted;
  if (auto read = read_contact(*result, 0, upserted.contact); !read) return std::move(read).error();
  // The row keeps its key on update, so the fresh key comes back only from an insert.
  upserted.created = upserted.contact.contact_key == new_key;
  return upserted;
}

Expected<std::int64_t> PgStateStore::inbox_put(std::string_view account, const bj::value& message) {
  if (account.empty()) return vumi::fail(ErrorCode::invalid, "inbox put: account key is empty");
  PgParams params;
  params.text(account).text(json::to_text(message)).text(now_iso8601_utc_ms());
  std::lock_guard lock(mutex_);
  Expected<PgResult> result = run("inbox_insert", params, "inbox put for account " + std::string(account));
  if (!result) return std::move(result).error();
  return result->int64(0, 0);
}

Expected<void> PgStateStore::dead_letter_put(const DeadLetter& letter) {
  const std::string created_at = letter.created_at.empty() ? now_iso8601_utc_ms() : letter.created_at;
  // A letter may be about bytes that are not UTF-8: input keeps them (bytea); the text columns,
  // which PostgreSQL would refuse them in, get U+FFFD for each bad byte.
  const auto text = [](std::string_view value) { return utf8::replace_invalid(value); };
  PgParams params;
  params.text(text(created_at)).text(text(letter.reason)).text(text(letter.message));
  params.text_or_null(text(letter.account_key))
      .text_or_null(text(letter.route))
      .text_or_null(text(letter.step));
  params.bytes(letter.input).text_or_null(text(letter.source)).text_or_null(text(letter.topic));
  params.text_or_null(text(letter.attempts)).text_or_null(text(letter.coalesce_key));
  std::lock_guard lock(mutex_);
  return write("dead_letter_put", params, "dead letter put (reason " + letter.reason + ")");
}

Expected<void> PgStateStore::quarantine_put(std::string_view message_key, std::string_view account,
                                            std::string_view report) {
  PgParams params;
  params.text(utf8::replace_invalid(message_key)).text_or_null(utf8::replace_invalid(account));
  params.text(now_iso8601_utc_ms()).text(utf8::replace_invalid(report));
  std::lock_guard lock(mutex_);
  return write("quarantine_insert", params, "quarantine put (message " + std::string(message_key) + ")");
}

std::vector<std::string> PgStateStore::quarantined_keys() {
  std::lock_guard lock(mutex_);
  PgResult result = must_run("quarantine_list", PgParams(), "listing quarantined messages");
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(result.rows()));
  for (int row = 0; row < result.rows(); ++row) out.push_back(result.text(row, 0));
  return out;
}

Expected<void> PgStateStore::dead_letter_add_repeats(std::string_view coalesce_key, std::int64_t count,
                                                     std::string_view last_seen_at) {
  std::lock_guard lock(mutex_);
  // The key as dead_letter_put stored it (text columns hold valid UTF-8 only).
  return write("dead_letter_repeats",
               PgParams().text(utf8::replace_invalid(coalesce_key)).int64(count).text(last_seen_at),
               "counting repeated dead letters");
}

Expected<void> PgStateStore::dead_letter_mark_replayed(std::int64_t id, std::string_view when) {
  std::lock_guard lock(mutex_);
  return write("dead_letter_replayed", PgParams().int64(id).text(when),
               "marking dead letter " + std::to_string(id) + " replayed");
}

Expected<std::int64_t> PgStateStore::dead_letters_prune(const DeadLetterRetention& retention,
                                                        std::int64_t max_deleted) {
  std::lock_guard lock(mutex_);
  std::int64_t deleted = 0;
  // Each rule deletes the oldest rows (by id) beyond its limit, at most what is left of max_deleted.
  auto run_rule = [&](const std::string& sql, PgParams params, std::string_view rule) -> Expected<void> {
    if (deleted >= max_deleted) return {};
    if (auto usable = ready("pruning dead letters"); !usable) return usable;
    params.int64(max_deleted - deleted);
    PgResult result = connection_.run(sql, params);
    if (!result.ok()) {
      return store_failure("pruning dead letters (" + std::string(rule) + "): " + result.error(),
                           pg_transient(result, connection_));
    }
    deleted += result.affected();
    return {};
  };
  if (retention.max_age_s > 0) {
    const std::string cutoff =
        iso8601_utc_ms(std::chrono::system_clock::now() - std::chrono::seconds(retention.max_age_s));
    if (auto ran = run_rule("DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters WHERE "
                            "coalesce(last_seen_at, created_at) < $1 ORDER BY id LIMIT $2)",
                            PgParams().text(cutoff), "max_age_s");
        !ran)
      return std::move(ran).error();
  }
  if (retention.max_rows_per_account > 0 && deleted < max_deleted) {
    // The accounts over their limit, counted on the account index; then each one's oldest rows.
    if (auto usable = ready("pruning dead letters"); !usable) return std::move(usable).error();
    PgResult over = connection_.run(
        "SELECT account_key, count(*) - $1 FROM dead_letters WHERE account_key IS NOT NULL "
        "GROUP BY account_key HAVING count(*) > $1",
        PgParams().int64(retention.max_rows_per_account));
    if (!over.ok()) {
      return store_failure("pruning dead letters (max_rows_per_account): " + over.error(),
                           pg_transient(over, connection_));
    }
    for (int row = 0; row < over.rows(); ++row) {
      const std::string account = over.text(row, 0);
      // At most the account's excess, and at most what is left of max_deleted (run_rule's $3).
      if (auto ran = run_rule(
              "DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters WHERE account_key = $1 "
              "ORDER BY id LIMIT least($2::bigint, $3::bigint))",
              PgParams().text(account).int64(over.int64(row, 1)), "max_rows_per_account of " + account);
          !ran)
        return std::move(ran).error();
    }
  }
  if (retention.max_rows > 0) {
    // Keeps the rows from the max_rows-th newest on.
    if (auto ran = run_rule(
            "DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters WHERE id < (SELECT id FROM "
            "dead_letters ORDER BY id DESC LIMIT 1 OFFSET $1) ORDER BY id LIMIT $2)",
            PgParams().int64(retention.max_rows - 1), "max_rows");
        !ran)
      return std::move(ran).error();
  }
  return deleted;
}

std::vector<Contact> PgStateStore::contacts(std::string_view account) {
  std::lock_guard lock(mutex_);
  PgResult result = must_run("contacts_list", PgParams().text(account), "listing contacts");
  std::vector<Contact> out(static_cast<std::size_t>(result.rows()));
  for (int row = 0; row < result.rows(); ++row) {
    if (auto read = read_contact(result, row, out[static_cast<std::size_t>(row)]); !read)
      throw StoreError("listing contacts: " + read.error().message);
  }
  return out;
}

std::vector<InboxEntry> PgStateStore::inbox(std::string_view account) {
  std::lock_guard lock(mutex_);
  PgResult result = must_run("inbox_list", PgParams().text(account), "listing inbox");
  std::vector<InboxEntry> out;
  for (int row = 0; row < result.rows(); ++row) {
    InboxEntry entry;
    entry.id = result.int64(row, 0);
    entry.account_key = result.text(row, 1);
    json::ParseError error;
    if (!json::parse(result.text(row, 2), {}, entry.message, error))
      throw StoreError("inbox entry " + std::to_string(entry.id) + " holds invalid JSON: " + error.message);
    entry.received_at = result.text(row, 3);
    out.push_back(std::move(entry));
  }
  return out;
}

DeadLetter PgStateStore::read_dead_letter(const PgResult& result, int row) {
  DeadLetter letter;
  letter.id = result.int64(row, 0);
  letter.created_at = result.text(row, 1);
  letter.reason = result.text(row, 2);
  letter.message = result.text(row, 3);
  letter.account_key = result.text(row, 4);
  letter.route = result.text(row, 5);
  letter.step = result.text(row, 6);
  letter.input = result.bytes(row, 7);
  letter.last_seen_at = result.text(row, 8);
  letter.count = result.int64(row, 9);
  letter.source = result.text(row, 10);
  letter.topic = result.text(row, 11);
  letter.attempts = result.text(row, 12);
  letter.replayed_at = result.text(row, 13);
  letter.coalesce_key = result.text(row, 14);
  return letter;
}

std::vector<DeadLetter> PgStateStore::dead_letter_rows(const PgResult& result) {
  std::vector<DeadLetter> out;
  out.reserve(static_cast<std::size_t>(result.rows()));
  for (int row = 0; row < result.rows(); ++row) out.push_back(read_dead_letter(result, row));
  return out;
}

std::vector<DeadLetter> PgStateStore::dead_letters(std::string_view account) {
  std::lock_guard lock(mutex_);
  return dead_letter_rows(must_run("dead_letters_list", PgParams().text(account), "listing dead letters"));
}

PgParams PgStateStore::filter_params(const DeadLetterFilter& filter) {
  PgParams params;
  if (filter.id)
    params.int64(*filter.id);
  else
    params.null();
  params.text(filter.reason).text(filter.account).text(filter.since).text(filter.older_than);
  params.text(filter.include_replayed ? "true" : "false");
  return params;
}

std::vector<DeadLetter> PgStateStore::dead_letters(const DeadLetterFilter& filter) {
  PgParams params = filter_params(filter);
  if (filter.limit > 0)
    params.int64(filter.limit);
  else
    params.null();
  std::lock_guard lock(mutex_);
  return dead_letter_rows(must_run("dead_letters_filtered", params, "listing dead letters"));
}

std::int64_t PgStateStore::dead_letters_purge(const DeadLetterFilter& filter) {
  std::lock_guard lock(mutex_);
  return must_run("dead_letters_purge", filter_params(filter), "purging dead letters").affected();
}

Expected<void> PgStateStore::run_control(const char* sql, std::string_view what) {
  PgResult result = connection_.run(sql);
  if (result.ok()) return {};
  return store_failure(std::string(what) + ": " + result.error(), pg_transient(result, connection_));
}

Expected<void> PgStateStore::begin_batch() {
  std::lock_guard lock(mutex_);
  if (in_batch_)
    return vumi::fail(ErrorCode::internal, "begin batch: a batch is already open (nesting is not supported)");
  if (auto usable = ready("begin batch"); !usable) return usable;
  // A batch is one pipeline: its BEGIN and writes go out with the next statement whose answer is
  // needed, or with the COMMIT (docs/state.md, "Round trips").
  const bool pipelined = connection_.begin_pipeline() && connection_.defer("BEGIN", "begin batch");
  if (!pipelined) {
    connection_.end_pipeline();
    if (auto begun = run_control("BEGIN", "begin batch"); !begun) return begun;
  }
  in_batch_ = true;
  batch_error_.clear();
  batch_error_transient_ = false;
  reserved_outbox_ids_.clear();
  outbox_rows_in_batch_ = 0;
  return {};
}

Expected<void> PgStateStore::commit_batch() {
  std::lock_guard lock(mutex_);
  if (!in_batch_) return vumi::fail(ErrorCode::internal, "commit batch: no batch is open");
  Expected<void> result;
  in_batch_ = false;
  outbox_rows_last_batch_ = outbox_rows_in_batch_;
  std::error_code ec;
  if (!fault_file_.empty() && std::filesystem::exists(fault_file_, ec)) {
    result = store_failure("commit batch: database or disk is full (injected: " + fault_file_.string() +
                           " exists)");
  } else if (!batch_error_.empty()) {
    result = store_failure("commit batch: refused, a statement in it failed (" + batch_error_ + ")",
                           batch_error_transient_);
  } else if (!connection_.connected()) {
    result = store_failure(
        "commit batch: the connection to " + connection_.where() + " was lost; the batch is lost", true);
  } else if (connection_.pipelining()) {
    // One round trip for the deferred writes and the COMMIT; a failed write makes the server skip
    // the COMMIT, so nothing of the batch is committed.
    const bool sent = connection_.defer("COMMIT", "commit batch");
    connection_.end_pipeline();
    PgConnection::DeferredFailure failure = connection_.take_deferred_failure();
    if (sent && failure.error.empty()) return {};
    if (!sent) {
      result = store_failure(
          "commit batch: cannot send to " + connection_.where() + ": " + connection_.error(), true);
    } else if (failure.error.starts_with("commit batch:")) {
      result = store_failure(std::move(failure.error), failure.transient);
    } else {
      result = store_failure("commit batch: refused, a statement in it failed (" + failure.error + ")",
                             failure.transient);
    }
  } else {
    // A COMMIT that fails (a serialization failure, the connection lost) leaves nothing committed.
    result = run_control("COMMIT", "commit batch");
    if (result) return result;
  }
  connection_.end_pipeline();
  if (connection_.connected() && connection_.in_transaction()) {
    // The batch failed already; a failed ROLLBACK adds nothing to say.
    (void)run_control("ROLLBACK", "rollback batch");
  }
  return result;
}

Expected<void> PgStateStore::rollback_batch() {
  std::lock_guard lock(mutex_);
  if (!in_batch_) return vumi::fail(ErrorCode::internal, "rollback batch: no batch is open");
  in_batch_ = false;
  outbox_rows_last_batch_ = outbox_rows_in_batch_;
  connection_.end_pipeline();
  connection_.take_deferred_failure();
  if (!connection_.connected() || !connection_.in_transaction()) return {};
  return run_control("ROLLBACK", "rollback batch");
}

}  // namespace vumi::store
