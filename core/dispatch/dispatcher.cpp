#include "dispatch/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <deque>
#include <optional>
#include <variant>

#include "dispatch/chain_runner.hpp"
#include "dispatch/crash_guard.hpp"
#include "dispatch/dead_letters.hpp"
#include "dispatch/step_services.hpp"

namespace vumi::dispatch {

namespace {

// Every value decoded for one ingest message (and the events it leads to) lives in this arena,
// started afresh when the message is done: no malloc/free per JSON node on the data path.
// Only a new resource resets it fully: monotonic_resource::release() frees the blocks but keeps
// the doubled size for the next one, so after ~20 messages larger than the buffer the next block
// would be too large to allocate (every later large message failed with bad_alloc).
class MessageArena {
 public:
  MessageArena() { resource_.emplace(buffer_, sizeof(buffer_)); }
  boost::json::monotonic_resource* get() { return &*resource_; }
  // Frees every block of the last message; the next starts from the buffer with its first size.
  void reset() { resource_.emplace(buffer_, sizeof(buffer_)); }

 private:
  alignas(std::max_align_t) unsigned char buffer_[16 * 1024];
  std::optional<boost::json::monotonic_resource> resource_;
};

}  // namespace

struct Dispatcher::Impl {
  Impl(std::shared_ptr<const Runtime> rt, store::StateStore& store, OutboundSink& out)
      : runtime(std::move(rt)),
        outbound(out),
        dead_letters(store, counters),
        services(store, out, counters, emitted),
        chains(services, dead_letters, counters) {}

  void handle(std::string_view topic, std::string_view body);
  // True when the message is quarantined (it crashed the daemon before): dead-lettered, not run.
  bool refuse_quarantined(const std::optional<std::string>& key, std::string_view account,
                          std::string_view topic, std::string_view body);
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
  MessageArena arena;
  crash::InFlight* in_flight = nullptr;               // set when a CrashGuard watches
  const crash::QuarantineList* quarantine = nullptr;  // likewise
};

void Dispatcher::Impl::handle(std::string_view in_topic, std::string_view body) {
  ++counters.received;
  const Runtime& rt = *runtime;
  // A message recognised by its bytes is refused before decoding: decoding may be what crashed.
  if (quarantine && refuse_quarantined(quarantine->match_body(in_topic, body), {}, in_topic, body)) return;
  event::Decoded decoded = rt.decoder().decode(in_topic, body, arena.get());
  // A message that carried its own event id is recognised by it when it comes back.
  auto watch_event_id = [&](const event::Envelope& event) {
    if (event.event_id_assigned || !in_flight) return true;
    in_flight->set_message_event_id(event.event_id);
    return !(quarantine &&
             refuse_quarantined(quarantine->match_event(event.event_id), event.account_key, in_topic, body));
  };
  switch (decoded.index()) {
    case 0:
      reject(std::get<event::Rejection>(decoded), in_topic, body);
      return;
    case 1: {
      auto& event = std::get<event::Envelope>(decoded);
      if (watch_event_id(event)) dispatch(std::move(event));
      return;
    }
    case 2: {
      auto& message = std::get<event::InboundMessage>(decoded);
      const Account* owner = rt.routes().tag_owner(message.tag);
      if (!owner) {
        reject({event::Reason::unowned_tag, "tag \"" + message.tag + "\" is owned by no account"}, in_topic,
               body);
        return;
      }
      event::Envelope event = rt.decoder().make_inbound_event(owner->key, std::move(message));
      if (watch_event_id(event)) dispatch(std::move(event));
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

bool Dispatcher::Impl::refuse_quarantined(const std::optional<std::string>& key, std::string_view account,
                                          std::string_view in_topic, std::string_view body) {
  if (!key) return false;
  ++counters.quarantined;
  store::DeadLetter letter;
  letter.reason = "handler_crashed";
  letter.message = "message " + *key +
                   " crashed the daemon before (see the first handler_crashed dead letter "
                   "for it); quarantined, not run again (topic \"" +
                   std::string(in_topic.substr(0, 300)) + "\")";
  letter.account_key = std::string(account);
  letter.input = DeadLetterRecorder::input_excerpt(body);
  dead_letters.record(std::move(letter));
  return true;
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
  if (in_flight) in_flight->begin_event(event.account_key, event.event_id);
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
  struct EndMessage {
    Impl& impl;
    ~EndMessage() {
      if (impl.in_flight) impl.in_flight->end_message();
      impl.arena.reset();
    }
  } end{*impl_};
  if (impl_->in_flight) impl_->in_flight->begin_message(topic, body);
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

void Dispatcher::guard_crashes(CrashGuard& guard) {
  guard.recover_previous_crash(impl_->dead_letters);
  impl_->in_flight = &guard.in_flight();
  impl_->quarantine = &guard.quarantine();
  impl_->chains.watch_in_flight(&guard.in_flight());
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
