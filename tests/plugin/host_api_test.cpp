// The host-services table: forwarding, answers without per-event services, ids, handshake, and
// the zero-filling copy of plugin descriptors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "plugin/descriptor_copy.hpp"
#include "plugin/host_call.hpp"
#include "plugin_test_support.hpp"

namespace vumi::plugin {
namespace {

using testing::view;

TEST(HostApi, DescribesItselfAndOffersEveryService) {
  const vumi_host_api* api = host_api();
  EXPECT_EQ(api->struct_size, sizeof(vumi_host_api));
  EXPECT_EQ(api->abi_major, VUMI_ABI_MAJOR);
  EXPECT_EQ(api->abi_minor, VUMI_ABI_MINOR);
  EXPECT_TRUE(VUMI_HOST_HAS(api, log));
  EXPECT_TRUE(VUMI_HOST_HAS(api, set_error));
  EXPECT_TRUE(VUMI_HOST_HAS(api, contact_upsert));
  EXPECT_TRUE(VUMI_HOST_HAS(api, inbox_put));
  EXPECT_TRUE(VUMI_HOST_HAS(api, new_id));

  const vumi_host_info* info = host_info();
  EXPECT_EQ(info->struct_size, sizeof(vumi_host_info));
  EXPECT_EQ(info->abi_major, VUMI_ABI_MAJOR);
  EXPECT_EQ(info->abi_minor, VUMI_ABI_MINOR);
  EXPECT_STREQ(info->host_version, "vumi-dispatcher (ABI 1.1)");
}

// Calls every service that answers a status, in the order of the table, with valid out-parameters.
std::vector<vumi_status> call_every_service(const vumi_host_api* api, vumi_call* call) {
  vumi_view out{};
  int created = 0;
  std::int64_t id = 0;
  return {api->set_output(call, view("{}")),
          api->event_json(call, &out),
          api->emit_event(call, view("{}")),
          api->publish(call, view("outbound.sms"), view("{}")),
          api->contact_get(call, view("k"), &out),
          api->contact_find_by_msisdn(call, view("+27"), &out),
          api->contact_upsert(call, view("{}"), &out, &created),
          api->inbox_put(call, view("{}"), &id),
          api->account_json(call, &out)};
}

TEST(HostApi, ServicesAreUnavailableWithoutPerEventServices) {
  const vumi_host_api* api = host_api();
  vumi_call call;
  call.plugin_name = "p";
  EXPECT_THAT(call_every_service(api, &call), ::testing::Each(VUMI_ERR_UNAVAILABLE));
  api->metric_add(&call, view("m"), 1);  // no services: silently dropped
  EXPECT_EQ(api->set_output(nullptr, view("{}")), VUMI_ERR_UNAVAILABLE);
}

// Services whose every call throws, as a host bug or an out-of-memory would.
class ThrowingServices : public CallServices {
 public:
  vumi_status set_output(std::string_view) override { throw std::runtime_error("set_output broke"); }
  vumi_status event_json(vumi_view*) override { throw std::runtime_error("event_json broke"); }
  vumi_status emit_event(std::string_view) override { throw std::bad_alloc(); }
  vumi_status publish(std::string_view, std::string_view) override { throw 42; }
  vumi_status contact_get(std::string_view, vumi_view*) override { throw std::runtime_error("x"); }
  vumi_status contact_find_by_msisdn(std::string_view, vumi_view*) override { throw std::runtime_error("x"); }
  vumi_status contact_upsert(std::string_view, vumi_view*, int*) override { throw std::runtime_error("x"); }
  vumi_status inbox_put(std::string_view, std::int64_t*) override { throw std::runtime_error("x"); }
  void metric_add(std::string_view, std::int64_t) override { throw std::runtime_error("x"); }
  bool new_id(char*) override { throw std::runtime_error("x"); }
  vumi_status account_json(vumi_view*) override { throw std::runtime_error("x"); }
};

TEST(HostApi, EveryServiceIsANoexceptBarrier) {
  const vumi_host_api* api = host_api();
  ThrowingServices services;
  vumi_call call;
  call.plugin_name = "p";
  call.services = &services;
  EXPECT_THAT(call_every_service(api, &call), ::testing::Each(VUMI_ERR_INTERNAL));
  api->metric_add(&call, view("m"), 1);  // swallowed and logged
  char id_text[33] = {};
  api->new_id(&call, id_text);  // the throw is logged; no id is written
  EXPECT_EQ(id_text[0], '\0');
}

TEST(HostApi, ForwardsToTheCallsServices) {
  const vumi_host_api* api = host_api();
  testing::FakeServices services;
  vumi_call call;
  call.services = &services;
  EXPECT_EQ(api->set_output(&call, view(R"({"a":1})")), VUMI_OK);
  EXPECT_EQ(api->emit_event(&call, view(R"({"event_type":"x"})")), VUMI_OK);
  EXPECT_EQ(api->publish(&call, view("outbound.sms"), view("{}")), VUMI_OK);
  api->metric_add(&call, view("sent"), 3);
  vumi_view event{};
  EXPECT_EQ(api->event_json(&call, &event), VUMI_OK);
  EXPECT_EQ(std::string(event.data, event.size), services.event);
  vumi_view contact{};
  EXPECT_EQ(api->contact_get(&call, view("k"), &contact), VUMI_ERR_NOT_FOUND);
  EXPECT_EQ(api->contact_get(&call, view("k"), nullptr), VUMI_ERR_INVALID_ARGUMENT);

  EXPECT_EQ(services.outputs, std::vector<std::string>{R"({"a":1})"});
  EXPECT_EQ(services.emitted, std::vector<std::string>{R"({"event_type":"x"})"});
  ASSERT_EQ(services.published.size(), 1u);
  EXPECT_EQ(services.published[0].first, "outbound.sms");
  ASSERT_EQ(services.metrics.size(), 1u);
  EXPECT_EQ(services.metrics[0].first, "sent");
  EXPECT_EQ(services.metrics[0].second, 3);
}

TEST(HostApi, SetErrorStoresTheMessageOnTheCall) {
  vumi_call call;
  host_api()->set_error(&call, view("bad msisdn"));
  EXPECT_EQ(call.error, "bad msisdn");
  host_api()->set_error(&call, vumi_view{nullptr, 0});
  EXPECT_EQ(call.error, "");
  host_api()->set_error(nullptr, view("ignored"));  // must not crash
}

TEST(HostApi, NewIdsAre32LowercaseHexAndDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    char out[33];
    std::memset(out, 'x', sizeof out);
    host_api()->new_id(nullptr, out);
    ASSERT_EQ(out[32], '\0');
    const std::string id(out);
    ASSERT_EQ(id.size(), 32u);
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(DescriptorCopy, ZeroFillsFieldsTheWriterDidNotKnow) {
  vumi_plugin_info written;
  std::memset(&written, 0xAB, sizeof written);  // garbage past the declared size must not leak in
  written.struct_size = offsetof(vumi_plugin_info, build_tag);
  written.abi_major = 1;
  written.abi_minor = 0;
  const vumi_plugin_info copy = copy_descriptor<vumi_plugin_info>(&written, written.struct_size);
  EXPECT_EQ(copy.abi_major, 1);
  EXPECT_EQ(copy.build_tag, nullptr);
  EXPECT_EQ(copy.handler_count, 0u);
  EXPECT_EQ(copy.init, nullptr);
  EXPECT_EQ(copy.shutdown, nullptr);
}

TEST(DescriptorCopy, IgnoresBytesBeyondTheHostsSize) {
  struct Bigger {  // a descriptor from a future minor with one more field
    vumi_handler_type known;
    void* appended;
  } written{};
  written.known.struct_size = sizeof(Bigger);
  written.known.name = "future";
  written.appended = &written;
  const vumi_handler_type copy = copy_descriptor<vumi_handler_type>(&written, written.known.struct_size);
  EXPECT_STREQ(copy.name, "future");
  EXPECT_EQ(copy.struct_size, sizeof(Bigger));
}

}  // namespace
}  // namespace vumi::plugin
