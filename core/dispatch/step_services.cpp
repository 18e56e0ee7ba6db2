#include "dispatch/step_services.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <optional>

#include "common/derived_id.hpp"
#include "common/identifier.hpp"
#include "common/json.hpp"
#include "common/raw_json.hpp"
#include "dispatch/message_ledger.hpp"
#include "store/store_values.hpp"

namespace vumi::dispatch {

namespace {

// Parses a plugin-supplied JSON object; false when it is not one.
bool parse_object(std::string_view text, boost::json::value& out) {
  json::ParseError err;
  return json::parse(text, {}, out, err) && out.is_object();
}

// Splits "a.b.c" at its dots into at most n identifier parts; false when the shape differs.
bool identifier_parts(std::string_view rest, std::size_t n, std::string_view* parts) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t dot = i + 1 < n ? rest.find('.') : std::string_view::npos;
    if (i + 1 < n && dot == std::string_view::npos) return false;
    parts[i] = rest.substr(0, dot);
    if (!is_identifier(parts[i])) return false;
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  }
  return true;
}

// Why a handler running for `account` may not publish on topic, or nullopt when it may. A handler
// reaches transports (outbound.<transport>), its own account's conversations and its own account's
// events, never another account's (account is null outside an event: outbound only).
std::optional<std::string> publish_refusal(std::string_view topic, const Account* account) {
  const std::string who = account ? "account \"" + account->key + "\"" : std::string("no account");
  std::string_view parts[3];
  if (topic.starts_with("outbound.")) {
    if (identifier_parts(topic.substr(9), 1, parts)) return std::nullopt;
    return "expected outbound.<transport_name>";
  }
  if (topic.starts_with("conversation.")) {
    if (!identifier_parts(topic.substr(13), 2, parts)) return "expected conversation.<type>.<key>";
    if (account) {
      auto found = account->conversations->find(parts[1]);
      if (found != account->conversations->end() && found->second == parts[0]) return std::nullopt;
    }
    return "conversation " + std::string(parts[0]) + "." + std::string(parts[1]) + " is not declared by " +
           who + " (a handler publishes only to its own account's conversations)";
  }
  if (topic.starts_with("command.")) {  // a VumiApiCommand to a worker (vumi_command)
    if (identifier_parts(topic.substr(8), 1, parts)) return std::nullopt;
    return "expected command.<worker_name>";
  }
  if (topic.starts_with("event.")) {
    if (!identifier_parts(topic.substr(6), 3, parts))
      return "expected event.<account_key>.<conversation_type>.<event_type>";
    if (account && parts[0] == account->key) return std::nullopt;
    return "event topics of account \"" + std::string(parts[0]) + "\" are out of reach of " + who;
  }
  return "a handler may publish only on outbound.<transport>, conversation.<type>.<key> of its account, "
         "command.<worker> or event.<its account>.<type>.<event_type>";
}

// True when body carries the same message_id as the message being handled.
bool same_message(const boost::json::value& body, const boost::json::object& handled) {
  const boost::json::value* id = body.get_object().if_contains("message_id");
  const boost::json::value* handled_id = handled.if_contains("message_id");
  return id && handled_id && id->is_string() && *id == *handled_id;
}

}  // namespace

StepServices::StepServices(store::StateStore& store, OutboundSink& outbound, Counters& counters,
                           std::deque<event::Envelope>& emitted)
    : store_(store), outbound_(outbound), counters_(counters), emitted_(emitted) {}

void StepServices::begin_event(const event::EnvelopeDecoder& decoder, const event::Envelope& event,
                               const Account& account) {
  decoder_ = &decoder;
  event_ = &event;
  account_ = &account;
  event_json_ready_ = false;
}

void StepServices::begin_step(std::string_view handler_type, std::size_t route_index,
                              std::size_t step_index) {
  route_index_ = route_index;
  step_index_ = step_index;
  ids_drawn_ = 0;
  events_emitted_ = 0;
  has_output_ = false;
  store_failure_.clear();
  returned_.clear();
  handler_type_ = handler_type;
}

std::string StepServices::route_path() const {
  return account_ ? config::route_path(account_->key, route_index_) : std::string();
}

vumi_view StepServices::hand_back(std::string text) {
  const std::string& kept = returned_.emplace_back(std::move(text));
  return vumi_view{kept.data(), kept.size()};
}

vumi_status StepServices::set_output(std::string_view json) {
  if (!parse_object(json, output_)) {
    spdlog::warn("set_output: output is not a JSON object: {:.200}", json);
    return VUMI_ERR_INVALID_ARGUMENT;
  }
  has_output_ = true;
  return VUMI_OK;
}

vumi_status StepServices::event_json(vumi_view* out) {
  if (!event_) return VUMI_ERR_UNAVAILABLE;
  if (!event_json_ready_) {
    event_json_ = event_->json();
    event_json_ready_ = true;
  }
  *out = vumi_view{event_json_.data(), event_json_.size()};
  return VUMI_OK;
}

vumi_status StepServices::emit_event(std::string_view event_json) {
  if (!event_) return VUMI_ERR_UNAVAILABLE;
  const std::string id = derived_id({event_->event_id, route_path(), std::to_string(step_index_),
                                     "emit_event", std::to_string(events_emitted_++)});
  auto made = decoder_->make_emitted(*event_, event_json, id);
  if (!made) {
    spdlog::warn("emit_event refused for account {}: {}", event_->account_key, made.error().text());
    return VUMI_ERR_INVALID_ARGUMENT;
  }
  // Depth is checked when the event's turn comes, so a refused event is one dead letter.
  emitted_.push_back(std::move(made).value());
  ++counters_.emitted;
  return VUMI_OK;
}

