// Shared by the loader tests: where the test plugins are, a fake per-event host, and a step input.
#pragma once

#include <dlfcn.h>
#include <vumi/plugin.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugin/host_call.hpp"

namespace vumi::plugin::testing {

inline std::filesystem::path fixture(std::string_view name) {
  return std::filesystem::path(VUMI_FIXTURE_DIR) / (std::string(name) + ".so");
}

inline std::filesystem::path example_plugin() {
  return std::filesystem::path(VUMI_PLUGIN_DIR) / "example.so";
}

// True while the shared object at file is mapped in this process (asked without loading it).
inline bool is_loaded(const std::filesystem::path& file) {
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (!handle) return false;
  dlclose(handle);
  return true;
}

inline vumi_view view(std::string_view s) {
  return vumi_view{s.data(), s.size()};
}

// Records what a step asks of the host; answers like an account with no contacts.
class FakeServices final : public CallServices {
 public:
  std::string event = R"({"account_key":"acct1","event_type":"poll_complete"})";
  std::vector<std::string> outputs;
  std::vector<std::string> emitted;
  std::vector<std::pair<std::string, std::string>> published;
  std::vector<std::pair<std::string, std::int64_t>> metrics;

  vumi_status set_output(std::string_view json) override {
    outputs.emplace_back(json);
    return VUMI_OK;
  }
  vumi_status event_json(vumi_view* out) override {
    *out = view(event);
    return VUMI_OK;
  }
  vumi_status emit_event(std::string_view event_json) override {
    emitted.emplace_back(event_json);
    return VUMI_OK;
  }
  vumi_status publish(std::string_view topic, std::string_view body_json) override {
    published.emplace_back(topic, body_json);
    return VUMI_OK;
  }
  vumi_status contact_get(std::string_view, vumi_view*) override { return VUMI_ERR_NOT_FOUND; }
  vumi_status contact_find_by_msisdn(std::string_view, vumi_view*) override { return VUMI_ERR_NOT_FOUND; }
  vumi_status contact_upsert(std::string_view, vumi_view*, int*) override { return VUMI_ERR_UNAVAILABLE; }
  vumi_status inbox_put(std::string_view, std::int64_t*) override { return VUMI_ERR_UNAVAILABLE; }
  void metric_add(std::string_view name, std::int64_t delta) override { metrics.emplace_back(name, delta); }
};

// The input of a step for a poll_complete event of acct1; config_json must outlive the step.
inline vumi_step_input step_input(std::string_view config_json) {
  vumi_step_input input{};
  input.struct_size = sizeof input;
  input.account_key = view("acct1");
  input.conversation_type = view("vxpolls");
  input.conversation_key = view("poll1");
  input.event_type = view("poll_complete");
  input.event_id = view("0123456789abcdef0123456789abcdef");
  input.config_json = view(config_json);
  input.depth = 0;
  return input;
}

}  // namespace vumi::plugin::testing
