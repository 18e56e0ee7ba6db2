#include "dispatch/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <deque>
#include <optional>
#include <variant>

#include "common/json.hpp"
#include "dispatch/chain_runner.hpp"
#include "dispatch/crash_guard.hpp"
#include "dispatch/dead_letters.hpp"
#include "dispatch/message_traffic.hpp"
#include "dispatch/retry_scheduler.hpp"
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
// An emitted event as published on event.*: the envelope plus `content`, vumi-go's name for
// event_data (VumiApiEvent), so vumi-go consumers and ours both read it.
std::string vumi_api_event_text(const event::Envelope& e) {
  std::string text = e.json();  // kept by the envelope: the run history writes it again
  text.pop_back();              // the object's closing '}'
  text += R"(,"content":)";
  text += boost::json::serialize(e.body().get_object().at("event_data"));
  text += '}';
  return text;
}

}  // namespace

struct Dispatcher::Impl {
  Impl(std::shared_ptr<const Runtime> rt, store::StateStore& store_ref, OutboundSink& out)
      : runtime(std::move(rt)),
        state(store_ref),
        outbound(out),
        dead_letters(store_ref, counters),
        services(store_ref, out, counters, emitted),
        retries(store_ref, dead_letters, counters),
        chains(services, dead_letters, counters, retries),
        traffic(store_ref, out, counters) {}
  ~Impl() { dead_letters.flush_repeats(); }

  // The message being handled, for the crash guard, and the arena its values live in: both end
  // when the scope does (declared before those values, so it ends after them).
  struct MessageScope {
    MessageScope(Impl& owner, std::string_view topic, std::string_view body) : impl(owner) {
      if (impl.in_flight) impl.in_flight->begin_message(topic, body);
    }
    MessageScope(const MessageScope&) = delete;
    MessageScope& operator=(const MessageScope&) = delete;
    ~MessageScope() {
      if (impl.in_flight) impl.in_flight->end_message();
      impl.arena.reset();
    }
    Impl& impl;
  };

  HandleOutcome handle(std::string_view topic, std::string_view body, std::string_view event_id_if_absent);
  // Whether account's messages ("" for messages of no account) are handled here; counts a miss.
  bool mine(std::string_view account);
  bool first_delivery(const event::Envelope& event);
  // True when the message is quarantined (it crashed the daemon before): dead-lettered, not run.
  bool refuse_quarantined(const std::optional<std::string>& key, std::string_view account,
                          std::string_view topic, std::string_view body);
  void reject(const event::Rejection& rejection, std::string_view topic, std::string_view body);

  // Notes where the message being handled came from (usually the same publisher as the last).
  void came_from(std::string_view from) {
    if (from != source) source.assign(from);
    dead_letters.set_source(from);
  }
  void dispatch(event::Envelope&& first);
  void dispatch_emitted();
  void run_event(const event::Envelope& event);
  void run_retry(const store::PendingRetry& retry);
  void abandon_retry(const store::PendingRetry& retry, const std::string& why);

  std::shared_ptr<const Runtime> runtime;
  store::StateStore& state;
  OutboundSink& outbound;
  Counters counters;
  DeadLetterRecorder dead_letters;
  std::deque<event::Envelope> emitted;  // events handlers emitted, dispatched after the current one
  StepServices services;
  RetryScheduler retries;
  ChainRunner chains;
  std::string source;                 // where the message being handled came from
  MessageTraffic traffic;             // transport events, conversation outbound, unroutable replies
  std::vector<const Route*> matched;  // reused per event
  std::string topic;                  // reused for outbound event topics
  ChainObserver* observer = nullptr;
  MessageArena arena;
  const ShardOwnership* ownership = nullptr;          // in a cluster: the shards held here
  crash::InFlight* in_flight = nullptr;               // set when a CrashGuard watches
  const crash::QuarantineList* quarantine = nullptr;  // likewise
};

