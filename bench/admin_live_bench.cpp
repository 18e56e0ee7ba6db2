// One account changed through the admin API while 100,000 accounts are loaded and events flow:
// how long a change takes (parse, validate, build the account aside, store the version, swap it in)
// and the longest gap between two events handled meanwhile. The API handler runs on the dispatch
// loop, so a change delays the next event by exactly its own duration; this measures both.
// Usage: admin_live_bench [ACCOUNTS] [CHANGES]
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "admin/admin_api.hpp"
#include "config/config.hpp"
#include "daemon/admin_store.hpp"
#include "dispatch/dispatcher.hpp"
#include "store/state_store.hpp"
#include "transport/ingest_reader.hpp"
#include "transport/outbound_publisher.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace http = boost::beast::http;

class NullSink : public vumi::dispatch::OutboundSink {
 public:
  void send(std::string_view, std::string_view) override {}
};

struct FakeDaemon : vumi::transport::DaemonControl {
  boost::asio::io_context io_context;
  std::shared_ptr<vumi::dispatch::Runtime> rt;
  vumi::dispatch::Dispatcher* dispatcher = nullptr;
  vumi::store::StateStore* state = nullptr;
  vumi::transport::IngestCounters ingest;
  vumi::transport::OutboundCounters outbound;
  boost::asio::io_context& io() override { return io_context; }
  vumi::dispatch::Runtime& runtime() override { return *rt; }
  const vumi::dispatch::Counters& dispatch_counters() const override { return dispatcher->counters(); }
  const vumi::transport::IngestCounters& ingest_counters() const override { return ingest; }
  const vumi::transport::OutboundCounters& outbound_counters() const override { return outbound; }
  vumi::store::StateStore& store() override { return *state; }
  void set_chain_observer(vumi::dispatch::ChainObserver* observer) override {
    dispatcher->set_observer(observer);
  }
};

// CPU time of this thread: what a change costs, apart from time the machine gave to others.
double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

