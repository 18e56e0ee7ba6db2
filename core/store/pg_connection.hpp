// Thin RAII over libpq: one connection, statements prepared by name, results that clear themselves,
// and pipeline mode for writes whose answers nobody waits for.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/store_values.hpp"

namespace vumi::store {

// The parameters of one statement, as text (PostgreSQL converts them to the column types).
class PgParams {
 public:
  PgParams& text(std::string_view value);
  PgParams& text_or_null(std::string_view value);  // NULL when value is empty
  PgParams& int64(std::int64_t value);
  PgParams& null();
  // Bytes sent as they are (binary format, for a bytea column): text that may not be UTF-8.
  PgParams& bytes(std::string_view value);
  std::size_t size() const { return values_.size(); }
  // Pointers into the values, valid while this object lives and is not changed.
  std::vector<const char*> pointers() const;
  std::vector<int> lengths() const;  // of binary values (text ones end at their NUL)
  const std::vector<int>& formats() const { return formats_; }  // 0 text, 1 binary

 private:
  std::vector<std::optional<std::string>> values_;
  std::vector<int> formats_;
};

// One statement's result; a failed statement carries PostgreSQL's message and SQLSTATE.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, PQclear) {}
  bool ok() const;  // a command or rows, no error
  int rows() const { return PQntuples(result_.get()); }
  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string text(int row, int column) const;   // NULL reads as ""
  std::string bytes(int row, int column) const;  // a bytea column's bytes; NULL reads as ""
  std::int64_t int64(int row, int column) const;
  std::int64_t affected() const;  // rows a write changed
  std::string sqlstate() const;   // "" when there is none (e.g. the connection was lost)
  std::string error() const;      // the server's or libpq's message, one line

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

class PgConnection {
 public:
  // Connects to url (a libpq URI or key=value string); throws StoreError naming the redacted URL.
  explicit PgConnection(const std::string& url);
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection();

  // Prepares a named statement on this session (again after every reconnect); throws StoreError.
  void prepare(const std::string& name, const std::string& sql, int params);
  PgResult run_prepared(const std::string& name, const PgParams& params);
  // Runs SQL text with parameters (unnamed statement) or, without parameters, one or more statements
  // (in a pipeline: exactly one).
  PgResult run(const std::string& sql, const PgParams& params);
  PgResult run(const std::string& sql);
  // Runs SQL text; throws StoreError naming what on failure (control plane).
  PgResult must_run(const std::string& sql, std::string_view what);

  // False once the server or network went away.
  bool connected() const { return PQstatus(conn_) == CONNECTION_OK; }
  // Reconnects with the same URL and prepares every statement again; fails (unavailable) saying why.
  Expected<void> reconnect();
  bool in_transaction() const;
  std::string error() const;                           // libpq's last message, one line
  const std::string& where() const { return where_; }  // "PostgreSQL <redacted url>"
  // Times the client waited for the server since the connection opened: one per statement outside
  // a pipeline; in a pipeline, one per wait, however many statements it answered.
  std::uint64_t round_trips() const { return round_trips_; }

  // Pipeline mode (libpq 14+, docs/state.md "Round trips"). While it is on, defer_prepared and
  // defer send a statement without waiting for its answer; run_prepared and run send theirs, then
  // read every deferred answer before it and its own in one round trip. The server runs them in the
  // order sent; after a failure it skips the rest until end_pipeline.
  // Starts a pipeline (the connection must be idle); false when libpq refuses.
  bool begin_pipeline();
  bool pipelining() const { return PQpipelineStatus(conn_) != PQ_PIPELINE_OFF; }
  // Sends a statement whose answer is only checked later (what names it in an error). False when
  // no pipeline is on or it could not be sent (the connection is lost).
  bool defer_prepared(const std::string& name, const PgParams& params, std::string what);
  bool defer(const std::string& sql, std::string what);
  // Reads every answer not read yet and leaves pipeline mode (a sync point: one round trip).
  void end_pipeline();
  // The first deferred statement that failed since the last take: "what: error", and whether it
  // may succeed later (pg_transient); empty when none failed.
  struct DeferredFailure {
    std::string error;
    bool transient = false;
  };
  DeferredFailure take_deferred_failure() { return std::exchange(deferred_failure_, {}); }

 private:
  struct Prepared {
    std::string name;
    std::string sql;
    int params;
  };
  // At most this many deferred statements wait unread: the server's answers stay small, so
  // neither side blocks writing to the other (libpq's warning for blocking connections).
  static constexpr std::size_t kMaxUnread = 256;

  PgResult result_of(PGresult* result);  // counts the round trip
  PgResult wrapped(PGresult* result);    // NULL (out of memory, connection lost) as a failed result
  // In a pipeline: reads the deferred statements' answers, then (sent) the one sent last.
  PgResult read_pipelined(bool sent);
  void read_deferred();             // records the first failure among the deferred answers
  PGresult* next_pipelined();       // the next statement's answer; NULL when the connection is lost
  bool deferred(std::string what);  // a deferred statement was sent

  PGconn* conn_ = nullptr;
  std::string where_;
  std::vector<Prepared> prepared_;
  std::uint64_t round_trips_ = 0;
  std::deque<std::string> unread_;  // what each deferred statement without its answer read does
  bool unflushed_ = false;          // sent statements the server was not yet asked to answer
  DeferredFailure deferred_failure_;
};

// True when a failed statement may succeed if tried again later: the connection was lost, the
// server is shutting down or out of resources, or a serialization failure or deadlock.
bool pg_transient(const PgResult& result, const PgConnection& connection);

}  // namespace vumi::store
