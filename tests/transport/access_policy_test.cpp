// The rights of publisher and subscriber keys, decided from the topic before decoding.
#include "transport/access_policy.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vumi::transport {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kWorker(40, 'w');
const std::string kTransport(40, 't');
const std::string kEverything(40, 'e');
const std::string kListener(40, 'l');

// acct1 declares conversation poll1 (vxpolls); acct2 declares pollB (vxpolls).
class Accounts : public event::AccountDirectory {
 public:
  bool has_account(std::string_view a) const override { return a == "acct1" || a == "acct2"; }
  std::optional<std::string_view> conversation_type(std::string_view account,
                                                    std::string_view key) const override {
    if ((account == "acct1" && key == "poll1") || (account == "acct2" && key == "pollB")) return "vxpolls";
    return std::nullopt;
  }
};

AccessPolicy policy() {
  config::SecurityConfig security;
  config::PublisherRights worker;
  worker.public_key = kWorker;
  worker.name = "worker";
  worker.accounts = {"acct1"};
  worker.commands = {"bulk1"};
  config::PublisherRights transport;
  transport.public_key = kTransport;
  transport.name = "sms";
  transport.transports = {"sms_transport"};
  config::PublisherRights everything;
  everything.public_key = kEverything;
  everything.name = "all";
  everything.all_accounts = everything.all_commands = everything.all_transports = true;
  security.publishers = {worker, transport, everything};
  security.subscribers = {{kListener, {"outbound.sms_transport", "event.acct1."}}};
  return AccessPolicy(security);
}

TEST(AccessPolicy, APublisherReachesOnlyItsAccountsCommandsAndTransports) {
  const AccessPolicy p = policy();
  const Accounts accounts;
  auto allowed = [&](const std::string& key, std::string_view topic) {
    return !p.ingest_refusal(key, topic, accounts).has_value();
  };
  EXPECT_TRUE(allowed(kWorker, "event.acct1.vxpolls.poll_complete"));
  EXPECT_FALSE(allowed(kWorker, "event.acct2.vxpolls.poll_complete"));
  EXPECT_TRUE(allowed(kWorker, "command.bulk1"));
  EXPECT_FALSE(allowed(kWorker, "command.bulk2"));
  EXPECT_FALSE(allowed(kWorker, "inbound.sms_transport"));
  EXPECT_FALSE(allowed(kWorker, "transport_event.sms_transport"));
  // A conversation's outbound message belongs to the account that declares the conversation.
  EXPECT_TRUE(allowed(kWorker, "conversation_outbound.vxpolls.poll1"));
  EXPECT_FALSE(allowed(kWorker, "conversation_outbound.vxpolls.pollB"));
  EXPECT_FALSE(allowed(kWorker, "conversation_outbound.survey.poll1"));

  EXPECT_TRUE(allowed(kTransport, "inbound.sms_transport"));
  EXPECT_TRUE(allowed(kTransport, "transport_event.sms_transport"));
  EXPECT_FALSE(allowed(kTransport, "inbound.ussd_transport"));
  EXPECT_FALSE(allowed(kTransport, "event.acct1.vxpolls.poll_complete"));

  for (const char* topic : {"event.acct2.x.y", "command.any", "inbound.any", "conversation_outbound.t.k"})
    EXPECT_TRUE(allowed(kEverything, topic)) << topic;
  // A topic of no known family is left to the decoder (bad_topic); an unknown key is refused.
  EXPECT_TRUE(allowed(kWorker, "nonsense"));
  EXPECT_THAT(p.ingest_refusal(std::string(40, 'x'), "event.acct1.a.b", accounts).value_or(""),
              HasSubstr("is not a publisher"));
  EXPECT_THAT(
      p.ingest_refusal(kWorker, "command.bulk2", accounts).value_or(""),
      HasSubstr("publisher \"worker\" may not send commands to worker \"bulk2\" (its commands: bulk1)"));
}

TEST(AccessPolicy, SubscriptionsAreKeptWithinTheAllowedPrefixes) {
  const AccessPolicy p = policy();
  EXPECT_THAT(p.granted_prefixes(kListener, "outbound.sms_transport"), ElementsAre("outbound.sms_transport"));
  EXPECT_THAT(p.granted_prefixes(kListener, "event.acct1.vxpolls."), ElementsAre("event.acct1.vxpolls."));
  // Wider asks are narrowed to what the key may read; others get nothing.
  EXPECT_THAT(p.granted_prefixes(kListener, ""), ElementsAre("outbound.sms_transport", "event.acct1."));
  EXPECT_THAT(p.granted_prefixes(kListener, "outbound."), ElementsAre("outbound.sms_transport"));
  EXPECT_THAT(p.granted_prefixes(kListener, "conversation."), IsEmpty());
  EXPECT_THAT(p.granted_prefixes(kListener, "event.acct2."), IsEmpty());
  EXPECT_THAT(p.granted_prefixes(kWorker, "outbound."), IsEmpty());  // a publisher, not a subscriber
}

}  // namespace
}  // namespace vumi::transport
