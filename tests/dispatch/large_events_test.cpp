// Regression: events larger than the dispatcher's 16 KiB arena buffer, many in a row. Each one must
// be processed however many large ones came before (the arena once grew its next block without
// bound until every large event failed with bad_alloc).
#include <gtest/gtest.h>

#include "dispatch_fixture.hpp"

namespace vumi::testing_support {
namespace {

// An event body of about `bytes` bytes: event_data.items holds 1000-byte strings (well under
// max_string_bytes), so only the total size is large.
std::string large_event_body(std::size_t bytes, int n) {
  const std::string item(1000, 'x');
  std::string items;
  while (items.size() + item.size() + 3 < bytes) {
    if (!items.empty()) items += ",";
    items += "\"" + item + "\"";
  }
  return R"({"account_key":"acct1","conversation_key":"conv1","conversation_type":"survey",)"
         R"("event_type":"big","event_data":{"n":)" +
         std::to_string(n) + R"(,"items":[)" + items + "]}}";
}

TEST_F(DispatchTest, ManyEventsLargerThanTheArenaBufferAreAllProcessed) {
  start(R"({
    "handlers": { "emit": { "type": "emit_event" } },
    "accounts": { "acct1": {
      "conversations": { "conv1": "survey" },
      "routes": [ { "on": { "event_type": "big" }, "chain": [
        { "handler": "emit", "config": { "event_type": "done", "event_data": { "n": "{{/event/event_data/n}}" } } } ] } ] } } })");
  const std::size_t max_body = runtime->config().limits.max_body_bytes;
  const std::string small = large_event_body(20 * 1000, 0);
  const std::string huge = large_event_body(900 * 1000, 0);
  ASSERT_GT(small.size(), 16u * 1024);
  ASSERT_LE(huge.size(), max_body);

  int sent = 0;
  for (int i = 0; i < 200; ++i, ++sent)
    dispatcher->handle("event.acct1.survey.big", large_event_body(20 * 1000, sent));
  for (int i = 0; i < 200; ++i, ++sent)
    dispatcher->handle("event.acct1.survey.big", large_event_body(900 * 1000, sent));
  // And small ones still work after them.
  for (int i = 0; i < 200; ++i, ++sent)
    dispatcher->handle("event.acct1.survey.big", large_event_body(20 * 1000, sent));

  for (const auto& letter : dead_letters()) ADD_FAILURE() << letter.reason << ": " << letter.message;
  EXPECT_EQ(dispatcher->counters().dead_letters, 0u);
  EXPECT_EQ(dispatcher->counters().chains_run, static_cast<std::uint64_t>(sent));
  const auto done = sink.with_prefix("event.acct1.survey.done");
  ASSERT_EQ(done.size(), static_cast<std::size_t>(sent));
  for (int i = 0; i < sent; ++i) EXPECT_EQ(done[i].body.at("event_data").at("n").as_int64(), i);
}

}  // namespace
}  // namespace vumi::testing_support