HandleOutcome Dispatcher::Impl::handle(std::string_view in_topic, std::string_view body,
                                       std::string_view event_id_if_absent) {
  ++counters.received;
  const Runtime& rt = *runtime;
  // A message recognised by its bytes is refused before decoding: decoding may be what crashed.
  if (quarantine && refuse_quarantined(quarantine->match_body(in_topic, body), {}, in_topic, body))
    return HandleOutcome::rejected;
  event::Decoded decoded = rt.decoder().decode(in_topic, body, arena.get(), event_id_if_absent);
  // A message that carries a stable event id (its own, or one derived from the reliable publisher's
  // message id) is recognised by it when it comes back.
  auto watch_event_id = [&](const event::Envelope& event) {
    if (event.random_event_id || !in_flight) return true;
    in_flight->set_message_event_id(event.event_id);
    return !(quarantine &&
             refuse_quarantined(quarantine->match_event(event.event_id), event.account_key, in_topic, body));
  };
  if (!decoded) {
    reject(decoded.error(), in_topic, body);
    return HandleOutcome::rejected;
  }
  event::DecodedMessage& message = *decoded;
  switch (message.index()) {
    case 0: {
      auto& event = std::get<event::Envelope>(message);
      if (!mine(event.account_key)) return HandleOutcome::not_owner;
      if (!watch_event_id(event)) return HandleOutcome::rejected;
      if (!first_delivery(event)) return HandleOutcome::duplicate;
      dispatch(std::move(event));
      return HandleOutcome::processed;
    }
    case 1: {
      auto& inbound = std::get<event::InboundMessage>(message);
      const Account* owner = rt.routes().tag_owner(inbound.tag);
      if (!mine(owner ? std::string_view(owner->key) : std::string_view())) return HandleOutcome::not_owner;
      if (!owner) {
        reject({event::Reason::unowned_tag, "tag \"" + inbound.tag + "\" is owned by no account"}, in_topic,
               body);
        traffic.reply_unroutable(rt, inbound);
        return HandleOutcome::rejected;
      }
      event::Envelope event =
          rt.decoder().make_inbound_event(owner->key, std::move(inbound), event_id_if_absent);
      if (!watch_event_id(event)) return HandleOutcome::rejected;
      if (!first_delivery(event)) return HandleOutcome::duplicate;
      dispatch(std::move(event));
      return HandleOutcome::processed;
    }
    case 2: {
      const auto& command = std::get<event::Command>(message);
      if (!mine({})) return HandleOutcome::not_owner;
      outbound.send(in_topic, command.body);
      ++counters.commands_forwarded;
      ++counters.published;
      return HandleOutcome::processed;
    }
    case 3: {
      // The message it is about names the account (its ledger entry); unknown ones go to shard 0.
      auto& transport_event = std::get<event::TransportEvent>(message);
      if (!mine(traffic.transport_event_account(transport_event.user_message_id)))
        return HandleOutcome::not_owner;
      auto routed = traffic.transport_event(rt, std::move(transport_event));
      if (!routed) {
        reject(routed.error(), in_topic, body);
        return HandleOutcome::rejected;
      }
      if (auto& envelope = *routed) {
        if (!watch_event_id(*envelope)) return HandleOutcome::rejected;
        if (!first_delivery(*envelope)) return HandleOutcome::duplicate;
        dispatch(std::move(*envelope));
      }
      return HandleOutcome::processed;
    }
    case 4: {
      const auto& outbound_message = std::get<event::ConversationOutbound>(message);
      const Account* owner = rt.routes().conversation_owner(outbound_message.conversation_type,
                                                            outbound_message.conversation_key);
      if (!mine(owner ? std::string_view(owner->key) : std::string_view())) return HandleOutcome::not_owner;
      if (auto rejection = traffic.conversation_outbound(rt, outbound_message)) {
        reject(*rejection, in_topic, body);
        return HandleOutcome::rejected;
      }
      return HandleOutcome::processed;
    }
  }
  return HandleOutcome::rejected;
}

bool Dispatcher::Impl::mine(std::string_view account) {
  outbound.set_account(account);
  if (!ownership) return true;
  const std::uint32_t shard = account.empty() ? 0 : shard_of(account, ownership->count());
  if (!ownership->holds(shard)) {
    ++counters.not_owner;
    return false;
  }
  ++counters.handled_by_shard[shard];
  return true;
}

