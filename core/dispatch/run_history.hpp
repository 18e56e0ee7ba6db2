// The last runs per account: each routed event with the routes it matched and, per step, the
// result, duration and error. Bounded twice: per account, and in all (the oldest run of all goes
// first), so memory stays bounded however many accounts there are.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/string_hash.hpp"
#include "dispatch/chain_observer.hpp"

namespace vumi::dispatch {

struct RunStep {
  std::size_t index = 0;
  std::string handler;
  int result = 0;  // vumi_step_result
  double duration_ms = 0;
  std::string error;
};

struct RunRoute {
  std::string route;  // "accounts.acct1.routes[0]"
  bool ok = true;
  std::vector<RunStep> steps;
};

struct Run {
  std::uint64_t sequence = 0;                  // increasing over all runs
  std::chrono::system_clock::time_point time;  // when it began
  std::string event_id, conversation_type, conversation_key, event_type;
  std::string event;             // the event's JSON (empty when larger than kMaxEventBytes)
  std::vector<RunRoute> routes;  // empty: matched no route
  bool ok() const;
  std::string time_text() const;  // time as ISO 8601, UTC, with milliseconds
};

// The observer calls may come from several dispatch threads at once (docs/workers.md): each
// thread writes its own open run, from its event_started to its next. Opening a run and adding a
// route take one mutex; a step and a route's end go to the thread's open run without it, as no
// other thread touches an open run (neither bound retires one). runs() and find() are for the
// daemon's loop, between batches, when no dispatch thread runs.
class RunHistory final : public ChainObserver {
 public:
  static constexpr std::size_t kMaxEventBytes = 4 * 1024;
  // per_account 0 keeps nothing.
  RunHistory(std::size_t per_account, std::size_t in_all);

  void event_unrouted(const Account& account, const event::Envelope& event) override;
  void event_started(const Account& account, const event::Envelope& event) override;
  void route_started(const Route& route, const Account& account, const event::Envelope& event) override;
  void step_done(const StepRecord& step) override;
  void route_done(bool ok) override;

  struct Filter {
    std::optional<std::string> event_type, conversation_key, event_id;
    std::optional<std::string> status;  // "ok", "failed", "unrouted"
    std::size_t limit = 100;
  };
  // The account's runs, newest first.
  std::vector<const Run*> runs(std::string_view account, const Filter& filter) const;
  // A recent run of the account's event with this id, or null.
  const Run* find(std::string_view account, std::string_view event_id) const;

  static boost::json::object to_json(const Run& run);

 private:
  // Runs and routes that left the history, kept to be written over: once the history is full,
  // recording a run reuses their strings and vectors instead of allocating new ones.
  static constexpr std::size_t kSpares = 64;

  Run& begin(const Account& account, const event::Envelope& event);
  void evict();
  void retire(std::unique_ptr<Run> run);
  std::unique_ptr<Run> take_spare();
  RunRoute take_spare_route();
  Run*& open_run();             // the calling thread's run being written (null: none); mutex_ held
  void set_open_run(Run* run);  // mutex_ held
  Run* cached_open_run();       // the calling thread's open run, without the mutex when it can
  bool is_open(const Run* run) const;

  const std::uint64_t id_;  // tells this history's open runs in a thread's cache from another's
  std::size_t per_account_, in_all_;
  std::size_t total_ = 0;
  std::uint64_t sequence_ = 0;
  StringMap<std::deque<std::unique_ptr<Run>>> by_account_;  // held by pointer: reused, never moved
  std::deque<std::string> order_;                           // account of each kept run, oldest first
  std::mutex mutex_;
  std::vector<std::pair<std::thread::id, Run*>> open_;  // per dispatch thread, its event's run
  std::vector<std::unique_ptr<Run>> spare_runs_;        // at most kSpares
  std::vector<RunRoute> spare_routes_;                  // at most kSpares
};

}  // namespace vumi::dispatch
