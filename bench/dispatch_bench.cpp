// Cost per event of the data path without sockets: decode + route + a two-step chain of no-op
// handlers called through the plugin ABI (the example plugin's `noop`), via Dispatcher::handle.
#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>

#include "config/config.hpp"
#include "dispatch/crash_guard.hpp"
#include "dispatch/dispatcher.hpp"
#include "dispatch/run_history.hpp"
#include "plugin/schema.hpp"
#include "store/state_store.hpp"

namespace {

class NullSink : public vumi::dispatch::OutboundSink {
 public:
  void send(std::string_view, std::string_view) override {}
};

// A folder under the temp dir, empty at first and removed at the end.
struct ScratchDir {
  explicit ScratchDir(std::filesystem::path p) : path(std::move(p)) { std::filesystem::remove_all(path); }
  ~ScratchDir() { std::filesystem::remove_all(path); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::filesystem::path path;
};

// The data path without sockets: a Dispatcher on a config, its state in a fresh folder.
struct BenchDispatcher {
  explicit BenchDispatcher(std::shared_ptr<vumi::dispatch::Runtime> runtime)
      : dir(std::filesystem::temp_directory_path() / "vumi-dispatch-bench"),
        store(vumi::store::StateStore::open(dir.path)),
        dispatcher(std::move(runtime), *store, sink) {}
  ScratchDir dir;
  std::unique_ptr<vumi::store::StateStore> store;
  NullSink sink;
  vumi::dispatch::Dispatcher dispatcher;
};

// A dispatcher on config_text with one plugin of this build (a file name in VUMI_PLUGIN_DIR); null
// after state.SkipWithError when the config or the runtime is refused (the errors go to stderr).
std::unique_ptr<BenchDispatcher> make_dispatcher(benchmark::State& state, const std::string& config_text,
                                                 const std::string& plugin) {
  auto loaded = vumi::config::parse_config(config_text, "bench");
  if (!loaded.ok()) {
    for (auto& e : loaded.errors) std::cerr << e.text() << "\n";
    state.SkipWithError("bad bench config");
    return nullptr;
  }
  loaded.config->plugin_path = {std::string(VUMI_PLUGIN_DIR "/") + plugin};
  auto runtime = vumi::dispatch::Runtime::build(std::move(*loaded.config));
  if (!runtime) {
    for (auto& e : runtime.error()) std::cerr << e.text() << "\n";
    state.SkipWithError("runtime did not build");
    return nullptr;
  }
  return std::make_unique<BenchDispatcher>(std::move(runtime).value());
}

constexpr const char* kConfig = R"({
  "handlers": { "a": { "type": "noop" }, "b": { "type": "noop" } },
  "accounts": { "acct1": { "conversations": { "poll1": "vxpolls" },
    "routes": [ { "on": { "conversation_type": "vxpolls", "event_type": "poll_complete" },
                  "chain": [ { "handler": "a" }, { "handler": "b" } ] } ] } } })";

// A typical poll_complete event from a worker (~300 bytes). Without an event_id, as vumi-go's
// workers send them: the dispatcher draws one, and the processed-message ledger (which would
// count every repeat of one fixed id as a duplicate) is not involved.
constexpr const char* kEvent =
    R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":"vxpolls",)"
    R"("event_type":"poll_complete",)"
    R"("timestamp":"2026-11-27 03:39:50.123456","event_data":{"from_addr":"+27831234567",)"
    R"("answers":{"name":"Thandi","age":"29","favourite":"blue"},"poll_id":"poll1"}})";

