#include "dispatch/message_ledger.hpp"

#include <spdlog/spdlog.h>

#include "event/body_fields.hpp"
#include "event/envelope_decoder.hpp"

namespace vumi::dispatch {

namespace bj = boost::json;

namespace {

// obj[key] as a string, when it is one.
std::optional<std::string_view> string_member(const bj::object* obj, std::string_view key) {
  if (!obj) return std::nullopt;
  const bj::value* v = event::find_member(*obj, key);
  if (!v || !v->is_string()) return std::nullopt;
  return event::string_of(*v);
}

const bj::object* object_member(const bj::object* obj, std::string_view key) {
  if (!obj) return nullptr;
  const bj::value* v = event::find_member(*obj, key);
  return v ? v->if_object() : nullptr;
}

}  // namespace

void record_message_ledger(store::StateStore& store, const store::MessageLedgerEntry& entry) {
  const Expected<void> recorded = store.message_ledger_put(entry);
  if (!recorded)
    spdlog::error(
        "message ledger: cannot record {} message {}: {} (its transport events and replies will "
        "not find their conversation)",
        entry.direction, entry.message_id, recorded.error().message);
}

std::optional<store::MessageLedgerEntry> ledger_entry_for_publish(std::string_view topic,
                                                                  const bj::object& body,
                                                                  const event::Envelope& event,
                                                                  const Account& account) {
  auto message_id = string_member(&body, "message_id");
  if (!message_id || message_id->empty()) return std::nullopt;
  store::MessageLedgerEntry entry;
  entry.message_id = std::string(*message_id);
  entry.account_key = account.key;
  const bj::object* helper = object_member(&body, "helper_metadata");
  if (helper && event::find_member(*helper, "tag", true)) {
    auto tag = event::read_message_tag(body);
    if (tag) entry.tag = std::move(tag).value();
  }
  if (topic.starts_with("conversation.")) {
    // conversation.<type>.<key>: an inbound message routed there; a reply names it in in_reply_to.
    std::string_view rest = topic.substr(std::string_view("conversation.").size());
    std::size_t dot = rest.find('.');
    entry.direction = kMessageLedgerInbound;
    entry.conversation_type = std::string(rest.substr(0, dot));
    entry.conversation_key = std::string(rest.substr(dot + 1));
    if (entry.tag.empty() && event.conversation_type == "transport")
      entry.tag = std::string(event.conversation_key);
    return entry;
  }
  entry.direction = kMessageLedgerOutbound;
  const bj::object* go = object_member(helper, "go");
  auto key = string_member(go, "conversation_key");
  if (key && !key->empty() && *key != event.conversation_key) {
    entry.conversation_key = std::string(*key);
    if (auto type = string_member(go, "conversation_type"))
      entry.conversation_type = std::string(*type);
    else if (auto declared = account.conversations->find(*key); declared != account.conversations->end())
      entry.conversation_type = declared->second;
    else
      entry.conversation_type = std::string(event.conversation_type);
  } else {
    entry.conversation_type = std::string(event.conversation_type);
    entry.conversation_key = std::string(event.conversation_key);
  }
  if (entry.tag.empty() && event.conversation_type == "transport")
    entry.tag = std::string(event.conversation_key);
  return entry;
}

}  // namespace vumi::dispatch