vumi_status StepServices::publish(std::string_view topic, std::string_view body_json) {
  if (auto refusal = publish_refusal(topic, account_)) {
    spdlog::warn("publish refused: topic \"{:.200}\": {}", topic, *refusal);
    return VUMI_ERR_INVALID_ARGUMENT;
  }
  boost::json::value body;
  if (!parse_object(body_json, body)) {
    spdlog::warn("publish refused on {}: body is not a JSON object", topic);
    return VUMI_ERR_INVALID_ARGUMENT;
  }
  const bool user_message = topic.starts_with("outbound.") || topic.starts_with("conversation.");
  // A step passing on the message it handles (tag_router) gets it back byte for byte apart from what
  // it changed: the plugin saw Boost.JSON's spelling of numbers, the transport sees the sender's.
  std::string respelled;
  if (user_message && event_ && !event_->raw_event_data.empty() && same_message(body, event_->event_data())) {
    respelled = json::respell(body, event_->body().get_object().at("event_data"), event_->raw_event_data);
    body_json = respelled;
  }
  if (user_message && event_ && account_)
    if (auto entry = ledger_entry_for_publish(topic, body.get_object(), *event_, *account_))
      record_message_ledger(store_, *entry);
  outbound_.send(topic, body_json);
  ++counters_.published;
  return VUMI_OK;
}

vumi_status StepServices::store_failed(const Error& error, std::string_view what) {
  spdlog::error("{} failed for account {}: {}", what, event_->account_key, error.message);
  if (store::is_transient(error)) store_failure_ = error.message;
  return VUMI_ERR_INTERNAL;
}

vumi_status StepServices::contact_result(const Expected<std::optional<store::Contact>>& contact,
                                         std::string_view what, vumi_view* out) {
  if (!contact) return store_failed(contact.error(), what);
  if (!*contact) return VUMI_ERR_NOT_FOUND;
  *out = hand_back(boost::json::serialize((*contact)->to_json()));
  return VUMI_OK;
}

vumi_status StepServices::contact_get(std::string_view key, vumi_view* out) {
  if (!event_) return VUMI_ERR_UNAVAILABLE;
  return contact_result(store_.contact_get(event_->account_key, key), "contact_get", out);
}

vumi_status StepServices::contact_find_by_msisdn(std::string_view msisdn, vumi_view* out) {
  if (!event_) return VUMI_ERR_UNAVAILABLE;
  return contact_result(store_.contact_find_by_msisdn(event_->account_key, msisdn), "contact_find_by_msisdn",
                        out);
}

vumi_status StepServices::contact_upsert(std::string_view contact_json, vumi_view* out, int* created) {
  if (!event_) return VUMI_ERR_UNAVAILABLE;
  boost::json::value fields;
  if (!parse_object(contact_json, fields)) return VUMI_ERR_INVALID_ARGUMENT;
  // The plugin's mistake, not the host's: said as invalid_argument before the store is asked.
  if (std::string problem = store::contact_fields_problem(fields.as_object()); !problem.empty()) {
    spdlog::warn("contact_upsert refused for account {}: {}", event_->account_key, problem);
    return VUMI_ERR_INVALID_ARGUMENT;
  }
  Expected<store::UpsertedContact> upserted = store_.contact_upsert(event_->account_key, fields.as_object());
  if (created) *created = upserted && upserted->created ? 1 : 0;
  if (!upserted) return store_failed(upserted.error(), "contact_upsert");
  *out = hand_back(boost::json::serialize(upserted->contact.to_json()));
  return VUMI_OK;
}

vumi_status StepServices::inbox_put(std::string_view message_json, std::int64_t* out_id) {
  if (!event_) return VUMI_ERR_UNAVAILABLE;
  boost::json::value message;
  if (!parse_object(message_json, message)) return VUMI_ERR_INVALID_ARGUMENT;
  Expected<std::int64_t> id = store_.inbox_put(event_->account_key, message);
  if (!id) return store_failed(id.error(), "inbox_put");
  *out_id = *id;
  return VUMI_OK;
}

vumi_status StepServices::account_json(vumi_view* out) {
  if (!account_) return VUMI_ERR_UNAVAILABLE;
  const std::string& text = account_->context_json();
  *out = vumi_view{text.data(), text.size()};
  return VUMI_OK;
}

bool StepServices::new_id(char out[33]) {
  if (!event_) return false;
  const std::string id = derived_id(
      {event_->event_id, route_path(), std::to_string(step_index_), "new_id", std::to_string(ids_drawn_++)});
  id.copy(out, 32);
  out[32] = '\0';
  return true;
}

void StepServices::metric_add(std::string_view name, std::int64_t delta) {
  std::string key(handler_type_);
  key += '.';
  key += name;
  metrics_[std::move(key)] += delta;
  counters_.plugin_metrics[{std::string(metric_plugin_), std::string(metric_handler_),
                            account_ ? account_->key : std::string(), std::string(name)}] += delta;
}

void StepServices::label_step(std::string_view plugin, std::string_view handler) {
  metric_plugin_ = plugin;
  metric_handler_ = handler;
}

}  // namespace vumi::dispatch