// crash_guard: the daemon's in-flight context for crash reports is kept (its cost per event).
// run_history: every run is recorded as the daemon's admin API records it (its defaults: 1,000
// runs per account, 20,000 in all), so the history is full and each run replaces the oldest.
void BM_DispatchTwoStepNoopChain(benchmark::State& state, std::size_t extra_accounts,
                                 bool crash_guard = false, bool run_history = false) {
  std::string config_text = kConfig;
  if (extra_accounts > 0) {  // same routes for many more accounts: lookup cost must not grow
    std::string more;
    for (std::size_t i = 0; i < extra_accounts; ++i)
      more +=
          ",\"other" + std::to_string(i) +
          "\": { \"routes\": [ { \"on\": { \"event_type\": \"poll_complete\" }, \"chain\": [ { \"handler\": "
          "\"a\" } ] } ] }";
    config_text.insert(config_text.rfind("} }"), more);
  }
  auto bench = make_dispatcher(state, config_text, "example.so");
  if (!bench) return;
  vumi::dispatch::Dispatcher& dispatcher = bench->dispatcher;
  std::unique_ptr<vumi::dispatch::CrashGuard> guard;
  if (crash_guard) {
    guard = std::make_unique<vumi::dispatch::CrashGuard>(bench->dir.path, *bench->store);
    dispatcher.guard_crashes(*guard);
  }
  vumi::dispatch::RunHistory history(1000, 20000);
  if (run_history) dispatcher.set_observer(&history);
  const std::string topic = "event.acct1.vxpolls.poll_complete";
  const std::string body = kEvent;
  for (auto _ : state) dispatcher.handle(topic, body);
  dispatcher.set_observer(nullptr);  // history goes before the dispatcher
  if (dispatcher.counters().chains_run != static_cast<std::uint64_t>(state.iterations()))
    state.SkipWithError("not every event ran its chain");
  state.SetItemsProcessed(state.iterations());
}

// An inbound SMS as a vumi transport serialises it (~600 bytes), on a tag tag_router routes: decode,
// the tag_router step through the ABI, the byte-true re-spelling of the forwarded message and its
// message ledger entry. Store writes are grouped 256 to a batch, as the daemon groups them.
constexpr const char* kInbound =
    R"({"transport_name": "sms_transport", "transport_metadata": {"smsc": "mtn", "ratio": 0.05}, )"
    R"("group": null, "from_addr_type": "msisdn", "timestamp": "2026-12-02 05:00:00.000000", )"
    R"("provider": "mtn", "in_reply_to": null, "to_addr": "+27820001001", )"
    R"("routing_metadata": {"endpoint_name": "default"}, "message_id": "5f0c7a1e9b2d4c3a8e6f1d2c3b4a5968", )"
    R"("content": "1", "to_addr_type": "msisdn", "message_version": "20110921", "transport_type": "sms", )"
    R"("helper_metadata": {"tag": {"tag": ["longcode", "+27820001001"]}}, "session_event": null, )"
    R"("message_type": "user_message", "from_addr": "+27831234567"})";

void BM_InboundRoutedByTag(benchmark::State& state) {
  auto bench = make_dispatcher(state, R"({
    "handlers": { "router": { "type": "tag_router" } },
    "tag_pools": { "longcode": { "transport_name": "sms_transport" } },
    "accounts": { "acct1": { "conversations": { "survey1": "surveys" }, "tags": ["longcode:+27820001001"],
      "routes": [ { "on": { "event_type": "inbound_message" },
        "chain": [ { "handler": "router", "config": { "routes": { "longcode:+27820001001": "survey1" } } } ] } ] } } })",
                               "tag_router.so");
  if (!bench) return;
  vumi::dispatch::Dispatcher& dispatcher = bench->dispatcher;
  auto& store = bench->store;
  // Each message needs its own message_id (the same one again is a redelivery, not run): the
  // id's last 8 hex digits are rewritten in place with the iteration number.
  std::string body = kInbound;
  const std::size_t id_end = body.find("5f0c7a1e9b2d4c3a8e6f1d2c3b4a5968") + 32;
  std::uint32_t n = 0;
  std::size_t in_batch = 0;
  (void)store->begin_batch();
  for (auto _ : state) {
    ++n;
    for (std::size_t d = 0; d < 8; ++d) body[id_end - 1 - d] = "0123456789abcdef"[(n >> (4 * d)) & 0xf];
    dispatcher.handle("inbound.sms_transport", body);
    if (++in_batch == 256) {
      (void)store->commit_batch();
      (void)store->begin_batch();
      in_batch = 0;
    }
  }
  (void)store->commit_batch();
  if (dispatcher.counters().published != static_cast<std::uint64_t>(state.iterations()))
    state.SkipWithError("not every message was routed");
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_InboundRoutedByTag);