bool Dispatcher::Impl::first_delivery(const event::Envelope& event) {
  if (event.random_event_id) return true;  // nothing can repeat an id drawn here
  const Expected<bool> claimed = state.processed_claim(event.account_key, event.event_id);
  if (!claimed) {
    // The batch holding this event cannot commit now; run it, so a retry sees the same work.
    spdlog::error("ledger: {} (event {})", claimed.error().message, event.event_id);
    return true;
  }
  if (*claimed) return true;
  ++counters.duplicates;
  spdlog::debug("event {} of account {} was already processed: counted as a duplicate, not run again",
                event.event_id, event.account_key);
  return false;
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
  letter.topic = std::string(in_topic.substr(0, 300));
  letter.source = source;
  // A flood of the same refusal from one source is one row with a count: the disk stays bounded.
  letter.coalesce_key = letter.reason + '\x1f' + source;
  dead_letters.record(std::move(letter));
}

void Dispatcher::Impl::dispatch(event::Envelope&& first) {
  run_event(first);
  dispatch_emitted();
}

void Dispatcher::Impl::dispatch_emitted() {
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
      letter.topic = event_topic(next);
      letter.input = next.json();
      dead_letters.record(std::move(letter));
      continue;
    }
    topic.assign("event.");
    topic.append(next.account_key)
        .append(".")
        .append(next.conversation_type)
        .append(".")
        .append(next.event_type);
    outbound.send(topic, vumi_api_event_text(next));
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
      letter.topic = event_topic(event);
      letter.source = source;
      letter.input = event.json();
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

void Dispatcher::Impl::abandon_retry(const store::PendingRetry& retry, const std::string& why) {
  store::DeadLetter letter;
  letter.reason = "retry_abandoned";
  letter.message = "a pending retry of " + retry.route + " step " + std::to_string(retry.step_index) +
                   " could not run: " + why;
  letter.account_key = retry.account_key;
  letter.route = retry.route;
  letter.topic = retry.topic;
  letter.attempts = retry.attempts;
  letter.input = retry.event;
  dead_letters.record(std::move(letter));
}

void Dispatcher::Impl::run_retry(const store::PendingRetry& retry) {
  // Deleted in the same batch as the attempt's effects: a crash before the commit keeps both undone.
  if (retry.id != 0) {
    const Expected<void> deleted = state.pending_retry_delete(retry.id);
    if (!deleted) spdlog::error("retry {}: {}", retry.id, deleted.error().message);
  }
  const Runtime& rt = *runtime;
  auto restored = rt.decoder().restore(retry.event);
  if (!restored) {
    abandon_retry(retry, "its stored event is unreadable: " + restored.error().text());
    return;
  }
  const event::Envelope& event = *restored;
  outbound.set_account(event.account_key);
  const Account* account = rt.routes().account(event.account_key);
  const Route* route = account ? rt.routes().route_at_path(*account, retry.route) : nullptr;
  if (!route) {
    abandon_retry(retry, "the route is no longer in the config (reloaded?)");
    return;
  }
  if (retry.step_index < 0 || static_cast<std::size_t>(retry.step_index) >= route->chain.size()) {
    abandon_retry(retry, "the route's chain no longer has that step (reloaded?)");
    return;
  }
  ChainRunner::ResumePoint from;
  from.step_index = static_cast<std::size_t>(retry.step_index);
  boost::json::value outputs, attempts;
  json::ParseError error;
  if (json::parse(retry.steps, {}, outputs, error) && outputs.is_object())
    from.outputs = std::move(outputs.as_object());
  if (json::parse(retry.attempts, {}, attempts, error) && attempts.is_array())
    from.attempts = std::move(attempts.as_array());
  services.begin_event(rt.decoder(), event, *account);
  // A run of its own in the history: the resumed steps are not the last recorded event's.
  if (observer) observer->event_started(*account, event);
  chains.resume(*route, *account, event, std::move(from));
  dispatch_emitted();
}

Dispatcher::Dispatcher(std::shared_ptr<const Runtime> runtime, store::StateStore& store,
                       OutboundSink& outbound)
    : impl_(std::make_unique<Impl>(std::move(runtime), store, outbound)) {}

Dispatcher::~Dispatcher() = default;

