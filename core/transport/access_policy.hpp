// Who may do what once CURVE has authenticated them: the rights of security.publishers and
// security.subscribers, looked up by the public key the ZAP handler put in each message's User-Id.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/string_hash.hpp"
#include "config/config.hpp"
#include "event/envelope_decoder.hpp"

namespace vumi::transport {

class AccessPolicy {
 public:
  explicit AccessPolicy(const config::SecurityConfig& security);

  const config::PublisherRights* publisher(std::string_view public_key) const;
  const config::SubscriberRights* subscriber(std::string_view public_key) const;

  // Why the publisher with that key may not publish on topic, or nullopt when it may. Decided from
  // the topic alone, before the body is decoded (the decoder then refuses a body that disagrees
  // with its topic): event.<account>.* needs the account, command.<worker> the worker,
  // inbound.<transport> and transport_event.<transport> the transport, and
  // conversation_outbound.<type>.<key> an account of the publisher's that declares that
  // conversation (accounts answers which). A topic of no known family is left to the decoder.
  std::optional<std::string> ingest_refusal(std::string_view public_key, std::string_view topic,
                                            const event::AccountDirectory& accounts) const;

  // The prefixes to apply on the outbound socket when the subscriber with that key asks for
  // requested: requested itself when it lies within an allowed prefix, else the allowed prefixes
  // that lie within requested (a listener asking for everything gets what it may read); empty
  // when nothing may be applied.
  std::vector<std::string> granted_prefixes(std::string_view public_key, std::string_view requested) const;

  // For logs: the publisher's name and the key's first 8 characters, or just those characters.
  std::string describe(std::string_view public_key) const;

 private:
  StringMap<config::PublisherRights> publishers_;
  StringMap<config::SubscriberRights> subscribers_;
};

}  // namespace vumi::transport
