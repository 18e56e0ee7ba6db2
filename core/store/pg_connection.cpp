#include "store/pg_connection.hpp"

#include <charconv>

#include "store/state_store.hpp"

namespace vumi::store {

namespace {

// libpq messages end with a newline and may span lines; errors here are one line.
std::string one_line(const char* message) {
  std::string text = message != nullptr ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text)
    if (c == '\n') c = ' ';
  return text;
}

// NOTICEs ("relation already exists, skipping") are not errors; they would go to stderr.
void ignore_notice(void* /*arg*/, const char* /*message*/) {}

}  // namespace

PgParams& PgParams::text(std::string_view value) {
  values_.emplace_back(std::string(value));
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::bytes(std::string_view value) {
  values_.emplace_back(std::string(value));
  formats_.push_back(1);
  return *this;
}

PgParams& PgParams::text_or_null(std::string_view value) {
  return value.empty() ? null() : text(value);
}

PgParams& PgParams::int64(std::int64_t value) {
  return text(std::to_string(value));
}

PgParams& PgParams::null() {
  values_.emplace_back(std::nullopt);
  formats_.push_back(0);
  return *this;
}

std::vector<int> PgParams::lengths() const {
  std::vector<int> out;
  out.reserve(values_.size());
  for (const auto& value : values_) out.push_back(value ? static_cast<int>(value->size()) : 0);
  return out;
}

std::vector<const char*> PgParams::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& value : values_) out.push_back(value ? value->c_str() : nullptr);
  return out;
}

bool PgResult::ok() const {
  const ExecStatusType status = PQresultStatus(result_.get());
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

std::string PgResult::text(int row, int column) const {
  return std::string(PQgetvalue(result_.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::string PgResult::bytes(int row, int column) const {
  std::size_t length = 0;
  unsigned char* raw = PQunescapeBytea(
      reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row, column)), &length);
  if (raw == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(raw), length);
  PQfreemem(raw);
  return out;
}

std::int64_t PgResult::int64(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  std::int64_t out = 0;
  std::from_chars(value, value + PQgetlength(result_.get(), row, column), out);
  return out;
}

std::int64_t PgResult::affected() const {
  const char* tuples = PQcmdTuples(result_.get());
  std::int64_t out = 0;
  std::from_chars(tuples, tuples + std::char_traits<char>::length(tuples), out);
  return out;
}

std::string PgResult::sqlstate() const {
  const char* state = PQresultErrorField(result_.get(), PG_DIAG_SQLSTATE);
  return state != nullptr ? state : "";
}

std::string PgResult::error() const {
  if (result_ == nullptr) return "no result (out of memory)";
  if (PQresultStatus(result_.get()) == PGRES_PIPELINE_ABORTED)
    return "not run: an earlier statement sent with it failed";
  return one_line(PQresultErrorMessage(result_.get()));
}

PgConnection::PgConnection(const std::string& url) : where_("PostgreSQL " + redacted_url(url)) {
  conn_ = PQconnectdb(url.c_str());
  if (conn_ == nullptr) throw StoreError("cannot connect to " + where_ + ": out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string why = error();
    PQfinish(conn_);
    throw StoreError("cannot connect to " + where_ + ": " + why);
  }
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
}

PgConnection::~PgConnection() {
  PQfinish(conn_);
}

PgResult PgConnection::result_of(PGresult* result) {
  ++round_trips_;
  return wrapped(result);
}

PgResult PgConnection::wrapped(PGresult* result) {
  // An empty fatal result (carrying the connection's error message) keeps callers simple.
  return PgResult(result != nullptr ? result : PQmakeEmptyPGresult(conn_, PGRES_FATAL_ERROR));
}

void PgConnection::prepare(const std::string& name, const std::string& sql, int params) {
  PgResult result = result_of(PQprepare(conn_, name.c_str(), sql.c_str(), params, nullptr));
  if (!result.ok()) throw StoreError(where_ + ": cannot prepare \"" + sql + "\": " + result.error());
  prepared_.push_back({name, sql, params});
}

PgResult PgConnection::run_prepared(const std::string& name, const PgParams& params) {
  const std::vector<const char*> values = params.pointers();
  const std::vector<int> lengths = params.lengths();
  const int count = static_cast<int>(values.size());
  if (pipelining()) {
    return read_pipelined(PQsendQueryPrepared(conn_, name.c_str(), count, values.data(), lengths.data(),
                                              params.formats().data(), 0) == 1);
  }
  return result_of(
      PQexecPrepared(conn_, name.c_str(), count, values.data(), lengths.data(), params.formats().data(), 0));
}

PgResult PgConnection::run(const std::string& sql, const PgParams& params) {
  const std::vector<const char*> values = params.pointers();
  const std::vector<int> lengths = params.lengths();
  const int count = static_cast<int>(values.size());
  if (pipelining()) {
    return read_pipelined(PQsendQueryParams(conn_, sql.c_str(), count, nullptr, values.data(), lengths.data(),
                                            params.formats().data(), 0) == 1);
  }
  return result_of(PQexecParams(conn_, sql.c_str(), count, nullptr, values.data(), lengths.data(),
                                params.formats().data(), 0));
}

PgResult PgConnection::run(const std::string& sql) {
  if (pipelining()) return run(sql, PgParams());
  return result_of(PQexec(conn_, sql.c_str()));
}

bool PgConnection::begin_pipeline() {
  unread_.clear();
  unflushed_ = false;
  deferred_failure_ = {};
  return PQenterPipelineMode(conn_) == 1;
}

bool PgConnection::defer_prepared(const std::string& name, const PgParams& params, std::string what) {
  if (!pipelining()) return false;
  const std::vector<const char*> values = params.pointers();
  const std::vector<int> lengths = params.lengths();
  return PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(),
                             lengths.data(), params.formats().data(), 0) == 1 &&
         deferred(std::move(what));
}

bool PgConnection::defer(const std::string& sql, std::string what) {
  return pipelining() &&
         PQsendQueryParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) == 1 &&
         deferred(std::move(what));
}

