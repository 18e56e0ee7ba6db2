#include "transport/access_policy.hpp"

#include <algorithm>

namespace vumi::transport {

namespace {

bool listed(bool all, const std::vector<std::string>& names, std::string_view name) {
  return all || std::find(names.begin(), names.end(), name) != names.end();
}

std::string list_text(bool all, const std::vector<std::string>& names) {
  if (all) return "any";
  if (names.empty()) return "none";
  std::string text;
  for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
  return text;
}

// The n-th dot-separated part of topic (0 is the family), or "" when there is none.
std::string_view part(std::string_view topic, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t dot = topic.find('.');
    if (dot == std::string_view::npos) return {};
    topic.remove_prefix(dot + 1);
  }
  return topic.substr(0, topic.find('.'));
}

}  // namespace

AccessPolicy::AccessPolicy(const config::SecurityConfig& security) {
  for (const auto& p : security.publishers) publishers_.emplace(p.public_key, p);
  for (const auto& s : security.subscribers) subscribers_.emplace(s.public_key, s);
}

const config::PublisherRights* AccessPolicy::publisher(std::string_view public_key) const {
  auto found = publishers_.find(public_key);
  return found == publishers_.end() ? nullptr : &found->second;
}

const config::SubscriberRights* AccessPolicy::subscriber(std::string_view public_key) const {
  auto found = subscribers_.find(public_key);
  return found == subscribers_.end() ? nullptr : &found->second;
}

std::string AccessPolicy::describe(std::string_view public_key) const {
  if (const auto* p = publisher(public_key))
    return "\"" + p->name + "\" (key " + std::string(public_key.substr(0, 8)) + "…)";
  return "key " + std::string(public_key.substr(0, 8)) + "…";
}

std::optional<std::string> AccessPolicy::ingest_refusal(std::string_view public_key, std::string_view topic,
                                                        const event::AccountDirectory& accounts) const {
  const config::PublisherRights* rights = publisher(public_key);
  if (!rights) return "the sender's key " + std::string(public_key.substr(0, 8)) + "… is not a publisher";
  const std::string who = "publisher \"" + rights->name + "\"";
  const std::string_view family = part(topic, 0);
  const std::string_view name = part(topic, 1);
  if (family == "event") {
    if (listed(rights->all_accounts, rights->accounts, name)) return std::nullopt;
    return who + " may not publish for account \"" + std::string(name) +
           "\" (its accounts: " + list_text(rights->all_accounts, rights->accounts) + ")";
  }
  if (family == "command") {
    if (listed(rights->all_commands, rights->commands, name)) return std::nullopt;
    return who + " may not send commands to worker \"" + std::string(name) +
           "\" (its commands: " + list_text(rights->all_commands, rights->commands) + ")";
  }
  if (family == "inbound" || family == "transport_event") {
    if (listed(rights->all_transports, rights->transports, name)) return std::nullopt;
    return who + " may not publish as transport \"" + std::string(name) +
           "\" (its transports: " + list_text(rights->all_transports, rights->transports) + ")";
  }
  if (family == "conversation_outbound") {
    const std::string_view key = part(topic, 2);
    if (rights->all_accounts) return std::nullopt;
    for (const auto& account : rights->accounts) {
      auto type = accounts.conversation_type(account, key);
      if (type && *type == name) return std::nullopt;
    }
    return who + " may not publish for conversation " + std::string(name) + "." + std::string(key) +
           ": none of its accounts (" + list_text(false, rights->accounts) + ") declares it";
  }
  return std::nullopt;  // not an ingest topic family: the decoder refuses it as bad_topic
}

std::vector<std::string> AccessPolicy::granted_prefixes(std::string_view public_key,
                                                        std::string_view requested) const {
  std::vector<std::string> granted;
  const config::SubscriberRights* rights = subscriber(public_key);
  if (!rights) return granted;
  for (const auto& allowed : rights->prefixes) {
    if (requested.starts_with(allowed)) return {std::string(requested)};
  }
  for (const auto& allowed : rights->prefixes) {
    if (std::string_view(allowed).starts_with(requested)) granted.push_back(allowed);
  }
  return granted;
}

}  // namespace vumi::transport
