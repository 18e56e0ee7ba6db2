// The store suites run on every state backend: a value-parameterized fixture over {sqlite,
// postgresql} with a fresh, empty state of its backend (a temp folder for sqlite, a new database
// on this binary's throwaway PostgreSQL cluster, tests/support/pg_cluster.hpp).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "pg_cluster.hpp"
#include "store/pg_connection.hpp"
#include "store/sqlite_connection.hpp"
#include "store/sqlite_state_store.hpp"
#include "store/store_factory.hpp"
#include "temp_dir.hpp"

namespace vumi::store::testing {

// The value of a store result; nullopt, failing the test with the error, when it failed.
template <typename T>
std::optional<T> value_of(Expected<T> result) {
  EXPECT_TRUE(result.has_value()) << result.error().message;
  if (!result) return std::nullopt;
  return std::move(*result);
}

// What a lookup found (nullopt when absent); a failure fails the test and reads as absent.
template <typename T>
std::optional<T> found(Expected<std::optional<T>> result) {
  EXPECT_TRUE(result.has_value()) << "absent is not an error: " << result.error().message;
  if (!result) return std::nullopt;
  return std::move(*result);
}

// A fresh state of one backend and the ways tests reach it. skip_reason() is set when the backend
// cannot run here (PostgreSQL's server binaries are missing).
class BackendState {
 public:
  explicit BackendState(const std::string& backend) : backend_(backend) {
    if (backend_ == "postgresql") {
      database_ = std::make_unique<vumi::testing::PgTestDatabase>();
      skip_reason_ = database_->skip_reason();
    }
  }

  const std::string& backend() const { return backend_; }
  const std::string& skip_reason() const { return skip_reason_; }
  const TempDir& tmp() const { return tmp_; }
  // The config's "state" block: for sqlite the folder <tmp>/state; for postgresql the database's URL.
  StateConfig config() const {
    return {.backend = backend_, .dir = tmp_ / "state", .url = database_ ? database_->url() : std::string()};
  }
  // The same as JSON text, for config files.
  std::string config_json() const {
    if (backend_ == "sqlite") return R"({"backend": "sqlite", "dir": ")" + (tmp_ / "state").string() + "\"}";
    return R"({"backend": "postgresql", "url": ")" + database_->url() + R"(", "dir": ")" +
           (tmp_ / "state").string() + "\"}";
  }
  std::unique_ptr<StateStore> open() const { return open_state_store(config(), Access::read_write); }
  std::unique_ptr<StateStore> open_read_only() const { return open_state_store(config(), Access::read_only); }
  // Runs SQL both backends understand on the state's database, e.g. to age rows.
  void exec(const std::string& sql) const {
    if (backend_ == "sqlite") {
      SqliteConnection connection(tmp_ / "state" / SqliteStateStore::kDatabaseFileName,
                                  SQLITE_OPEN_READWRITE);
      connection.exec(sql);
    } else {
      PgConnection connection(database_->url());
      connection.must_run(sql, "test SQL");
    }
  }

 private:
  std::string backend_;
  TempDir tmp_;
  std::unique_ptr<vumi::testing::PgTestDatabase> database_;
  std::string skip_reason_;
};

// A store suite's fixture: store_ is the backend's store, opened read-write (and migrated).
class StoreBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!state_.skip_reason().empty()) GTEST_SKIP() << state_.skip_reason();
    store_ = state_.open();
  }

  BackendState state_{GetParam()};
  std::unique_ptr<StateStore> store_;
};

}  // namespace vumi::store::testing

// Runs every TEST_P of suite once per backend named, as suite/sqlite and suite/postgresql.
#define VUMI_STORE_ON_BACKENDS(suite, ...)             \
  INSTANTIATE_TEST_SUITE_P(                            \
      Backends, suite, ::testing::Values(__VA_ARGS__), \
      [](const ::testing::TestParamInfo<std::string>& backend) { return backend.param; })
// Runs every TEST_P of suite on every backend.
#define VUMI_STORE_ON_EVERY_BACKEND(suite) \
  VUMI_STORE_ON_BACKENDS(suite, std::string("sqlite"), std::string("postgresql"))
