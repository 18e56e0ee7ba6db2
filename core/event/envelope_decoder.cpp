#include "event/envelope_decoder.hpp"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>
#include <chrono>
#include <exception>
#include <string>
#include <utility>

#include "common/identifier.hpp"
#include "common/json.hpp"
#include "event/body_fields.hpp"
#include "event/body_parser.hpp"
#include "event/event_identity.hpp"
#include "event/event_scan.hpp"
#include "event/ingest_topic.hpp"

namespace vumi::event {

namespace bj = boost::json;

namespace {

// The fields of an event body, pointing into the parsed object so they can be moved out of it.
struct EventFields {
  bj::value* account_key = nullptr;
  bj::value* conversation_key = nullptr;
  bj::value* conversation_type = nullptr;  // null when absent
  bj::value* event_type = nullptr;
  bj::value* event_data = nullptr;  // event_data, or vumi-go's content
  bj::value* event_id = nullptr;    // null when absent
  bj::value* timestamp = nullptr;   // null when absent
};

// Checks size and emptiness, parses once, and requires an object. `what` names the text in messages.
std::optional<Rejection> parse_object(std::string_view text, const DecodeLimits& limits,
                                      std::string_view what, bj::value& out, bj::storage_ptr storage = {}) {
  if (text.empty()) return Rejection{Reason::bad_frames, "the " + std::string(what) + " is empty"};
  if (text.size() > limits.max_body_bytes)
    return Rejection{Reason::too_large, "the " + std::string(what) + " is " + std::to_string(text.size()) +
                                            " bytes; the limit is " + std::to_string(limits.max_body_bytes)};
  if (auto r = parse_body(text, limits, out, std::move(storage))) return r;
  if (!out.is_object())
    return Rejection{Reason::not_object, "the " + std::string(what) + " must be a JSON object, got " +
                                             std::string(json::type_name(out))};
  return std::nullopt;
}

Rejection topic_mismatch(std::string_view field, std::string_view topic_says, std::string_view body_says) {
  return {Reason::topic_mismatch, "topic says " + std::string(field) + " " + quoted_excerpt(topic_says) +
                                      ", body says " + quoted_excerpt(body_says)};
}

std::optional<Rejection> required_identifier(bj::object& obj, std::string_view name, bj::value*& out) {
  out = find_member(obj, name);
  if (!out) return missing_field(name);
  return expect_identifier(*out, name);
}

std::optional<Rejection> optional_identifier(bj::object& obj, std::string_view name, bj::value*& out) {
  out = find_member(obj, name, true);
  if (!out) return std::nullopt;
  return expect_identifier(*out, name);
}

std::optional<Rejection> read_event_fields(bj::object& obj, EventFields& f) {
  if (auto r = required_identifier(obj, "account_key", f.account_key)) return r;
  if (auto r = required_identifier(obj, "conversation_key", f.conversation_key)) return r;
  if (auto r = required_identifier(obj, "event_type", f.event_type)) return r;
  if (auto r = optional_identifier(obj, "conversation_type", f.conversation_type)) return r;
  // vumi-go workers send the event's data as `content`; event_data wins when both are present.
  std::string_view data_name = "event_data";
  f.event_data = find_member(obj, data_name);
  if (!f.event_data) {
    data_name = "content";
    f.event_data = find_member(obj, data_name);
  }
  if (!f.event_data) return missing_field("event_data");
  if (auto r = expect_object(*f.event_data, data_name)) return r;
  if (auto r = optional_identifier(obj, "event_id", f.event_id)) return r;
  f.timestamp = find_member(obj, "timestamp", true);
  if (f.timestamp)
    if (auto r = expect_string(*f.timestamp, "timestamp")) return r;
  return std::nullopt;
}

// Wraps a normalised body (the fields of envelope.hpp) and points the views into it. The body is
// final here: the views stay valid because nothing mutates it afterwards.
Envelope seal(bj::value&& normalised, std::uint32_t depth) {
  Envelope envelope(std::move(normalised));
  const bj::object& body = envelope.body().get_object();
  envelope.account_key = string_of(body.at("account_key"));
  envelope.conversation_key = string_of(body.at("conversation_key"));
  envelope.conversation_type = string_of(body.at("conversation_type"));
  envelope.event_type = string_of(body.at("event_type"));
  envelope.event_id = string_of(body.at("event_id"));
  envelope.depth = depth;
  return envelope;
}

Decoded decode_event(const IngestTopic& topic, std::string_view text, const DecodeLimits& limits,
                     const AccountDirectory* accounts, const bj::storage_ptr& storage,
                     std::string_view event_id_if_absent) {
  bj::value parsed(storage);  // same resource as the parse, so the result moves in
  if (auto r = parse_object(text, limits, "body", parsed, storage)) return *r;
  bj::object& obj = parsed.get_object();
  EventFields f;
  if (auto r = read_event_fields(obj, f)) return *r;

  std::string_view account = string_of(*f.account_key);
  if (account != topic.parts[0]) return topic_mismatch("account_key", topic.parts[0], account);
  if (accounts && !accounts->has_account(account))
    return Rejection{Reason::unknown_account,
                     "account_key " + quoted_excerpt(account) + " is not configured"};

  std::string_view conversation_key = string_of(*f.conversation_key);
  bj::value conversation_type(obj.storage());  // set when taken from the account or the topic
  if (f.conversation_type) {
    // kept in place
  } else if (auto declared =
                 accounts ? accounts->conversation_type(account, conversation_key) : std::nullopt) {
    conversation_type = bj::string(bj::string_view(declared->data(), declared->size()));
  } else {
    // vumi-go's VumiApiEvent has no conversation_type; the topic names it, so an undeclared
    // conversation is routed by the topic's type.
    conversation_type = bj::string(bj::string_view(topic.parts[1].data(), topic.parts[1].size()));
  }
  std::string_view type =
      f.conversation_type ? string_of(*f.conversation_type) : string_of(conversation_type);
  if (type != topic.parts[1]) return topic_mismatch("conversation_type", topic.parts[1], type);
  if (string_of(*f.event_type) != topic.parts[2])
    return topic_mismatch("event_type", topic.parts[2], string_of(*f.event_type));

  // The normalised body, in the order of envelope.hpp; values move (the same resource), no copies.
  bj::object normalised(obj.storage());
  normalised.reserve(7);
  normalised.emplace("account_key", std::move(*f.account_key));
  normalised.emplace("conversation_key", std::move(*f.conversation_key));
  normalised.emplace("conversation_type",
                     f.conversation_type ? std::move(*f.conversation_type) : std::move(conversation_type));
  normalised.emplace("event_type", std::move(*f.event_type));
  const bool random_event_id = f.event_id == nullptr && event_id_if_absent.empty();
  if (f.event_id)
    normalised.emplace("event_id", std::move(*f.event_id));
  else if (random_event_id)
    normalised.emplace("event_id", fresh_event_id());
  else
    normalised.emplace("event_id", bj::string_view(event_id_if_absent.data(), event_id_if_absent.size()));
  if (f.timestamp)
    normalised.emplace("timestamp", std::move(*f.timestamp));
  else
    normalised.emplace("timestamp", vumi_timestamp_now());
  normalised.emplace("event_data", std::move(*f.event_data));
  Envelope sealed = seal(bj::value(std::move(normalised)), 0);
  sealed.random_event_id = random_event_id;
  return sealed;
}

// The fast path (event_scan.hpp): a worker event with nothing the scan gave up on, and that passes
// every check below, becomes an Envelope whose body is built only if something reads it. nullopt:
// the full path decides, with the same checks and their rejections.
std::optional<Envelope> decode_event_fast(const IngestTopic& topic, std::string_view text,
                                          const DecodeLimits& limits, const AccountDirectory* accounts,
                                          const bj::storage_ptr& storage,
                                          std::string_view event_id_if_absent) {
  if (text.empty() || text.size() > limits.max_body_bytes) return std::nullopt;
  // Envelope::json() writes the parts as they are; an id that is not an identifier takes the full path.
  if (!event_id_if_absent.empty() && !is_identifier(event_id_if_absent)) return std::nullopt;
  // The body's account, conversation type (when present) and event type equal the topic's.
  const TopicFields topic_fields{topic.parts[0], topic.parts[1], topic.parts[2]};
  std::optional<ScannedEvent> scanned = scan_worker_event(text, limits, &topic_fields);
  if (!scanned) return std::nullopt;
  const ScannedEvent& s = *scanned;
  if (accounts && !accounts->has_account(s.account_key)) return std::nullopt;
  std::string_view type = s.conversation_type;
  if (!type.data()) {
    auto declared = accounts ? accounts->conversation_type(s.account_key, s.conversation_key) : std::nullopt;
    type = declared ? *declared : topic.parts[1];
    if (type != topic.parts[1]) return std::nullopt;
  }

  EnvelopeParts parts{s.account_key, s.conversation_key, type,         s.event_type,
                      s.event_id,    s.timestamp,        s.event_data, {}};
  char fresh_id[32];
  const bool random_event_id = !s.event_id.data() && event_id_if_absent.empty();
  if (random_event_id) {
    write_fresh_event_id(fresh_id);
    parts.event_id = {fresh_id, sizeof fresh_id};
  } else if (!s.event_id.data()) {
    parts.event_id = event_id_if_absent;
  }
  if (!s.timestamp.data()) parts.arrived = std::chrono::system_clock::now();
  Envelope envelope(parts, storage);
  envelope.random_event_id = random_event_id;
  return envelope;
}

std::optional<Rejection> string_or_null(const bj::object& obj, std::string_view name) {
  const bj::value* v = find_member(obj, name);
  if (!v) return missing_field(name);
  if (!v->is_string() && !v->is_null()) return wrong_type(name, "a string or null", *v);
  return std::nullopt;
}

}  // namespace

Expected<std::string, Rejection> read_message_tag(const bj::object& message) {
  constexpr std::string_view path = "helper_metadata.tag.tag";
  const bj::value* helper_metadata = find_member(message, "helper_metadata");
  if (!helper_metadata) return missing_field(path);
  if (auto r = expect_object(*helper_metadata, "helper_metadata")) return *r;
  const bj::value* tag_info = find_member(helper_metadata->get_object(), "tag");
  if (!tag_info) return missing_field(path);
  if (auto r = expect_object(*tag_info, "helper_metadata.tag")) return *r;
  const bj::value* pair = find_member(tag_info->get_object(), "tag");
  if (!pair) return missing_field(path);
  if (!pair->is_array() || pair->get_array().size() != 2) {
    std::string got(json::type_name(*pair));
    if (pair->is_array()) got += " of " + std::to_string(pair->get_array().size()) + " elements";
    return Rejection{Reason::wrong_type, std::string(path) + " must be an array [pool, tag], got " + got};
  }
  std::string tag;
  for (std::size_t i = 0; i < 2; ++i) {
    const bj::value& part = pair->get_array()[i];
    std::string part_path = json::index_path(path, i);
    if (!part.is_string()) return wrong_type(part_path, "a string", part);
    auto checked = i == 0 ? check_tag_pool(string_of(part)) : check_tag_name(string_of(part));
    if (!checked)
      return Rejection{Reason::bad_identifier,
                       part_path + " " + quoted_excerpt(string_of(part)) + " " + checked.error().message};
    if (i == 1) tag += ':';
    tag += string_of(part);
  }
  return tag;
}

namespace {

Decoded decode_inbound(const IngestTopic& topic, std::string_view text, const DecodeLimits& limits,
                       const bj::storage_ptr& storage) {
  bj::value parsed(storage);  // same resource as the parse, so the result moves in
  if (auto r = parse_object(text, limits, "body", parsed, storage)) return *r;
  bj::object& obj = parsed.get_object();
  const bj::value* message_id = find_member(obj, "message_id");
  if (!message_id) return missing_field("message_id");
  if (auto r = expect_string(*message_id, "message_id")) return *r;
  if (auto r = string_or_null(obj, "to_addr")) return *r;
  if (auto r = string_or_null(obj, "from_addr")) return *r;
  std::string_view transport_name = topic.parts[0];
  if (const bj::value* named = find_member(obj, "transport_name")) {
    if (auto r = expect_string(*named, "transport_name")) return *r;
    if (string_of(*named) != transport_name)
      return topic_mismatch("transport_name", transport_name, string_of(*named));
  }
  auto tag = read_message_tag(obj);
  if (!tag) return std::move(tag).error();

  // The topic names the transport; a message without transport_name gets it in its body so the
  // view below never points into the caller's topic bytes.
  if (!obj.contains("transport_name"))
    obj.emplace("transport_name", bj::string_view(transport_name.data(), transport_name.size()));
  InboundMessage message(std::move(parsed));
  message.raw = text;
  message.transport_name = string_of(message.body.get_object().at("transport_name"));
  message.tag = std::move(tag).value();
  return message;
}

// A vumi TransportEvent: message_type "event", event_type ack / nack / delivery_report with its
// extra field, user_message_id and event_id strings (vumi/message.py TransportEvent).
Decoded decode_transport_event(const IngestTopic& topic, std::string_view text, const DecodeLimits& limits,
                               const bj::storage_ptr& storage) {
  bj::value parsed(storage);
  if (auto r = parse_object(text, limits, "body", parsed, storage)) return *r;
  const bj::object& obj = parsed.get_object();
  const bj::value* message_type = find_member(obj, "message_type");
  if (!message_type) return missing_field("message_type");
  if (auto r = expect_string(*message_type, "message_type")) return *r;
  if (string_of(*message_type) != "event")
    return Rejection{Reason::wrong_type, "message_type is " + quoted_excerpt(string_of(*message_type)) +
                                             "; a transport event has \"event\""};
  for (std::string_view name : {"user_message_id", "event_id", "event_type"}) {
    const bj::value* v = find_member(obj, name);
    if (!v) return missing_field(name);
    if (auto r = expect_string(*v, name)) return *r;
  }
  std::string_view event_type = string_of(*find_member(obj, "event_type"));
  std::string_view extra = event_type == "ack"               ? "sent_message_id"
                           : event_type == "nack"            ? "nack_reason"
                           : event_type == "delivery_report" ? "delivery_status"
                                                             : "";
  if (extra.empty())
    return Rejection{Reason::bad_identifier, "event_type " + quoted_excerpt(event_type) +
                                                 " is not a transport event (ack, nack or delivery_report)"};
  if (!find_member(obj, extra)) return missing_field(extra);
  if (const bj::value* named = find_member(obj, "transport_name", true)) {
    if (auto r = expect_string(*named, "transport_name")) return *r;
    if (string_of(*named) != topic.parts[0])
      return topic_mismatch("transport_name", topic.parts[0], string_of(*named));
  }
  TransportEvent event(std::move(parsed));
  event.raw = text;
  event.transport_name = std::string(topic.parts[0]);
  event.user_message_id = string_of(event.body.get_object().at("user_message_id"));
  event.event_type = string_of(event.body.get_object().at("event_type"));
  return event;
}

// A conversation's outbound user_message: message_id a string, to_addr a string or null, and
// message_type, when present, "user_message". The tag and ownership are checked by the dispatcher.
Decoded decode_conversation_outbound(const IngestTopic& topic, std::string_view text,
                                     const DecodeLimits& limits, const bj::storage_ptr& storage) {
  bj::value parsed(storage);
  if (auto r = parse_object(text, limits, "body", parsed, storage)) return *r;
  const bj::object& obj = parsed.get_object();
  const bj::value* message_id = find_member(obj, "message_id");
  if (!message_id) return missing_field("message_id");
  if (auto r = expect_string(*message_id, "message_id")) return *r;
  if (auto r = string_or_null(obj, "to_addr")) return *r;
  if (const bj::value* type = find_member(obj, "message_type", true)) {
    if (auto r = expect_string(*type, "message_type")) return *r;
    if (string_of(*type) != "user_message")
      return Rejection{Reason::wrong_type, "message_type is " + quoted_excerpt(string_of(*type)) +
                                               "; a conversation sends a \"user_message\""};
  }
  ConversationOutbound message(std::move(parsed));
  message.raw = text;
  message.conversation_type = std::string(topic.parts[0]);
  message.conversation_key = std::string(topic.parts[1]);
  return message;
}

Decoded decode_command(const IngestTopic& topic, std::string_view text, const DecodeLimits& limits,
                       const bj::storage_ptr& storage) {
  bj::value parsed(storage);  // same resource as the parse, so the result moves in
  if (auto r = parse_object(text, limits, "body", parsed, storage)) return *r;
  return Command{std::string(topic.parts[0]), text};
}

Decoded decode_unguarded(std::string_view topic_text, std::string_view body, const DecodeLimits& limits,
                         const AccountDirectory* accounts, const bj::storage_ptr& storage,
                         std::string_view event_id_if_absent) {
  auto topic = parse_ingest_topic(topic_text);
  if (!topic) return std::move(topic).error();
  const IngestTopic& parsed = *topic;
  switch (parsed.kind) {
    case IngestTopic::Kind::event:
      if (auto fast = decode_event_fast(parsed, body, limits, accounts, storage, event_id_if_absent))
        return std::move(*fast);
      return decode_event(parsed, body, limits, accounts, storage, event_id_if_absent);
    case IngestTopic::Kind::inbound:
      return decode_inbound(parsed, body, limits, storage);
    case IngestTopic::Kind::command:
      return decode_command(parsed, body, limits, storage);
    case IngestTopic::Kind::transport_event:
      return decode_transport_event(parsed, body, limits, storage);
    case IngestTopic::Kind::conversation_outbound:
      return decode_conversation_outbound(parsed, body, limits, storage);
  }
  return Rejection{Reason::bad_topic, "unhandled topic kind"};
}

// The one exception decoding can meet is running out of memory; it becomes a rejection so that
// one message never takes the dispatcher down.
Rejection out_of_memory(const std::exception& e) {
  return {Reason::too_large, std::string("ran out of memory decoding it (") + e.what() + ")"};
}

}  // namespace

EnvelopeDecoder::EnvelopeDecoder(DecodeLimits limits, const AccountDirectory* accounts)
    : limits_(limits), accounts_(accounts) {}

// (storage goes by value, the Boost.JSON idiom for a storage_ptr)
Decoded EnvelopeDecoder::decode(
    std::string_view topic, std::string_view body,
    boost::json::storage_ptr storage,  // NOLINT(performance-unnecessary-value-param)
    std::string_view event_id_if_absent) const {
  try {
    return decode_unguarded(topic, body, limits_, accounts_, storage, event_id_if_absent);
  } catch (const std::exception& e) {
    return out_of_memory(e);
  }
}

Expected<Envelope, Rejection> EnvelopeDecoder::make_emitted(const Envelope& parent,
                                                            std::string_view event_json,
                                                            std::string_view event_id) const {
  try {
    bj::value parsed(parent.storage());
    if (auto r = parse_object(event_json, limits_, "emitted event", parsed, parent.storage())) return *r;
    bj::object& obj = parsed.get_object();
    bj::value* event_type = nullptr;
    bj::value* conversation_key = nullptr;
    bj::value* conversation_type = nullptr;
    if (auto r = required_identifier(obj, "event_type", event_type)) return *r;
    if (auto r = optional_identifier(obj, "conversation_key", conversation_key)) return *r;
    if (auto r = optional_identifier(obj, "conversation_type", conversation_type)) return *r;
    if (const bj::value* account = find_member(obj, "account_key", true)) {
      if (auto r = expect_string(*account, "account_key")) return *r;
      if (string_of(*account) != parent.account_key)
        return Rejection{Reason::unknown_account,
                         "account_key " + quoted_excerpt(string_of(*account)) +
                             ": a handler can only emit events for its own account " +
                             quoted_excerpt(parent.account_key)};
    }
    bj::value* event_data = find_member(obj, "event_data");
    if (event_data)
      if (auto r = expect_object(*event_data, "event_data")) return *r;

    std::string_view key = conversation_key ? string_of(*conversation_key) : parent.conversation_key;
    bj::value type;
    if (conversation_type) {
      type = std::move(*conversation_type);
    } else {
      // A conversation's type is declared per account: an event about another of the account's
      // conversations takes that conversation's type, not the parent's.
      std::optional<std::string_view> declared;
      if (key != parent.conversation_key && accounts_)
        declared = accounts_->conversation_type(parent.account_key, key);
      std::string_view chosen = declared && is_identifier(*declared) ? *declared : parent.conversation_type;
      type = bj::string(bj::string_view(chosen.data(), chosen.size()));
    }

    const std::uint32_t depth = parent.depth + 1;
    bj::object normalised(parent.storage());
    normalised.reserve(9);
    normalised.emplace("account_key", bj::string_view(parent.account_key.data(), parent.account_key.size()));
    normalised.emplace("conversation_key", bj::string_view(key.data(), key.size()));
    normalised.emplace("conversation_type", std::move(type));
    normalised.emplace("event_type", std::move(*event_type));
    if (event_id.empty())
      normalised.emplace("event_id", fresh_event_id());
    else
      normalised.emplace("event_id", bj::string_view(event_id.data(), event_id.size()));
    normalised.emplace("timestamp", vumi_timestamp_now());
    normalised.emplace("event_data", event_data ? std::move(*event_data) : bj::value(bj::object()));
    normalised.emplace("causation_id", bj::string_view(parent.event_id.data(), parent.event_id.size()));
    normalised.emplace("depth", depth);
    return seal(bj::value(std::move(normalised)), depth);
  } catch (const std::exception& e) {
    return out_of_memory(e);
  }
}

Expected<Envelope, Rejection> EnvelopeDecoder::restore(std::string_view normalised_json) const {
  try {
    bj::value parsed;
    // Our own output, so only the shape is checked; normalising may have added a few fields.
    DecodeLimits stored = limits_;
    stored.max_body_bytes += 64 * 1024;
    if (auto r = parse_object(normalised_json, stored, "stored event", parsed, {})) return *r;
    const bj::object& obj = parsed.get_object();
    for (std::string_view name :
         {"account_key", "conversation_key", "conversation_type", "event_type", "event_id"}) {
      const bj::value* field = obj.if_contains(name);
      if (!field || !field->is_string())
        return Rejection{Reason::missing_field, "stored event has no string " + std::string(name)};
    }
    const bj::value* data = obj.if_contains("event_data");
    if (!data || !data->is_object())
      return Rejection{Reason::wrong_type, "stored event has no object event_data"};
    std::uint32_t depth = 0;
    if (const bj::value* d = obj.if_contains("depth"); d && d->is_int64() && d->as_int64() >= 0)
      depth = static_cast<std::uint32_t>(d->as_int64());
    else if (d && d->is_uint64())
      depth = static_cast<std::uint32_t>(d->as_uint64());
    return seal(std::move(parsed), depth);
  } catch (const std::exception& e) {
    return out_of_memory(e);
  }
}

Envelope EnvelopeDecoder::make_inbound_event(std::string_view account_key, InboundMessage&& message,
                                             std::string_view event_id_if_absent) const {
  std::string event_id;
  if (const bj::object* body = message.body.if_object()) {
    const bj::value* message_id = find_member(*body, "message_id");
    if (message_id && message_id->is_string() && is_identifier(string_of(*message_id)))
      event_id = string_of(*message_id);
  }
  const bool random_id = event_id.empty() && event_id_if_absent.empty();
  if (event_id.empty())
    event_id = event_id_if_absent.empty() ? fresh_event_id() : std::string(event_id_if_absent);

  bj::object normalised(message.body.storage());
  normalised.reserve(7);
  normalised.emplace("account_key", bj::string_view(account_key.data(), account_key.size()));
  normalised.emplace("conversation_key", message.tag);
  normalised.emplace("conversation_type", "transport");
  normalised.emplace("event_type", "inbound_message");
  normalised.emplace("event_id", event_id);
  normalised.emplace("timestamp", vumi_timestamp_now());
  normalised.emplace("event_data",
                     message.body.is_object() ? std::move(message.body) : bj::value(bj::object()));
  message.transport_name = {};
  Envelope sealed = seal(bj::value(std::move(normalised)), 0);
  sealed.random_event_id = random_id;
  sealed.raw_event_data = message.raw;
  return sealed;
}

Envelope EnvelopeDecoder::make_transport_event(std::string_view account_key,
                                               std::string_view conversation_type,
                                               std::string_view conversation_key,
                                               TransportEvent&& event) const {
  std::string event_id;
  const bj::object& body = event.body.get_object();
  if (const bj::value* id = find_member(body, "event_id");
      id && id->is_string() && is_identifier(string_of(*id)))
    event_id = string_of(*id);
  const bool random_id = event_id.empty();
  if (random_id) event_id = fresh_event_id();
  const std::string event_type(event.event_type);

  bj::object normalised(event.body.storage());
  normalised.reserve(7);
  normalised.emplace("account_key", bj::string_view(account_key.data(), account_key.size()));
  normalised.emplace("conversation_key", bj::string_view(conversation_key.data(), conversation_key.size()));
  normalised.emplace("conversation_type",
                     bj::string_view(conversation_type.data(), conversation_type.size()));
  normalised.emplace("event_type", event_type);
  normalised.emplace("event_id", event_id);
  normalised.emplace("timestamp", vumi_timestamp_now());
  normalised.emplace("event_data", std::move(event.body));
  event.user_message_id = {};
  event.event_type = {};
  Envelope sealed = seal(bj::value(std::move(normalised)), 0);
  sealed.random_event_id = random_id;
  sealed.raw_event_data = event.raw;
  return sealed;
}

}  // namespace vumi::event
