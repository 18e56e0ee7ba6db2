#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "common/logging.hpp"
#include "transport/status_report.hpp"

namespace vumi {
namespace {

TEST(StatusLine, ListsCountersAndNonZeroReasonsIncludingTransportBadFrames) {
  dispatch::Counters d;
  d.received = 10;
  d.events = 7;
  d.chains_run = 6;
  d.dead_letters = 3;
  d.rejected[static_cast<std::size_t>(event::Reason::invalid_json)] = 2;
  d.rejected[static_cast<std::size_t>(event::Reason::bad_frames)] = 1;
  transport::IngestCounters ingest;
  ingest.bad_frames = 4;
  transport::OutboundCounters out;
  out.sent = 5;
  out.undeliverable = 1;
  EXPECT_EQ(
      transport::status_line(d, ingest, out),
      "received=14 dispatched=7 chains=6 chains_failed=0 unrouted=0 emitted=0 commands=0 rejected=7 "
      "(invalid_json=2 bad_frames=5) dead_letters=3 retries_scheduled=0 retries_exhausted=0 outbound_sent=5 "
      "subscriber_stalls=1 outbound_failed=0");
}

TEST(Logging, JsonEscapeKeepsLinesValidJson) {
  const std::string raw = "quote\" back\\ nl\n tab\t ctl\x01 ok\xC3\xA9 bad\xFF\xC3";
  const std::string text = "{\"m\":\"" + logging::json_escape(raw) + "\"}";
  auto v = boost::json::parse(text);
  EXPECT_EQ(v.at("m").as_string(),
            "quote\" back\\ nl\n tab\t ctl\x01 ok\xC3\xA9 bad\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Logging, FormatAndLevelNames) {
  EXPECT_EQ(logging::parse_format("json"), logging::Format::json);
  EXPECT_EQ(logging::parse_format("text"), logging::Format::text);
  EXPECT_FALSE(logging::parse_format("xml"));
  EXPECT_TRUE(logging::is_level_name("warn"));
  EXPECT_FALSE(logging::is_level_name("loud"));
}

}  // namespace
}  // namespace vumi
