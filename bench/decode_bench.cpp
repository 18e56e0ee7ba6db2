// Cost of decoding one typical worker event (a ~300-byte poll_complete) into an Envelope, and of the
// host-made events. Run: build/bench/decode_bench (RelWithDebInfo or Release build).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "event/envelope_decoder.hpp"

namespace {

using namespace vumi::event;

class BenchAccounts : public AccountDirectory {
 public:
  bool has_account(std::string_view account_key) const override { return account_key == "acct1"; }
  std::optional<std::string_view> conversation_type(std::string_view,
                                                    std::string_view conversation_key) const override {
    if (conversation_key == "poll1") return "vxpolls";
    return std::nullopt;
  }
};

const std::string kTopic = "event.acct1.vxpolls.poll_complete";

// 300 bytes, as a vumi-go poll worker would send it (no event_id: the decoder assigns one).
const std::string kPollComplete =
    R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":"vxpolls",)"
    R"("event_type":"poll_complete","timestamp":"2026-01-02 03:04:05.000006",)"
    R"("event_data":{"from_addr":"+27831234567","answers":{"name":"Thandi","surname":"Nkosi",)"
    R"("age":"34","province":"Gauteng","opt_in":true},"poll_id":"poll-2026-01","completed":true}})";

// The same with an event_id, so nothing is generated.
const std::string kWithId = [] {
  std::string body = kPollComplete;
  body.insert(1, R"("event_id":"a1b2c3d4e5f6",)");
  return body;
}();

void run_decode(benchmark::State& state, const std::string& body) {
  BenchAccounts accounts;
  EnvelopeDecoder decoder(DecodeLimits{}, &accounts);
  if (const Decoded first = decoder.decode(kTopic, body); !first || !std::holds_alternative<Envelope>(*first))
    std::abort();
  for (auto _ : state) {
    Decoded decoded = decoder.decode(kTopic, body);
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(body.size()));
  state.counters["body_bytes"] = static_cast<double>(body.size());
}

void BM_DecodePollComplete(benchmark::State& state) {
  run_decode(state, kPollComplete);
}
BENCHMARK(BM_DecodePollComplete);

void BM_DecodePollCompleteWithEventId(benchmark::State& state) {
  run_decode(state, kWithId);
}
BENCHMARK(BM_DecodePollCompleteWithEventId);

void BM_MakeEmitted(benchmark::State& state) {
  BenchAccounts accounts;
  EnvelopeDecoder decoder(DecodeLimits{}, &accounts);
  Envelope parent = std::get<Envelope>(decoder.decode(kTopic, kWithId).value());
  const std::string emitted =
      R"({"event_type":"contact_created","event_data":{"contact_key":"c1","msisdn":"+2783"}})";
  for (auto _ : state) {
    auto made = decoder.make_emitted(parent, emitted);
    benchmark::DoNotOptimize(made);
  }
}
BENCHMARK(BM_MakeEmitted);

}  // namespace

BENCHMARK_MAIN();
