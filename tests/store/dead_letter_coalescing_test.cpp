// One unreplayed dead letter per coalesce key (schema version 7): rows that doubled before it are
// merged when a database migrates, and two PostgreSQL stores putting the same key at once (two
// dispatchers of a cluster) meet on one row.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "backend_state.hpp"
#include "store/pg_connection.hpp"
#include "store/schema_migrations.hpp"

namespace vumi::store {
namespace {

DeadLetter refused(std::string coalesce_key) {
  DeadLetter letter;
  letter.reason = "invalid_json";
  letter.message = "not JSON";
  letter.input = "{oops";
  letter.topic = "event.acct1.survey.ping";
  letter.coalesce_key = std::move(coalesce_key);
  return letter;
}

using DeadLetterCoalescingTest = testing::StoreBackendTest;

TEST_P(DeadLetterCoalescingTest, MigratingToVersion7MergesTheRowsOfAKeyThatDoubled) {
  // A database of version 6, where two dispatchers had each made a row for key "k".
  store_.reset();
  state_.exec("DROP INDEX dead_letters_unreplayed_by_coalesce_key");
  state_.exec(
      "CREATE INDEX dead_letters_by_coalesce_key ON dead_letters (coalesce_key) WHERE coalesce_key IS NOT "
      "NULL");
  const std::string insert =
      "INSERT INTO dead_letters (created_at, reason, message, input, last_seen_at, count, replayed_at, "
      "coalesce_key) VALUES ";
  state_.exec(insert +
              "('2026-01-01T00:00:01Z', 'invalid_json', 'first', 'a', '2026-01-01T00:00:05Z', 2, NULL, 'k')");
  state_.exec(insert + "('2026-01-01T00:00:02Z', 'invalid_json', 'second', 'b', NULL, 1, NULL, 'k')");
  state_.exec(insert +
              "('2026-01-01T00:00:03Z', 'invalid_json', 'third', 'c', '2026-01-01T00:00:04Z', 4, NULL, 'k')");
  state_.exec(
      insert +
      "('2026-01-01T00:00:00Z', 'invalid_json', 'replayed', 'd', NULL, 3, '2026-01-02T00:00:00Z', 'k')");
  state_.exec(insert + "('2026-01-01T00:00:06Z', 'invalid_json', 'other', 'e', NULL, 1, NULL, 'other')");
  state_.exec(state_.backend() == "sqlite" ? "PRAGMA user_version = 6"
                                           : "UPDATE vumi_schema_version SET version = 6");

  store_ = state_.open();
  ASSERT_EQ(store_->schema_version(), latest_schema_version());
  const std::vector<DeadLetter> rows = store_->dead_letters("");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].message, "first");  // the oldest row of the key takes the others' occurrences
  EXPECT_EQ(rows[0].count, 7);
  EXPECT_EQ(rows[0].last_seen_at, "2026-01-01T00:00:05Z");
  EXPECT_EQ(rows[0].created_at, "2026-01-01T00:00:01Z");
  EXPECT_EQ(rows[1].message, "replayed");  // a replayed row is history: kept as it was
  EXPECT_EQ(rows[1].count, 3);
  EXPECT_EQ(rows[2].message, "other");
  EXPECT_EQ(rows[2].count, 1);

  // And the key coalesces into the merged row from now on.
  ASSERT_TRUE(store_->dead_letter_put(refused("k")).has_value());
  EXPECT_EQ(store_->dead_letters("").size(), 3u);
  EXPECT_EQ(store_->dead_letters("")[0].count, 8);
}

VUMI_STORE_ON_EVERY_BACKEND(DeadLetterCoalescingTest);

// Two stores on one PostgreSQL database, as two dispatchers of a cluster.
using PgDeadLetterRaceTest = testing::StoreBackendTest;

TEST_P(PgDeadLetterRaceTest, TwoStoresPuttingTheSameKeyAtOnceMeetOnOneRow) {
  // Store A has put key "k" in a batch it has not committed yet (the claim after the put makes it
  // reach the server); store B puts "k" meanwhile. B must wait for A's row, not make a second one.
  ASSERT_TRUE(store_->begin_batch().has_value());
  ASSERT_TRUE(store_->dead_letter_put(refused("k")).has_value());
  ASSERT_EQ(testing::value_of(store_->processed_claim("acct1", "sent-with-the-put")), true);

  std::unique_ptr<StateStore> other = state_.open();
  std::atomic<bool> other_done{false};
  std::string other_error = "did not return";
  std::thread other_put([&] {
    const Expected<void> put = other->dead_letter_put(refused("k"));
    other_error = put ? "" : put.error().message;
    other_done = true;
  });
  // Until B returned (old behaviour: it inserted a row of its own) or waits on A's row lock.
  PgConnection watcher(state_.config().url);
  bool other_waits = false;
  for (int i = 0; i < 1000 && !other_done && !other_waits; ++i) {
    PgResult waiting = watcher.must_run(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = "
        "'Lock'",
        "watching store B");
    other_waits = waiting.int64(0, 0) > 0;
    if (!other_waits) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(other_waits) << "store B did not wait for store A's uncommitted row";
  ASSERT_TRUE(store_->commit_batch().has_value());
  other_put.join();
  ASSERT_EQ(other_error, "");

  const std::vector<DeadLetter> rows = store_->dead_letters("");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].count, 2);
}

VUMI_STORE_ON_BACKENDS(PgDeadLetterRaceTest, std::string("postgresql"));

}  // namespace
}  // namespace vumi::store
