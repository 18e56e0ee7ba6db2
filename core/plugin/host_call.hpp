// The host side of the plugin ABI's opaque vumi_call, and the per-event services behind it.
#pragma once

#include <vumi/plugin.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace vumi::plugin {

// Services a running step may use; implemented by the dispatcher, scoped to one event's account.
class CallServices {
 public:
  virtual ~CallServices() = default;
  // Stores the step's output (a JSON object's text).
  virtual vumi_status set_output(std::string_view json) = 0;
  // The event envelope as JSON text; the view stays valid until the step returns.
  virtual vumi_status event_json(vumi_view* out) = 0;
  virtual vumi_status emit_event(std::string_view event_json) = 0;
  virtual vumi_status publish(std::string_view topic, std::string_view body_json) = 0;
  virtual vumi_status contact_get(std::string_view key, vumi_view* out) = 0;
  virtual vumi_status contact_find_by_msisdn(std::string_view msisdn, vumi_view* out) = 0;
  virtual vumi_status contact_upsert(std::string_view contact_json, vumi_view* out, int* created) = 0;
  virtual vumi_status inbox_put(std::string_view message_json, std::int64_t* out_id) = 0;
  virtual void metric_add(std::string_view name, std::int64_t delta) = 0;
  // Writes an id for the running step into out (32 lowercase hex + NUL) and returns true, or
  // returns false to let the host draw a random one. The dispatcher derives it from the event,
  // route, step and call number, so a replay yields the same ids.
  virtual bool new_id(char out[33]) {
    (void)out;
    return false;
  }
  // The account's declared configuration as JSON text ({"key", "conversations", "tags"}).
  virtual vumi_status account_json(vumi_view* out) {
    (void)out;
    return VUMI_ERR_UNAVAILABLE;
  }
};

}  // namespace vumi::plugin

// What the host hands a plugin as vumi_call*: who is calling, the error it may set, and the
// per-event services (null during plugin init and instance creation).
struct vumi_call {
  std::string_view plugin_name;
  std::string_view handler_type;     // empty during plugin init
  std::string error;                 // set by the plugin through set_error
  std::int64_t retry_after_ms = -1;  // set by the plugin through retry_after; -1: no hint
  vumi::plugin::CallServices* services = nullptr;
};

namespace vumi::plugin {

// The one host-services table given to every plugin; its entries forward to vumi_call::services
// and answer VUMI_ERR_UNAVAILABLE where the call has none.
const vumi_host_api* host_api();

// What the host tells plugins at the handshake.
const vumi_host_info* host_info();

}  // namespace vumi::plugin