BENCHMARK_CAPTURE(BM_DispatchTwoStepNoopChain, one_account, 0);
BENCHMARK_CAPTURE(BM_DispatchTwoStepNoopChain, ten_thousand_accounts, 10000);
BENCHMARK_CAPTURE(BM_DispatchTwoStepNoopChain, one_account_crash_guard, 0, true);
BENCHMARK_CAPTURE(BM_DispatchTwoStepNoopChain, one_account_run_history, 0, false, true);

// A chain whose step config has templates: rendered per event, then checked against the step
// schema (parse + validate) before the plugin sees it.
constexpr const char* kTemplatedConfig = R"({
  "handlers": { "set": { "type": "set_output" }, "b": { "type": "noop" } },
  "accounts": { "acct1": { "conversations": { "poll1": "vxpolls" },
    "routes": [ { "on": { "conversation_type": "vxpolls", "event_type": "poll_complete" },
                  "chain": [ { "handler": "set", "as": "person", "config": { "output": {
                               "name": "{{/event/event_data/answers/name}}",
                               "msisdn": "{{/event/event_data/from_addr}}" } } },
                             { "handler": "b" } ] } ] } } })";

void BM_DispatchTemplatedStepChain(benchmark::State& state) {
  auto bench = make_dispatcher(state, kTemplatedConfig, "example.so");
  if (!bench) return;
  vumi::dispatch::Dispatcher& dispatcher = bench->dispatcher;
  const std::string topic = "event.acct1.vxpolls.poll_complete";
  const std::string body = kEvent;
  for (auto _ : state) dispatcher.handle(topic, body);
  if (dispatcher.counters().chains_run != static_cast<std::uint64_t>(state.iterations()) ||
      dispatcher.counters().chains_failed != 0)
    state.SkipWithError("not every event ran its chain");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DispatchTemplatedStepChain);

// The latency chain of scripts/bench, (c): noop, then emit_event with a templated event_data. Per
// event: the template, the rendered config's check, the emitted event (its derived id, its JSON
// for the outbox, which the sink here drops), and the emitted event's own dispatch (no route).
constexpr const char* kEmitConfig = R"({
  "handlers": { "a": { "type": "noop" }, "emit": { "type": "emit_event" } },
  "accounts": { "acct1": { "conversations": { "poll1": "vxpolls" },
    "routes": [ { "on": { "event_type": "poll_complete" }, "chain": [ { "handler": "a" },
        { "handler": "emit", "config": { "event_type": "lat_out",
                                         "event_data": { "name": "{{/event/event_data/answers/name}}" } } } ] } ] } } })";

void BM_DispatchEmitChain(benchmark::State& state) {
  auto bench = make_dispatcher(state, kEmitConfig, "example.so");
  if (!bench) return;
  vumi::dispatch::Dispatcher& dispatcher = bench->dispatcher;
  vumi::dispatch::RunHistory history(1000, 20000);
  dispatcher.set_observer(&history);
  const std::string topic = "event.acct1.vxpolls.poll_complete";
  const std::string body = kEvent;
  for (auto _ : state) dispatcher.handle(topic, body);
  dispatcher.set_observer(nullptr);  // history goes before the dispatcher
  if (dispatcher.counters().emitted != static_cast<std::uint64_t>(state.iterations()) ||
      dispatcher.counters().chains_failed != 0)
    state.SkipWithError("not every event emitted one");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DispatchEmitChain);

// The check alone, as the chain runner does it for the templated step above: what item
// "rendered configs checked" adds per templated step and event.
void BM_RenderedConfigCheck(benchmark::State& state) {
  const boost::json::value schema = boost::json::parse(R"({"type":"object","properties":{
      "output":{"type":"object","additionalProperties":true}},"required":["output"],"additionalProperties":false})");
  const std::string rendered = R"({"output":{"name":"Thandi","msisdn":"+27831234567"}})";
  boost::json::value value;
  std::vector<std::pair<std::string, std::string>> errors;
  const std::string path = "accounts.acct1.routes[0].chain[0].config";
  for (auto _ : state) {
    boost::system::error_code ec;
    value = boost::json::parse(rendered, ec);
    errors.clear();
    vumi::plugin::validate_against_schema(value, schema, path, {}, errors);
    benchmark::DoNotOptimize(errors.data());
  }
  if (!errors.empty()) state.SkipWithError("the rendered config should be valid");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RenderedConfigCheck);

}  // namespace

BENCHMARK_MAIN();
