#include "dispatch/run_history.hpp"

#include <atomic>
#include <boost/json/array.hpp>
#include <chrono>
#include <ctime>
#include <thread>

namespace vumi::dispatch {

namespace bj = boost::json;

namespace {

// Formatted when asked for (the admin API), not per event.
std::string iso8601_ms(std::chrono::system_clock::time_point now) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

const char* result_name(int result) {
  return result == VUMI_STEP_CONTINUE ? "continue" : result == VUMI_STEP_STOP ? "stop" : "fail";
}

std::atomic<std::uint64_t> next_history_id{1};

// The run the calling thread is writing, and whose history it belongs to (by id, not by address:
// a history made where an old one was is another).
struct OpenRunCache {
  std::uint64_t history = 0;
  Run* run = nullptr;
};
thread_local OpenRunCache open_run_cache;

}  // namespace

std::string Run::time_text() const {
  return iso8601_ms(time);
}

bool Run::ok() const {
  for (const auto& r : routes)
    if (!r.ok) return false;
  return true;
}

RunHistory::RunHistory(std::size_t per_account, std::size_t in_all)
    : id_(next_history_id++), per_account_(per_account), in_all_(in_all) {
  spare_runs_.reserve(kSpares);
  spare_routes_.reserve(kSpares);
}

Run& RunHistory::begin(const Account& account, const event::Envelope& event) {
  set_open_run(nullptr);  // the thread's last run is done
  auto& runs = by_account_[account.key];
  // This account's oldest goes, unless another thread is writing it (one account runs on one
  // worker, so only a caller outside the daemon could); its entry in order_ is dropped when it
  // comes up in evict().
  if (runs.size() >= per_account_ && !is_open(runs.front().get())) {
    retire(std::move(runs.front()));
    runs.pop_front();
    --total_;
  }
  Run& run = *runs.emplace_back(take_spare());
  run.sequence = ++sequence_;
  run.time = std::chrono::system_clock::now();
  run.event_id.assign(event.event_id);
  run.conversation_type.assign(event.conversation_type);
  run.conversation_key.assign(event.conversation_key);
  run.event_type.assign(event.event_type);
  event.write_json(run.event);
  if (run.event.size() > kMaxEventBytes) {
    run.event.clear();
    if (run.event.capacity() > 2 * kMaxEventBytes) run.event.shrink_to_fit();  // a spare stays small
  }
  order_.push_back(account.key);
  ++total_;
  set_open_run(&run);
  evict();
  return run;
}

void RunHistory::retire(std::unique_ptr<Run> run) {
  for (RunRoute& route : run->routes) {
    if (spare_routes_.size() == kSpares) break;
    spare_routes_.push_back(std::move(route));
  }
  run->routes.clear();
  if (spare_runs_.size() < kSpares) spare_runs_.push_back(std::move(run));
}

std::unique_ptr<Run> RunHistory::take_spare() {
  if (spare_runs_.empty()) return std::make_unique<Run>();
  std::unique_ptr<Run> run = std::move(spare_runs_.back());
  spare_runs_.pop_back();
  return run;  // begin() writes every field; routes is empty
}

RunRoute RunHistory::take_spare_route() {
  if (spare_routes_.empty()) return RunRoute{};
  RunRoute route = std::move(spare_routes_.back());
  spare_routes_.pop_back();
  route.ok = true;
  route.steps.clear();
  return route;
}

Run*& RunHistory::open_run() {
  const std::thread::id me = std::this_thread::get_id();
  for (auto& [thread, run] : open_)
    if (thread == me) return run;
  return open_.emplace_back(me, nullptr).second;
}

void RunHistory::set_open_run(Run* run) {
  open_run() = run;
  open_run_cache = {id_, run};
}

Run* RunHistory::cached_open_run() {
  if (open_run_cache.history == id_) return open_run_cache.run;
  // The thread wrote to another history since (the cache holds one): look it up again.
  const std::lock_guard<std::mutex> lock(mutex_);
  Run* run = open_run();
  open_run_cache = {id_, run};
  return run;
}

bool RunHistory::is_open(const Run* run) const {
  for (const auto& open : open_)
    if (open.second == run) return true;
  return false;
}

void RunHistory::evict() {
  while (total_ > in_all_ && !order_.empty()) {
    auto it = by_account_.find(order_.front());
    order_.pop_front();
    if (it == by_account_.end() || it->second.empty()) continue;
    if (is_open(it->second.front().get())) break;  // never a run being written
    retire(std::move(it->second.front()));
    it->second.pop_front();
    --total_;
    if (it->second.empty()) by_account_.erase(it);
  }
  // order_ may hold stale entries of per-account evictions; keep it from growing without bound.
  while (order_.size() > 2 * in_all_ + 16) order_.pop_front();
}

void RunHistory::event_unrouted(const Account& account, const event::Envelope& event) {
  if (per_account_ == 0) return;
  const std::lock_guard<std::mutex> lock(mutex_);
  begin(account, event);
  set_open_run(nullptr);
}

void RunHistory::event_started(const Account& account, const event::Envelope& event) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (per_account_ == 0)
    set_open_run(nullptr);
  else
    begin(account, event);
}

