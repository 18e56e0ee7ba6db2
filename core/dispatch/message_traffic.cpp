#include "dispatch/message_traffic.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "common/identifier.hpp"
#include "common/raw_json.hpp"
#include "dispatch/message_ledger.hpp"
#include "event/body_fields.hpp"
#include "event/envelope_decoder.hpp"
#include "event/event_identity.hpp"
#include "shared/vumi_reply.hpp"

namespace vumi::dispatch {

namespace bj = boost::json;

namespace {

std::string quote(std::string_view s) {
  return event::quoted_excerpt(s);
}

// helper_metadata.go.user_account of a message, when it names one.
std::optional<std::string_view> named_account(const bj::object& message) {
  const bj::value* helper = event::find_member(message, "helper_metadata");
  const bj::value* go =
      helper && helper->is_object() ? event::find_member(helper->get_object(), "go") : nullptr;
  const bj::value* account =
      go && go->is_object() ? event::find_member(go->get_object(), "user_account") : nullptr;
  if (!account || !account->is_string()) return std::nullopt;
  return event::string_of(*account);
}

// True when the message has helper_metadata.tag (then it must be a valid tag).
bool names_tag(const bj::object& message) {
  const bj::value* helper = event::find_member(message, "helper_metadata");
  return helper && helper->is_object() && event::find_member(helper->get_object(), "tag", true);
}

// The object at obj[key], made an object when it is absent or something else.
bj::object& object_member(bj::object& obj, std::string_view key) {
  bj::value& member = obj[key];
  if (!member.is_object()) member = bj::object(obj.storage());
  return member.get_object();
}

}  // namespace

MessageTraffic::MessageTraffic(store::StateStore& store, OutboundSink& outbound, Counters& counters)
    : store_(store), outbound_(outbound), counters_(counters) {}

void MessageTraffic::send(std::string_view topic, std::string_view body) {
  outbound_.send(topic, body);
  ++counters_.published;
}

std::string MessageTraffic::transport_event_account(std::string_view user_message_id) {
  Expected<std::optional<store::MessageLedgerEntry>> sent =
      store_.message_ledger_get(user_message_id, kMessageLedgerOutbound);
  return sent && *sent ? std::move((*sent)->account_key) : std::string();
}

Expected<std::optional<event::Envelope>, event::Rejection> MessageTraffic::transport_event(
    const Runtime& runtime, event::TransportEvent&& event) {
  Expected<std::optional<store::MessageLedgerEntry>> found =
      store_.message_ledger_get(event.user_message_id, kMessageLedgerOutbound);
  if (!found)
    return event::Rejection{event::Reason::unknown_message,
                            "cannot look up user_message_id " + quote(event.user_message_id) +
                                " in the message ledger: " + found.error().message};
  if (!*found)
    return event::Rejection{
        event::Reason::unknown_message,
        std::string(event.event_type) + " for user_message_id " + quote(event.user_message_id) +
            ", which the message ledger does not hold (not sent by this dispatcher, or sent more than " +
            std::to_string(store::kMessageLedgerRetentionHours) + " hours ago)"};
  const store::MessageLedgerEntry& sent = **found;
  if (sent.account_key.empty()) {
    // A pool's reply to a tag no account owns: there is no conversation to tell.
    spdlog::debug("{} for unroutable reply {} dropped", event.event_type, event.user_message_id);
    ++counters_.unrouted;
    return std::optional<event::Envelope>();
  }
  if (!runtime.routes().account(sent.account_key))
    return event::Rejection{event::Reason::unknown_account,
                            std::string(event.event_type) + " for user_message_id " +
                                quote(event.user_message_id) + " of account " + quote(sent.account_key) +
                                ", which is no longer configured"};
  // As vumi-go does, the conversation that sent the message hears about it; a message sent on a
  // "transport" event (an auto-reply) has no conversation worker, and a tag never goes in a topic.
  if (sent.conversation_type != "transport" && is_identifier(sent.conversation_type) &&
      is_identifier(sent.conversation_key)) {
    topic_.assign("conversation.").append(sent.conversation_type).append(".").append(sent.conversation_key);
    send(topic_, event.raw);
  }
  return std::optional<event::Envelope>(runtime.decoder().make_transport_event(
      sent.account_key, sent.conversation_type, sent.conversation_key, std::move(event)));
}

std::optional<event::Rejection> MessageTraffic::conversation_outbound(
    const Runtime& runtime, const event::ConversationOutbound& message) {
  const std::string& type = message.conversation_type;
  const std::string& key = message.conversation_key;
  const Account* owner = runtime.routes().conversation_owner(type, key);
  if (!owner)
    return event::Rejection{event::Reason::unknown_conversation,
                            "conversation " + quote(key) + " of type " + quote(type) +
                                " is not declared by exactly one account's conversations"};
  const bj::object& body = message.body.get_object();
  if (auto named = named_account(body); named && *named != owner->key)
    return event::Rejection{event::Reason::unknown_account,
                            "helper_metadata.go.user_account is " + quote(*named) + ", but conversation " +
                                quote(key) + " belongs to account " + quote(owner->key)};

  // The tag: the message's own helper_metadata.tag, or, for a reply, the one the answered message
  // came in on (vumi's reply() copies helper_metadata, so usually both agree).
  std::string tag;
  std::string_view message_id = event::string_of(body.at("message_id"));
  if (names_tag(body)) {
    auto read = event::read_message_tag(body);
    if (!read) return std::move(read).error();
    tag = std::move(read).value();
  } else if (const bj::value* in_reply_to = event::find_member(body, "in_reply_to", true);
             in_reply_to && in_reply_to->is_string()) {
    Expected<std::optional<store::MessageLedgerEntry>> answered =
        store_.message_ledger_get(event::string_of(*in_reply_to), kMessageLedgerInbound);
    if (!answered)
      return event::Rejection{event::Reason::unknown_message,
                              "cannot look up in_reply_to " + quote(event::string_of(*in_reply_to)) +
                                  " in the message ledger: " + answered.error().message};
    if (!*answered || (*answered)->tag.empty())
      return event::Rejection{event::Reason::missing_field,
                              "helper_metadata.tag.tag: the message has no tag, and in_reply_to " +
                                  quote(event::string_of(*in_reply_to)) +
                                  " is no message routed to a conversation in the last " +
                                  std::to_string(store::kMessageLedgerRetentionHours) + " hours"};
    tag = std::move((*answered)->tag);
  } else {
    return event::Rejection{event::Reason::missing_field,
                            "helper_metadata.tag.tag (a new message names the tag it is sent on; a reply "
                            "may name the message it answers in in_reply_to instead)"};
  }
  if (runtime.routes().tag_owner(tag) != owner)
    return event::Rejection{event::Reason::unowned_tag,
                            "tag " + quote(tag) + " is not one of the tags of account " + quote(owner->key) +
                                ", which owns conversation " + quote(key)};
  const TagParts parts = split_tag(tag);
  const config::TagPoolSpec* pool = runtime.routes().tag_pool(parts.pool);
  if (!pool)
    return event::Rejection{event::Reason::no_tag_pool,
                            "tag " + quote(tag) + ": pool " + quote(parts.pool) +
                                " has no tag_pools entry, so its transport is unknown"};

  // Only what the dispatcher sets changes; everything else is written from the received bytes.
  bj::value sent = message.body;
  bj::object& out = sent.get_object();
  bj::object& helper = object_member(out, "helper_metadata");
  bj::object& go = object_member(helper, "go");
  go["user_account"] = owner->key;
  go["conversation_type"] = type;
  go["conversation_key"] = key;
  if (!helper.contains("tag"))
    helper["tag"] = bj::object{{"tag", bj::array{bj::string_view(parts.pool.data(), parts.pool.size()),
                                                 bj::string_view(parts.name.data(), parts.name.size())}}};
  out["transport_name"] = pool->transport_name;
  if (pool->transport_type) out["transport_type"] = *pool->transport_type;
  const std::string text = json::respell(sent, message.body, message.raw);

  record_message_ledger(store_,
                        {std::string(message_id), kMessageLedgerOutbound, owner->key, type, key, tag, {}});
  topic_.assign("outbound.").append(pool->transport_name);
  send(topic_, text);
  return std::nullopt;
}

void MessageTraffic::reply_unroutable(const Runtime& runtime, const event::InboundMessage& message) {
  const TagParts parts = split_tag(message.tag);
  const config::TagPoolSpec* pool = runtime.routes().tag_pool(parts.pool);
  if (!pool || !pool->reply_to_unroutable) return;
  const bj::object& body = message.body.get_object();
  const bj::value* from_addr = event::find_member(body, "from_addr");
  if (!from_addr || !from_addr->is_string() || from_addr->get_string().empty()) {
    spdlog::warn("no reply_to_unroutable for message on unowned tag {}: it has no from_addr", message.tag);
    return;
  }
  // vumi-go's unroutable reply: reply(content, continue_session=False), out on the pool's transport.
  const std::string reply_id = event::fresh_event_id();
  bj::object reply =
      vumi_plugins::vumi_reply(body, *pool->reply_to_unroutable, reply_id, event::vumi_timestamp_now(), true);
  reply["transport_name"] = pool->transport_name;
  record_message_ledger(store_,
                        {reply_id, kMessageLedgerOutbound, "", "transport", message.tag, message.tag, {}});
  topic_.assign("outbound.").append(pool->transport_name);
  send(topic_, bj::serialize(reply));
}

}  // namespace vumi::dispatch