HandleOutcome Dispatcher::handle(std::string_view topic, std::string_view body,
                                 std::string_view event_id_if_absent, std::string_view source) {
  impl_->came_from(source);
  const Impl::MessageScope scope(*impl_, topic, body);  // ends after every value made for it is gone
  try {
    return impl_->handle(topic, body, event_id_if_absent);
  } catch (const std::exception& e) {
    // Nothing per-event should throw; if something does (e.g. out of memory), keep the daemon up
    // and keep the message.
    impl_->emitted.clear();
    store::DeadLetter letter;
    letter.reason = "internal_error";
    letter.message = std::string(e.what()) + " (topic \"" + std::string(topic.substr(0, 300)) + "\")";
    letter.input = DeadLetterRecorder::input_excerpt(body);
    impl_->dead_letters.record(std::move(letter));
    return HandleOutcome::rejected;
  }
}

std::string_view Dispatcher::inbound_owner(std::string_view topic, std::string_view body) {
  Impl& impl = *impl_;
  // A quarantined message is not decoded here either: it runs alone, and handle refuses it.
  if (impl.quarantine && impl.quarantine->match_body(topic, body)) return {};
  const Impl::MessageScope scope(impl, topic, body);
  const Runtime& rt = *impl.runtime;
  const event::Decoded decoded = rt.decoder().decode(topic, body, impl.arena.get());
  const auto* message = decoded ? std::get_if<event::InboundMessage>(&*decoded) : nullptr;
  const Account* owner = message ? rt.routes().tag_owner(message->tag) : nullptr;
  return owner ? std::string_view(owner->key) : std::string_view();
}

void Dispatcher::refuse(const event::Rejection& rejection, std::string_view topic, std::string_view body,
                        std::string_view source) {
  impl_->came_from(source);
  ++impl_->counters.received;
  impl_->reject(rejection, topic, body);
}

void Dispatcher::guard_crashes(CrashGuard& guard) {
  guard.recover_previous_crash(impl_->dead_letters);
  impl_->in_flight = &guard.in_flight();
  impl_->quarantine = &guard.quarantine();
  impl_->chains.watch_in_flight(&guard.in_flight());
}

void Dispatcher::set_ownership(const ShardOwnership* ownership) {
  impl_->ownership = ownership;
  impl_->counters.handled_by_shard.assign(ownership ? ownership->count() : 0, 0);
}

std::vector<std::size_t> Dispatcher::retries_waiting_by_shard(std::uint32_t shards) const {
  return impl_->retries.waiting_by_shard(shards);
}

void Dispatcher::share_quarantine(const CrashGuard& guard, crash::InFlight& in_flight) {
  impl_->quarantine = &guard.quarantine();
  impl_->in_flight = &in_flight;
  impl_->chains.watch_in_flight(&in_flight);
}

void Dispatcher::load_pending_retries() {
  const ShardOwnership* ownership = impl_->ownership;
  if (!ownership) {
    impl_->retries.load();
    return;
  }
  impl_->retries.load([ownership](std::string_view account) { return ownership->owns(account); });
}

std::size_t Dispatcher::release_retries() {
  const ShardOwnership* ownership = impl_->ownership;
  if (!ownership) return 0;
  return impl_->retries.release([ownership](std::string_view account) { return !ownership->owns(account); });
}

std::size_t Dispatcher::forget_retries() {
  return impl_->retries.release([](std::string_view) { return true; });
}

std::optional<std::int64_t> Dispatcher::next_retry_due_ms() const {
  return impl_->retries.next_due_ms();
}

std::size_t Dispatcher::retries_waiting() const {
  return impl_->retries.waiting();
}

std::size_t Dispatcher::run_due_retries(std::int64_t now_ms, std::size_t max) {
  std::vector<store::PendingRetry> due = impl_->retries.take_due(now_ms, max);
  for (const store::PendingRetry& retry : due) {
    impl_->source.clear();
    impl_->dead_letters.set_source("pending retry " + std::to_string(retry.id));
    try {
      impl_->run_retry(retry);
    } catch (const std::exception& e) {
      impl_->emitted.clear();
      store::DeadLetter letter;
      letter.reason = "internal_error";
      letter.message = std::string("running a retry: ") + e.what();
      letter.account_key = retry.account_key;
      letter.route = retry.route;
      letter.topic = retry.topic;
      letter.input = retry.event;
      impl_->dead_letters.record(std::move(letter));
    }
  }
  return due.size();
}

void Dispatcher::end_batch() {
  impl_->dead_letters.flush_repeats();
}

void Dispatcher::flush_suppressed_logs() {
  impl_->dead_letters.flush_suppressed();
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
