// The host-services table every plugin receives: each entry forwards to the CallServices of the
// vumi_call it is given, so one static table serves every plugin, handler and event.
#include <spdlog/spdlog.h>

#include <cstdint>
#include <exception>
#include <random>
#include <string_view>
#include <type_traits>

#include "plugin/host_call.hpp"

namespace vumi::plugin {

namespace {

std::string_view text_of(vumi_view v) {
  return v.data ? std::string_view(v.data, v.size) : std::string_view();
}

CallServices* services_of(vumi_call* call) {
  return call ? call->services : nullptr;
}

// Every entry is a noexcept barrier: an exception thrown behind a service (out of memory, a bug in
// the host) must not unwind through the plugin's C frames. It is logged, named after the service,
// and the plugin sees VUMI_ERR_INTERNAL (or, for the void services, nothing).
void report_escape(vumi_call* call, const char* service, const char* why) noexcept {
  try {
    spdlog::error("[{}] host service {} failed: {}", call ? call->plugin_name : std::string_view("?"),
                  service, why);
  } catch (...) {  // NOLINT(bugprone-empty-catch): logging itself failed; nothing is left to tell
  }
}

template <typename Body>
auto barrier(vumi_call* call, const char* service, Body&& body) noexcept -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    report_escape(call, service, e.what());
  } catch (...) {
    report_escape(call, service, "unknown exception");
  }
  if constexpr (!std::is_void_v<decltype(body())>) return VUMI_ERR_INTERNAL;
}

spdlog::level::level_enum spdlog_level(vumi_log_level level) {
  switch (level) {
    case VUMI_LOG_DEBUG:
      return spdlog::level::debug;
    case VUMI_LOG_INFO:
      return spdlog::level::info;
    case VUMI_LOG_WARN:
      return spdlog::level::warn;
    case VUMI_LOG_ERROR:
      return spdlog::level::err;
  }
  return spdlog::level::info;  // a level from a newer ABI minor
}

void host_log(vumi_call* call, vumi_log_level level, vumi_view message) noexcept {
  return barrier(call, "log", [&]() -> void {
    const std::string_view plugin = call ? call->plugin_name : std::string_view("?");
    const std::string_view handler = call ? call->handler_type : std::string_view();
    if (handler.empty())
      spdlog::log(spdlog_level(level), "[{}] {}", plugin, text_of(message));
    else
      spdlog::log(spdlog_level(level), "[{}/{}] {}", plugin, handler, text_of(message));
  });
}

void host_set_error(vumi_call* call, vumi_view message) noexcept {
  return barrier(call, "set_error", [&]() -> void {
    if (call) call->error.assign(text_of(message));
  });
}

// A per-event service behind the barrier: VUMI_ERR_UNAVAILABLE when the call has no per-event
// services, VUMI_ERR_INVALID_ARGUMENT when a required out-parameter is null, else use(services).
template <typename Use>
vumi_status forward(vumi_call* call, const char* service, bool outs_given, Use&& use) noexcept {
  return barrier(call, service, [&]() -> vumi_status {
    CallServices* s = services_of(call);
    if (!s) return VUMI_ERR_UNAVAILABLE;
    if (!outs_given) return VUMI_ERR_INVALID_ARGUMENT;
    return use(*s);
  });
}

vumi_status host_set_output(vumi_call* call, vumi_view output_json) noexcept {
  return forward(call, "set_output", true,
                 [&](CallServices& s) { return s.set_output(text_of(output_json)); });
}

vumi_status host_event_json(vumi_call* call, vumi_view* out_json) noexcept {
  return forward(call, "event_json", out_json, [&](CallServices& s) { return s.event_json(out_json); });
}

vumi_status host_emit_event(vumi_call* call, vumi_view event_json) noexcept {
  return forward(call, "emit_event", true,
                 [&](CallServices& s) { return s.emit_event(text_of(event_json)); });
}

vumi_status host_publish(vumi_call* call, vumi_view topic, vumi_view body_json) noexcept {
  return forward(call, "publish", true,
                 [&](CallServices& s) { return s.publish(text_of(topic), text_of(body_json)); });
}