bool PgConnection::deferred(std::string what) {
  unflushed_ = true;
  unread_.push_back(std::move(what));
  if (unread_.size() >= kMaxUnread) read_deferred();
  return true;
}

PGresult* PgConnection::next_pipelined() {
  if (unflushed_) {
    // The server holds its answers until asked (a flush request) or until a sync point.
    unflushed_ = false;
    ++round_trips_;
    if (PQsendFlushRequest(conn_) != 1 || PQflush(conn_) != 0) return nullptr;
  }
  PGresult* result = PQgetResult(conn_);
  // Each statement's answer is one result followed by a NULL (a sync point's has no NULL).
  if (result != nullptr && PQresultStatus(result) != PGRES_PIPELINE_SYNC) PQclear(PQgetResult(conn_));
  return result;
}

void PgConnection::read_deferred() {
  while (!unread_.empty()) {
    const std::string what = std::move(unread_.front());
    unread_.pop_front();
    PgResult result = wrapped(next_pipelined());
    if (!result.ok() && deferred_failure_.error.empty())
      deferred_failure_ = {what + ": " + result.error(), pg_transient(result, *this)};
  }
}

PgResult PgConnection::read_pipelined(bool sent) {
  if (sent) unflushed_ = true;
  read_deferred();
  return wrapped(sent ? next_pipelined() : nullptr);
}

void PgConnection::end_pipeline() {
  if (!pipelining()) return;
  // A sync point flushes the server's answers and ends the aborted stretch after a failure.
  const bool synced = PQpipelineSync(conn_) == 1;
  if (synced) {
    unflushed_ = false;
    ++round_trips_;
  }
  read_deferred();
  if (synced) PQclear(PQgetResult(conn_));  // the sync point's own result
  unread_.clear();
  if (PQexitPipelineMode(conn_) != 1 && connected()) {
    // Answers left unread (every one was read above): start a fresh session rather than keep one
    // no later statement could use.
    (void)reconnect();  // a failure shows as a lost connection at the next statement
  }
}

PgResult PgConnection::must_run(const std::string& sql, std::string_view what) {
  PgResult result = run(sql);
  if (!result.ok()) throw StoreError(where_ + ": " + std::string(what) + ": " + result.error());
  return result;
}

Expected<void> PgConnection::reconnect() {
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK)
    return store_failure("cannot reconnect to " + where_ + ": " + error(), true);
  for (const Prepared& statement : prepared_) {
    PgResult result =
        result_of(PQprepare(conn_, statement.name.c_str(), statement.sql.c_str(), statement.params, nullptr));
    if (!result.ok()) {
      return store_failure(
          where_ + ": cannot prepare \"" + statement.sql + "\" after reconnecting: " + result.error(), true);
    }
  }
  return {};
}

bool PgConnection::in_transaction() const {
  const PGTransactionStatusType status = PQtransactionStatus(conn_);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

std::string PgConnection::error() const {
  return one_line(PQerrorMessage(conn_));
}

bool pg_transient(const PgResult& result, const PgConnection& connection) {
  if (!connection.connected()) return true;
  const std::string state = result.sqlstate();
  // Class 08: connection exception; 53: insufficient resources; 57P0x: server shutting down;
  // 40001/40P01: serialization failure, deadlock; 55P03: lock not available.
  return state.empty() || state.starts_with("08") || state.starts_with("53") || state.starts_with("57P") ||
         state == "40001" || state == "40P01" || state == "55P03";
}

}  // namespace vumi::store