vumi::admin::HttpRequest request(http::verb verb, const std::string& target, const std::string& body,
                                 const std::string& etag = "") {
  vumi::admin::HttpRequest r{verb, target, 11};
  r.set(http::field::authorization, "Bearer bench-operator-token-0123456789");
  if (!etag.empty()) r.set(http::field::if_match, etag);
  r.body() = body;
  r.prepare_payload();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t accounts = argc > 1 ? std::stoul(argv[1]) : 100000;
  const std::size_t changes = argc > 2 ? std::stoul(argv[2]) : 200;
  auto dir = std::filesystem::temp_directory_path() / "vumi-admin-live-bench";
  std::filesystem::remove_all(dir);

  std::string text = R"({"handlers": {"a": {"type": "noop"}, "b": {"type": "noop"}}, "accounts": {)";
  for (std::size_t i = 0; i < accounts; ++i) {
    if (i) text += ',';
    text +=
        "\"acct" + std::to_string(i) + R"(": {"conversations": {"poll1": "vxpolls"}, "tags": ["pool:)" +
        std::to_string(i) +
        R"("], "routes": [{"on": {"event_type": "poll_complete"}, "chain": [{"handler": "a"}, {"handler": "b"}]}]})";
  }
  text += "}}";
  auto started = Clock::now();
  auto loaded = vumi::config::parse_config(text, "bench");
  if (!loaded.ok()) {
    for (auto& e : loaded.errors) std::cerr << e.text() << "\n";
    return 1;
  }
  loaded.config->plugin_path = {VUMI_PLUGIN_DIR "/example.so"};
  loaded.config->state.dir = dir;
  FakeDaemon daemon;
  auto runtime = vumi::dispatch::Runtime::build(std::move(*loaded.config));
  if (!runtime) {
    for (auto& e : runtime.error()) std::cerr << e.text() << "\n";
    return 1;
  }
  daemon.rt = std::move(runtime).value();
  std::cout << "config of " << accounts << " accounts (" << text.size() / (1024 * 1024)
            << " MiB) parsed and built in " << ms(Clock::now() - started)
            << " ms (a reload does this aside)\n";

  auto state = vumi::store::StateStore::open(dir);
  NullSink sink;
  vumi::dispatch::Dispatcher dispatcher(daemon.rt, *state, sink);
  daemon.dispatcher = &dispatcher;
  daemon.state = state.get();
  auto admin_store = vumi::daemon::AdminStore::open({.backend = "sqlite", .dir = dir, .url = {}});
  vumi::config::AdminConfig admin_config;
  vumi::admin::AdminApi api(daemon, *admin_store, admin_config, "bench-operator-token-0123456789");

  auto created = api.handle(
      request(http::verb::post, "/api/accounts", R"({"key": "live", "conversations": {"poll1": "vxpolls"},
      "handlers": {"sms": {"type": "set_output"}},
      "routes": [{"on": {"event_type": "poll_complete"}, "chain": [{"handler": "a"}]}]})"));
  if (created.result() != http::status::created) {
    std::cerr << "create failed: " << created.body() << "\n";
    return 1;
  }
  std::string etag(created[http::field::etag]);

  const std::string topic = "event.acct7.vxpolls.poll_complete";
  const std::string body =
      R"({"account_key":"acct7","conversation_key":"poll1","conversation_type":"vxpolls","event_type":"poll_complete","event_data":{"n":1}})";
  constexpr std::size_t kEventsBetweenChanges = 200;
  std::vector<double> change_ms, change_cpu_ms, gap_ms, baseline_gap_ms;
  auto last_event = Clock::now();
  for (std::size_t c = 0; c < changes; ++c) {
    for (std::size_t e = 0; e < kEventsBetweenChanges; ++e) {
      dispatcher.handle(topic, body);
      auto now = Clock::now();
      (e == 0 ? gap_ms : baseline_gap_ms).push_back(ms(now - last_event));
      last_event = now;
    }
    const std::string route =
        c % 2 ? R"({"on": {"event_type": "poll_complete"}, "chain": [{"handler": "a"}]})"
              : R"({"on": {"event_type": "poll_complete"}, "chain": [{"handler": "a"}, {"handler": "b"}]})";
    auto before = Clock::now();
    const double cpu_before = thread_cpu_ms();
    auto changed = api.handle(request(http::verb::put, "/api/accounts/live/routes/0", route, etag));
    change_cpu_ms.push_back(thread_cpu_ms() - cpu_before);
    change_ms.push_back(ms(Clock::now() - before));
    if (changed.result() != http::status::ok) {
      std::cerr << "change failed: " << changed.body() << "\n";
      return 1;
    }
    etag = std::string(changed[http::field::etag]);
  }
  auto report = [](const char* what, std::vector<double> v) {
    std::sort(v.begin(), v.end());
    std::cout << what << ": n=" << v.size() << " p50=" << v[v.size() / 2]
              << " ms p99=" << v[v.size() * 99 / 100] << " ms max=" << v.back() << " ms\n";
  };
  report("apply one account's change (HTTP handler: parse, validate, build, store version, swap)", change_ms);
  report("  the same, CPU time of the loop's thread", change_cpu_ms);
  report("gap before the first event after each change (the longest stall)", gap_ms);
  report("gap between events with no change", baseline_gap_ms);
  // The parts of a change on their own: building the account aside, and writing its version.
  std::vector<double> build_ms, store_ms;
  auto live = daemon.rt->routes().account_routes("live");
  for (std::size_t c = 0; c < changes; ++c) {
    auto before = Clock::now();
    auto built = daemon.rt->build_account(live->spec);
    build_ms.push_back(ms(Clock::now() - before));
    vumi::daemon::AccountVersion entry{1000000 + c + 1, "t", "bench", "{}", "[]"};
    before = Clock::now();
    if (!admin_store->put_account("bench-only", "{}", c == 0 ? 0 : 1000000 + c, entry))
      throw std::runtime_error("admin_live_bench: the bench account's version went out of step");
    store_ms.push_back(ms(Clock::now() - before));
  }
  report("  of which: build the account aside (validate, create instances, index)", build_ms);
  report("  of which: store one version in admin.db (WAL, synchronous=NORMAL)", store_ms);
  std::cout << "events handled: " << dispatcher.counters().chains_run << " chains\n";
  std::filesystem::remove_all(dir);
  return 0;
}