void RunHistory::route_started(const Route& route, const Account& account, const event::Envelope&) {
  Run* open = cached_open_run();
  if (!open) return;
  RunRoute spare;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    spare = take_spare_route();
  }
  RunRoute& recorded = open->routes.emplace_back(std::move(spare));
  recorded.route.clear();  // a spare's buffer, reused
  config::append_route_path(recorded.route, account.key, route.order);
}

void RunHistory::step_done(const StepRecord& step) {
  Run* open = cached_open_run();
  if (!open || open->routes.empty()) return;
  RunStep& recorded = open->routes.back().steps.emplace_back();
  recorded.index = step.index;
  recorded.handler.assign(step.step->spec->handler);
  recorded.result = step.result;
  recorded.duration_ms = step.seconds * 1000;
  recorded.error.assign(step.error);
}

void RunHistory::route_done(bool ok) {
  Run* open = cached_open_run();
  if (!open || open->routes.empty()) return;
  open->routes.back().ok = ok;
}

std::vector<const Run*> RunHistory::runs(std::string_view account, const Filter& filter) const {
  std::vector<const Run*> out;
  auto it = by_account_.find(account);
  if (it == by_account_.end()) return out;
  for (auto at = it->second.rbegin(); at != it->second.rend() && out.size() < filter.limit; ++at) {
    const Run& run = **at;
    if (filter.event_type && run.event_type != *filter.event_type) continue;
    if (filter.conversation_key && run.conversation_key != *filter.conversation_key) continue;
    if (filter.event_id && run.event_id != *filter.event_id) continue;
    if (filter.status) {
      const std::string status = run.routes.empty() ? "unrouted" : run.ok() ? "ok" : "failed";
      if (status != *filter.status) continue;
    }
    out.push_back(&run);
  }
  return out;
}

const Run* RunHistory::find(std::string_view account, std::string_view event_id) const {
  Filter filter;
  filter.event_id = std::string(event_id);
  filter.limit = 1;
  auto found = runs(account, filter);
  return found.empty() ? nullptr : found.front();
}

bj::object RunHistory::to_json(const Run& run) {
  bj::array routes;
  for (const auto& r : run.routes) {
    bj::array steps;
    for (const auto& s : r.steps) {
      bj::object step{{"index", s.index},
                      {"handler", s.handler},
                      {"result", result_name(s.result)},
                      {"duration_ms", s.duration_ms}};
      if (!s.error.empty()) step["error"] = s.error;
      steps.push_back(std::move(step));
    }
    routes.push_back(bj::object{{"route", r.route}, {"ok", r.ok}, {"steps", std::move(steps)}});
  }
  return bj::object{{"sequence", run.sequence},
                    {"time", run.time_text()},
                    {"event_id", run.event_id},
                    {"conversation_type", run.conversation_type},
                    {"conversation_key", run.conversation_key},
                    {"event_type", run.event_type},
                    {"status", run.routes.empty() ? "unrouted"
                               : run.ok()         ? "ok"
                                                  : "failed"},
                    {"routes", std::move(routes)}};
}

}  // namespace vumi::dispatch
