#include "dispatch/chain_runner.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <memory>

#include "common/cycle_clock.hpp"
#include "common/json.hpp"
#include "plugin/schema.hpp"

namespace vumi::dispatch {

namespace {

vumi_view view(std::string_view s) {
  return vumi_view{s.data(), s.size()};
}

}  // namespace

ChainRunner::ChainRunner(StepServices& services, DeadLetterRecorder& dead_letters, Counters& counters,
                         RetryScheduler& retries)
    : services_(services), dead_letters_(dead_letters), counters_(counters), retries_(retries) {}

bool ChainRunner::run(const Route& route, const Account& account, const event::Envelope& event) {
  ++counters_.chains_run;
  steps_.clear();
  return run_from(route, account, event, 0, {});
}

bool ChainRunner::resume(const Route& route, const Account& account, const event::Envelope& event,
                         ResumePoint from) {
  ++counters_.retries_run;
  steps_ = std::move(from.outputs);
  return run_from(route, account, event, from.step_index, std::move(from.attempts));
}

std::string ChainRunner::step_name(const Step& step, std::size_t index) {
  return json::index_path("chain", index) + " (handler \"" + step.handler->name() + "\")";
}

bool ChainRunner::run_from(const Route& route, const Account& account, const event::Envelope& event,
                           std::size_t first, boost::json::array attempts) {
  if (observer_) observer_->route_started(route, account, event);

  for (std::size_t i = first; i < route.chain.size(); ++i) {
    const Step& step = route.chain[i];
    const config::StepSpec& spec = *step.spec;

    std::string_view config_text;
    if (spec.compiled.is_static()) {
      config_text = spec.compiled.static_text();
    } else {
      // Only a templated step reads the event's body, so only it has the body built (envelope.hpp).
      const config::RenderContext context{&event.body(), &steps_, account.key, &account.context()};
      if (auto rendered = spec.compiled.render(context, rendered_); !rendered) {
        fail(route, step, i, event, "template: " + rendered.error().message);
        if (observer_) {
          const std::string why = "template: " + rendered.error().message;
          observer_->step_done(StepRecord{i, &step, {}, VUMI_STEP_FAIL, nullptr, why, 0});
          observer_->route_done(false);
        }
        return false;
      }
      config_text = rendered_;
      // check validated the config as written; what the templates produced is checked here,
      // before the plugin sees it.
      if (std::string problem = rendered_config_problem(route, account, step, i); !problem.empty()) {
        if (observer_) {
          observer_->step_done(StepRecord{i, &step, config_text, VUMI_STEP_FAIL, nullptr, problem, 0});
          observer_->route_done(false);
        }
        fail(route, step, i, event, std::move(problem));
        return false;
      }
    }

    vumi_step_input input{};
    input.struct_size = sizeof(input);
    input.account_key = view(event.account_key);
    input.conversation_type = view(event.conversation_type);
    input.conversation_key = view(event.conversation_key);
    input.event_type = view(event.event_type);
    input.event_id = view(event.event_id);
    input.config_json = view(config_text);
    input.depth = event.depth;

    const plugin::HandlerInstance& handler = *step.handler;
    vumi_call call;
    call.plugin_name = handler.type().plugin->name();
    call.handler_type = handler.type().name;
    call.services = &services_;
    services_.begin_step(handler.type().name, route.order, i);
    services_.label_step(call.plugin_name, handler.name());

    if (in_flight_)
      in_flight_->begin_step(call.plugin_name, call.handler_type, handler.name(), route.order, i);
    const CycleClock::Ticks started = CycleClock::now();
    vumi_step_result result = handler.handle(call, input);
    // One clock read for the step's timing and its record.
    const double seconds = CycleClock::seconds(CycleClock::now() - started);
    if (in_flight_) in_flight_->end_step();
    // A step that failed while the state store was failing is not the step's fault: try again.
    if (result == VUMI_STEP_FAIL && !services_.store_failure().empty()) {
      call.error = "state store failed during the step (" + services_.store_failure() + "): " + call.error;
      result = VUMI_STEP_RETRY;
    }
    StepTimings& timings = step_timings(handler.type().name);
    timings.add(seconds);
    if (result == VUMI_STEP_FAIL) ++timings.failed;
    if (observer_) {
      if (result == VUMI_STEP_FAIL && call.error.empty()) call.error = "step failed without a message";
      observer_->step_done(StepRecord{i, &step, config_text, result,
                                      services_.has_output() ? &services_.output() : nullptr, call.error,
                                      seconds});
    }
    if (result == VUMI_STEP_RETRY) {
      if (observer_) observer_->route_done(false);
      RetryScheduler::Request request;
      request.route = &route;
      request.event = &event;
      request.step_index = i;
      request.step = step_name(step, i);
      request.outputs = &steps_;
      request.attempts = i == first ? std::move(attempts) : boost::json::array();
      request.error = std::move(call.error);
      request.retry_after_ms = call.retry_after_ms;
      retries_.step_wants_retry(std::move(request));
      return false;
    }
    if (result == VUMI_STEP_FAIL) {
      fail(route, step, i, event, call.error.empty() ? "step failed without a message" : call.error);
      if (observer_) observer_->route_done(false);
      return false;
    }
    if (services_.has_output() && !spec.as.empty()) steps_[spec.as] = std::move(services_.output());
    if (result == VUMI_STEP_STOP) {
      if (spdlog::should_log(spdlog::level::debug))
        spdlog::debug("route {} stopped at {} (handler \"{}\") for event {}",
                      config::route_path(account.key, route.order),
                      config::step_path(account.key, route.order, i), handler.name(), event.event_id);
      break;
    }
  }
  if (observer_) observer_->route_done(true);
  return true;
}

StepTimings& ChainRunner::step_timings(const std::string& handler_type) {
  // A chain has a few handler types: they are found among the last ones used before the map is
  // searched (its string comparisons were 3% of a two-step chain's instructions). Entries are the
  // map's nodes, which stay where they are; compared by name, which a reload cannot reuse wrongly.
  for (auto* recent : recent_timings_)
    if (recent && recent->first == handler_type) return recent->second;
  auto it = counters_.step_timings.find(handler_type);
  if (it == counters_.step_timings.end())
    it = counters_.step_timings.emplace(handler_type, StepTimings{}).first;
  recent_timings_[next_recent_++ % recent_timings_.size()] = &*it;
  return it->second;
}

std::string ChainRunner::rendered_config_problem(const Route& route, const Account& account, const Step& step,
                                                 std::size_t index) {
  // Parsed into an arena started afresh for each check (not malloc per node); a fresh resource
  // rather than release(), which would keep a grown block size for the next (see MessageArena).
  // Constructed, not assigned: assignment would copy the nodes into the old value's resource.
  std::destroy_at(&rendered_value_);
  std::construct_at(&rendered_value_);
  rendered_arena_.emplace(rendered_buffer_, sizeof(rendered_buffer_));
  boost::system::error_code parse_error;
  std::destroy_at(&rendered_value_);
  std::construct_at(&rendered_value_,
                    boost::json::parse(rendered_, parse_error, boost::json::storage_ptr(&*rendered_arena_)));
  config_path_.clear();  // reused: no allocation once grown
  config::append_step_path(config_path_, account.key, route.order, index);
  config_path_.append(".config");
  const std::string& config_path = config_path_;
  if (parse_error) return config_path + ": the rendered config is not JSON (" + parse_error.message() + ")";
  schema_errors_.clear();
  plugin::validate_against_schema(rendered_value_, step.handler->type().step_schema, config_path, {},
                                  schema_errors_);
  if (schema_errors_.empty()) return {};
  std::string message = "rendered config does not match the step schema: ";
  for (std::size_t i = 0; i < schema_errors_.size(); ++i)
    message += (i ? "; " : "") + schema_errors_[i].first + ": " + schema_errors_[i].second;
  return message;
}

void ChainRunner::fail(const Route& route, const Step& step, std::size_t index, const event::Envelope& event,
                       std::string message) {
  ++counters_.chains_failed;
  store::DeadLetter letter;
  letter.reason = "step_failed";
  letter.message = std::move(message);
  letter.account_key = event.account_key;
  letter.route = config::route_path(event.account_key, route.order);
  letter.step = step_name(step, index);
  letter.topic = event_topic(event);
  letter.input = event.json();
  dead_letters_.record(std::move(letter));
}

}  // namespace vumi::dispatch
