// Cost per event of the poll chain (create_contact, then send_sms to the contact) on each state
// backend: Dispatcher::handle inside the store's batches, as the daemon runs it (a processed-message
// claim, a contact upsert, an outbox row and a message ledger entry per event), without sockets.
// PostgreSQL runs on a throwaway cluster on loopback (tests/support/pg_cluster.hpp) with the
// server's durable defaults (fsync on), or at --url. Usage:
//   state_store_bench [--events N] [--batch N]... [--url postgresql://...] [--backend sqlite|postgresql]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "dispatch/dispatcher.hpp"
#include "pg_cluster.hpp"
#include "store/pg_state_store.hpp"
#include "store/state_store.hpp"
#include "store/store_factory.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// What the daemon's outbox does inside a batch: one outbox row per outbound message, removed after
// the commit (here: in the next batch, as the daemon removes sent rows).
class OutboxRowsSink : public vumi::dispatch::OutboundSink {
 public:
  explicit OutboxRowsSink(vumi::store::StateStore& store) : store_(store) {}
  void send(std::string_view topic, std::string_view body) override {
    if (const vumi::Expected<std::int64_t> id = store_.outbox_put(topic, body, "")) written_.push_back(*id);
  }
  void remove_sent() {
    if (!written_.empty() && !store_.outbox_remove(written_))
      throw std::runtime_error("outbox_remove failed");
    written_.clear();
  }

 private:
  vumi::store::StateStore& store_;
  std::vector<std::int64_t> written_;
};

constexpr const char* kConfig = R"({
  "handlers": {
    "contacts": { "type": "create_contact" },
    "sms": { "type": "send_sms", "options": { "transport_name": "sms" } } },
  "accounts": { "acct1": { "conversations": { "poll1": "vxpolls" },
    "routes": [ { "on": { "event_type": "poll_complete" }, "chain": [
      { "handler": "contacts", "as": "contact",
        "config": { "fields": { "msisdn": "{{/event/event_data/from_addr}}" } } },
      { "handler": "sms", "config": { "to_addr": "{{/steps/contact/msisdn}}", "content": "Thanks!" } } ] } ] } } })";

std::string poll_event(int run, int i) {
  char msisdn[32];
  std::snprintf(msisdn, sizeof msisdn, "+27%02d%07d", run, i);
  return R"({"account_key":"acct1","conversation_key":"poll1","conversation_type":"vxpolls",)"
         R"("event_type":"poll_complete","event_id":"bench-)" +
         std::to_string(run) + "-" + std::to_string(i) + R"(","event_data":{"from_addr":")" + msisdn +
         R"("}})";
}

struct Result {
  double seconds = 0;
  std::uint64_t chains = 0;
  std::uint64_t round_trips = 0;  // PostgreSQL: statements sent during the run
};

// Runs events through the poll chain in batches of batch events; a fresh run number keeps every
// msisdn and event_id new.
Result run_poll_chain(const vumi::StateConfig& state, int events, int batch, int run) {
  auto loaded = vumi::config::parse_config(kConfig, "bench");
  if (!loaded.ok()) throw std::runtime_error(loaded.errors.front().text());
  loaded.config->plugin_path = {VUMI_PLUGIN_DIR};
  auto runtime = vumi::dispatch::Runtime::build(std::move(*loaded.config));
  if (!runtime)
    throw std::runtime_error(runtime.error().empty() ? "runtime did not build"
                                                     : runtime.error().front().text());
  auto store = vumi::store::open_state_store(state, vumi::store::Access::read_write);
  OutboxRowsSink sink(*store);
  vumi::dispatch::Dispatcher dispatcher(std::move(runtime).value(), *store, sink);
  const std::string topic = "event.acct1.vxpolls.poll_complete";
  std::vector<std::string> bodies;
  bodies.reserve(static_cast<std::size_t>(events));
  for (int i = 0; i < events; ++i) bodies.push_back(poll_event(run, i));

  const auto* pg = dynamic_cast<const vumi::store::PgStateStore*>(store.get());
  const std::uint64_t trips_before = pg != nullptr ? pg->round_trips() : 0;
  const auto start = Clock::now();
  for (int i = 0; i < events; i += batch) {
    if (!store->begin_batch().has_value()) throw std::runtime_error("begin_batch failed");
    sink.remove_sent();
    for (int j = i; j < std::min(events, i + batch); ++j)
      dispatcher.handle(topic, bodies[static_cast<std::size_t>(j)]);
    if (auto committed = store->commit_batch(); !committed)
      throw std::runtime_error(committed.error().message);
  }
  Result result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.chains = dispatcher.counters().chains_run;
  if (pg != nullptr) result.round_trips = pg->round_trips() - trips_before;
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  int events = 5000;
  std::vector<int> batches;
  std::string url;
  std::vector<std::string> backends = {"sqlite", "postgresql"};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--events")
      events = std::atoi(argv[i + 1]);
    else if (flag == "--batch")
      batches.push_back(std::atoi(argv[i + 1]));
    else if (flag == "--url")
      url = argv[i + 1];
    else if (flag == "--backend")
      backends = {argv[i + 1]};
    else {
      std::cerr << "unknown option " << flag << "\n";
      return 2;
    }
  }
  if (batches.empty()) batches = {1, 16, 256};
  const auto dir =
      std::filesystem::temp_directory_path() / ("vumi-state-store-bench-" + std::to_string(::getpid()));
  std::unique_ptr<vumi::testing::PgCluster> cluster;
  try {
    int run = 0;
    for (const std::string& backend : backends) {
      vumi::StateConfig state{.backend = backend, .dir = dir / "state", .url = url};
      if (backend == "postgresql" && url.empty()) {
        cluster =
            std::make_unique<vumi::testing::PgCluster>(vumi::testing::PgCluster::Options{.durable = true});
        state.url = cluster->create_database("bench");
      }
      for (int batch : batches) {
        const Result result = run_poll_chain(state, events, batch, ++run);
        std::cout << backend << " batch " << batch << ": " << events << " events in " << result.seconds
                  << " s = " << static_cast<long>(events / result.seconds) << " events/s, "
                  << result.seconds * 1e6 / events << " us/event (" << result.chains << " chains run";
        if (result.round_trips > 0)
          std::cout << ", " << static_cast<double>(result.round_trips) / events << " round trips/event";
        std::cout << ")\n";
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "state_store_bench: " << e.what() << "\n";
    std::filesystem::remove_all(dir);
    return 1;
  }
  std::filesystem::remove_all(dir);
  return 0;
}