vumi_status host_contact_get(vumi_call* call, vumi_view contact_key, vumi_view* out_contact) noexcept {
  return forward(call, "contact_get", out_contact,
                 [&](CallServices& s) { return s.contact_get(text_of(contact_key), out_contact); });
}

vumi_status host_contact_find_by_msisdn(vumi_call* call, vumi_view msisdn, vumi_view* out_contact) noexcept {
  return forward(call, "contact_find_by_msisdn", out_contact,
                 [&](CallServices& s) { return s.contact_find_by_msisdn(text_of(msisdn), out_contact); });
}

vumi_status host_contact_upsert(vumi_call* call, vumi_view contact_json, vumi_view* out_contact,
                                int* out_created) noexcept {
  return forward(call, "contact_upsert", out_contact && out_created, [&](CallServices& s) {
    return s.contact_upsert(text_of(contact_json), out_contact, out_created);
  });
}

vumi_status host_inbox_put(vumi_call* call, vumi_view message_json, std::int64_t* out_id) noexcept {
  return forward(call, "inbox_put", out_id,
                 [&](CallServices& s) { return s.inbox_put(text_of(message_json), out_id); });
}

void host_metric_add(vumi_call* call, vumi_view name, std::int64_t delta) noexcept {
  return barrier(call, "metric_add", [&]() -> void {
    if (CallServices* s = services_of(call)) s->metric_add(text_of(name), delta);
  });
}

vumi_status host_account_json(vumi_call* call, vumi_view* out_json) noexcept {
  return forward(call, "account_json", out_json, [&](CallServices& s) { return s.account_json(out_json); });
}

void host_retry_after(vumi_call* call, std::uint32_t delay_ms) noexcept {
  return barrier(call, "retry_after", [&]() -> void {
    if (call) call->retry_after_ms = delay_ms;
  });
}

// Ids only need to be unique, not unpredictable: a per-thread PRNG avoids a lock on every event.
void host_new_id(vumi_call* call, char out[33]) noexcept {
  return barrier(call, "new_id", [&]() -> void {
    if (!out) return;
    if (CallServices* s = services_of(call); s && s->new_id(out)) return;
    thread_local std::mt19937_64 engine{[] {
      std::random_device device;
      std::seed_seq seed{device(), device(), device(), device()};
      return std::mt19937_64(seed);
    }()};
    static constexpr char kHex[] = "0123456789abcdef";
    for (int half = 0; half < 2; ++half) {
      std::uint64_t bits = engine();
      for (int i = 0; i < 16; ++i) {
        out[half * 16 + i] = kHex[bits & 15];
        bits >>= 4;
      }
    }
    out[32] = '\0';
  });
}

vumi_host_api make_host_api() {
  vumi_host_api api{};
  api.struct_size = sizeof(vumi_host_api);
  api.abi_major = VUMI_ABI_MAJOR;
  api.abi_minor = VUMI_ABI_MINOR;
  api.log = &host_log;
  api.set_error = &host_set_error;
  api.set_output = &host_set_output;
  api.event_json = &host_event_json;
  api.emit_event = &host_emit_event;
  api.publish = &host_publish;
  api.contact_get = &host_contact_get;
  api.contact_find_by_msisdn = &host_contact_find_by_msisdn;
  api.contact_upsert = &host_contact_upsert;
  api.inbox_put = &host_inbox_put;
  api.metric_add = &host_metric_add;
  api.new_id = &host_new_id;
  api.account_json = &host_account_json;
  api.retry_after = &host_retry_after;
  return api;
}

const vumi_host_info kHostInfo{
    sizeof(vumi_host_info), VUMI_ABI_MAJOR, VUMI_ABI_MINOR,
    "vumi-dispatcher (ABI " VUMI_STRINGIFY(VUMI_ABI_MAJOR) "." VUMI_STRINGIFY(VUMI_ABI_MINOR) ")"};

}  // namespace

const vumi_host_api* host_api() {
  static const vumi_host_api api = make_host_api();  // function-local: safe from static-init order
  return &api;
}

const vumi_host_info* host_info() {
  return &kHostInfo;
}

}  // namespace vumi::plugin
