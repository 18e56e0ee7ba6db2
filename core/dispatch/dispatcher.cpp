#include "dispatch/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <deque>
#include <variant>

#include "dispatch/chain_runner.hpp"
#include "dispatch/dead_letters.hpp"
#include "dispatch/step_services.hpp"

namespace vumi::dispatch {

struct Dispatcher::Impl {
  Impl(std::shared_ptr<const Runtime> rt, store::StateStore& store, OutboundSink& out)
      : runtime(std::move(rt)),
        outbound(out),
        dead_letters(store, counters),
        services(store, out, counters, emitted),
        chains(services, dead_letters, counters) {}

  void handle(std::string_view topic, std::string_view body);
  void reject(const event::Rejection& rejection, std::string_view topic, std::string_view body);
  void dispatch(event::Envelope&& first);
  void run_event(const event::Envelope& event);

  std::shared_ptr<const Runtime> runtime;
  OutboundSink& outbound;
  Counters counters;
  DeadLetterRecorder dead_letters;
  std::deque<event::Envelope> emitted;  // events handlers emitted, dispatched after the current one
  StepServices services;
  ChainRunner chains;
  std::vector<const Route*> matched;  // reused per event
  std::string topic;                  // reused for outbound event topics
  ChainObserver* observer = nullptr;
  // Every value decoded for one ingest message (and the events it leads to) lives in this arena,
  // released when the message is done: no malloc/free per JSON node on the data path.
  alignas(std::max_align_t) unsigned char arena_buffer[16 * 1024];
  boost::json::monotonic_resource arena{arena_buffer, sizeof(arena_buffer)};
};

void Dispatcher::Impl::handle(std::string_view in_topic, std::string_view body) {
  ++counters.received;
  const Runtime& rt = *runtime;
  event::Decoded decoded = rt.decoder().decode(in_topic, body, &arena);
  switch (decoded.index()) {
    case 0:
      reject(std::get<event::Rejection>(decoded), in_topic, body);
      return;
    case 1:
      dispatch(std::move(std::get<event::Envelope>(decoded)));
      return;
    case 2: {
      auto& message = std::get<event::InboundMessage>(decoded);
      const Account* owner = rt.routes().tag_owner(message.tag);
      if (!owner) {
        reject({event::Reason::unowned_tag, "tag \"" + message.tag + "\" is owned by no account"}, in_topic,
               body);
        return;
      }
      dispatch(rt.decoder().make_inbound_event(owner->key, std::move(message)));
      return;
    }
    case 3: {
      const auto& command = std::get<event::Command>(decoded);
      outbound.send(in_topic, command.body);
      ++counters.commands_forwarded;
      ++counters.published;
      return;
    }
  }
}

void Dispatcher::Impl::reject(const event::Rejection& rejection, std::string_view in_topic,
                              std::string_view body) {
  ++counters.rejected[static_cast<std::size_t>(rejection.reason)];
  store::DeadLetter letter;
  letter.reason = std::string(event::reason_code(rejection.reason));
  letter.message = rejection.message + " (topic \"" + std::string(in_topic.substr(0, 300)) + "\")";
  letter.input = DeadLetterRecorder::input_excerpt(body);
  dead_letters.record(std::move(letter));
}

void Dispatcher::Impl::dispatch(event::Envelope&& first) {
  run_event(first);
  // Emitted events (and theirs, breadth first) run after the event that emitted them.
  while (!emitted.empty()) {
    event::Envelope next = std::move(emitted.front());
    emitted.pop_front();
    const std::uint32_t max_depth = runtime->config().limits.max_emit_depth;
    if (next.depth > max_depth) {
      store::DeadLetter letter;
      letter.reason = "max_depth";
      letter.message = "emitted event \"" + std::string(next.event_type) + "\" has depth " +
                       std::to_string(next.depth) + ", past max_emit_depth " + std::to_string(max_depth);
      letter.account_key = next.account_key;
      letter.input = boost::json::serialize(next.body);
      dead_letters.record(std::move(letter));
      continue;
    }
    topic.assign("event.");
    topic.append(next.account_key)
        .append(".")
        .append(next.conversation_type)
        .append(".")
        .append(next.event_type);
    outbound.send(topic, boost::json::serialize(next.body));
    ++counters.published;
    run_event(next);
  }
}

void Dispatcher::Impl::run_event(const event::Envelope& event) {
  ++counters.events;
  const Runtime& rt = *runtime;
  const Account* account = rt.routes().account(event.account_key);
  if (!account) {  // the decoder checked it; an emitted event keeps its parent's account
    ++counters.unrouted;
    return;
  }
  rt.routes().match(*account, event.conversation_type, event.conversation_key, event.event_type, matched);
  if (matched.empty()) {
    ++counters.unrouted;
    if (observer) observer->event_unrouted(*account, event);
    // A user's message is work someone must see; an event nobody routes is just not of interest.
    if (event.event_type == "inbound_message") {
      store::DeadLetter letter;
      letter.reason = "no_route";
      letter.message = "inbound message on " + std::string(event.conversation_key) +
                       " matched no route of account " + account->key;
      letter.account_key = account->key;
      letter.input = boost::json::serialize(event.body);
      dead_letters.record(std::move(letter));
    } else {
      spdlog::debug("event {} {}.{}.{} matched no route", event.event_id, event.account_key,
                    event.conversation_type, event.event_type);
    }
    return;
  }
  services.begin_event(rt.decoder(), event, *account);
  if (observer) observer->event_started(*account, event);
  for (const Route* route : matched) chains.run(*route, *account, event);
}

Dispatcher::Dispatcher(std::shared_ptr<const Runtime> runtime, store::StateStore& store,
                       OutboundSink& outbound)
    : impl_(std::make_unique<Impl>(std::move(runtime), store, outbound)) {}

Dispatcher::~Dispatcher() = default;

void Dispatcher::handle(std::string_view topic, std::string_view body) {
  // Runs after every value made for this message is gone (they all live inside Impl::handle).
  struct ReleaseArena {
    boost::json::monotonic_resource& arena;
    ~ReleaseArena() { arena.release(); }
  } release{impl_->arena};
  try {
    impl_->handle(topic, body);
  } catch (const std::exception& e) {
    // Nothing per-event should throw; if something does (e.g. out of memory), keep the daemon up
    // and keep the message.
    impl_->emitted.clear();
    store::DeadLetter letter;
    letter.reason = "internal_error";
    letter.message = std::string(e.what()) + " (topic \"" + std::string(topic.substr(0, 300)) + "\")";
    letter.input = DeadLetterRecorder::input_excerpt(body);
    impl_->dead_letters.record(std::move(letter));
  }
}

void Dispatcher::refuse(const event::Rejection& rejection, std::string_view topic, std::string_view body) {
  ++impl_->counters.received;
  impl_->reject(rejection, topic, body);
}

void Dispatcher::replace_runtime(std::shared_ptr<const Runtime> runtime) {
  impl_->runtime = std::move(runtime);
}

const Runtime& Dispatcher::runtime() const {
  return *impl_->runtime;
}

void Dispatcher::set_observer(ChainObserver* observer) {
  impl_->observer = observer;
  impl_->chains.set_observer(observer);
}

const Counters& Dispatcher::counters() const {
  return impl_->counters;
}

}  // namespace vumi::dispatch
