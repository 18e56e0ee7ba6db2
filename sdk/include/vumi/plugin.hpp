// Header-only C++ layer over the vumi plugin ABI (plugin.h).
//
// A handler type is a class with these static members and two functions:
//
//   struct Greet {
//     static constexpr const char* kName = "greet";
//     static constexpr const char* kDescription = "Logs a greeting.";
//     static constexpr const char* kOptionsSchema = R"({"type":"object","properties":{}})";
//     static constexpr const char* kStepSchema = R"({"type":"object","properties":{}})";
//     static constexpr const char* kOutput = "nothing";
//     static constexpr vumi_threading kThreading = VUMI_THREADING_SERIAL;  // optional
//     explicit Greet(vumi::sdk::Options options);       // may throw: refuses the instance
//     vumi::sdk::StepResult handle(vumi::sdk::Call& call);  // may throw: fails the step
//     static void validate(vumi::sdk::StepCheck& check);  // optional (ABI 1.1): config cross-checks
//   };
//   VUMI_PLUGIN("greeter", "1.0.0", Greet)
//
// Every exception is caught at the ABI boundary and turned into an error message for the host.
// To build a plugin that also loads on older 1.x hosts, define VUMI_TARGET_ABI_MINOR (e.g. 0)
// before including this header; features of newer minors (validate) then fail to compile.
#ifndef VUMI_PLUGIN_HPP
#define VUMI_PLUGIN_HPP

#include <vumi/plugin.h>

#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace vumi::sdk {

inline vumi_view view(std::string_view s) {
  return vumi_view{s.data(), s.size()};
}
inline std::string_view str(vumi_view v) {
  return v.data ? std::string_view(v.data, v.size) : std::string_view();
}

// A host service answered with a non-OK status.
class HostError : public std::runtime_error {
 public:
  HostError(vumi_status status, const std::string& what) : std::runtime_error(what), status_(status) {}
  vumi_status status() const { return status_; }

 private:
  vumi_status status_;
};

inline const char* status_name(vumi_status s) {
  return vumi_status_name(s);
}

// What a step returns: continue (output set through Call::set_output), stop, fail, or retry
// (a temporary failure: the host runs the step again later; ABI 1.1).
struct StepResult {
  vumi_step_result code = VUMI_STEP_CONTINUE;
  std::string error;
  std::optional<std::uint32_t> retry_after_ms;  // retry only: the delay wanted before the next attempt

  static StepResult next() { return {}; }
  static StepResult stop() { return {VUMI_STEP_STOP, {}, {}}; }
  static StepResult fail(std::string message) { return {VUMI_STEP_FAIL, std::move(message), {}}; }
  // On a host without retries (ABI 1.0: no retry_after service) the step fails with the message.
  static StepResult retry(std::string message, std::optional<std::uint32_t> after_ms = std::nullopt) {
    return {VUMI_STEP_RETRY, std::move(message), after_ms};
  }
};

// Host services available to every callback.
class HostContext {
 public:
  HostContext(vumi_call* call, const vumi_host_api* host) : call_(call), host_(host) {}

  void log(vumi_log_level level, std::string_view message) const {
    if (host_ && host_->log) host_->log(call_, level, view(message));
  }
  void debug(std::string_view m) const { log(VUMI_LOG_DEBUG, m); }
  void info(std::string_view m) const { log(VUMI_LOG_INFO, m); }
  void warn(std::string_view m) const { log(VUMI_LOG_WARN, m); }
  void error(std::string_view m) const { log(VUMI_LOG_ERROR, m); }

  const vumi_host_api* api() const { return host_; }
  vumi_call* raw() const { return call_; }

 protected:
  // Throws HostError naming the service unless status is OK.
  static void check(vumi_status status, const char* service) {
    if (status != VUMI_OK) throw HostError(status, std::string(service) + " failed: " + status_name(status));
  }
  template <class F>
  F require(F fn, const char* service) const {
    if (!fn) throw HostError(VUMI_ERR_UNAVAILABLE, std::string(service) + " is not offered by this host");
    return fn;
  }

  vumi_call* call_;
  const vumi_host_api* host_;
};

// What a handler's constructor receives: its validated options and the host.
class Options : public HostContext {
 public:
  Options(vumi_call* call, const vumi_host_api* host, vumi_view json)
      : HostContext(call, host), json_(str(json)) {}
  std::string_view json() const { return json_; }

 private:
  std::string_view json_;
};

// One running step: its input and the host services scoped to the event's account.
class Call : public HostContext {
 public:
  Call(vumi_call* call, const vumi_host_api* host, const vumi_step_input* input)
      : HostContext(call, host), input_(input) {}

  std::string_view account_key() const { return str(input_->account_key); }
  std::string_view conversation_type() const { return str(input_->conversation_type); }
  std::string_view conversation_key() const { return str(input_->conversation_key); }
  std::string_view event_type() const { return str(input_->event_type); }
  std::string_view event_id() const { return str(input_->event_id); }
  std::string_view config_json() const { return str(input_->config_json); }
  std::uint32_t depth() const { return input_->depth; }

  // The whole envelope as JSON text, valid until handle() returns.
  std::string_view event_json() const {
    vumi_view out{};
    check(require(host_->event_json, "event_json")(call_, &out), "event_json");
    return str(out);
  }
  // Sets the output object stored as steps.<as>.
  void set_output(std::string_view json) const {
    check(require(host_->set_output, "set_output")(call_, view(json)), "set_output");
  }
  void emit_event(std::string_view event_json) const {
    check(require(host_->emit_event, "emit_event")(call_, view(event_json)), "emit_event");
  }
  void publish(std::string_view topic, std::string_view body_json) const {
    check(require(host_->publish, "publish")(call_, view(topic), view(body_json)), "publish");
  }
  // The contact with that msisdn in this account, or nullopt.
  std::optional<std::string_view> contact_find_by_msisdn(std::string_view msisdn) const {
    vumi_view out{};
    vumi_status s =
        require(host_->contact_find_by_msisdn, "contact_find_by_msisdn")(call_, view(msisdn), &out);
    if (s == VUMI_ERR_NOT_FOUND) return std::nullopt;
    check(s, "contact_find_by_msisdn");
    return str(out);
  }
  std::optional<std::string_view> contact_get(std::string_view key) const {
    vumi_view out{};
    vumi_status s = require(host_->contact_get, "contact_get")(call_, view(key), &out);
    if (s == VUMI_ERR_NOT_FOUND) return std::nullopt;
    check(s, "contact_get");
    return str(out);
  }
  struct Upserted {
    std::string_view contact;
    bool created;
  };
  Upserted contact_upsert(std::string_view contact_json) const {
    vumi_view out{};
    int created = 0;
    check(require(host_->contact_upsert, "contact_upsert")(call_, view(contact_json), &out, &created),
          "contact_upsert");
    return {str(out), created != 0};
  }
  std::int64_t inbox_put(std::string_view message_json) const {
    std::int64_t id = 0;
    check(require(host_->inbox_put, "inbox_put")(call_, view(message_json), &id), "inbox_put");
    return id;
  }
  void metric_add(std::string_view name, std::int64_t delta = 1) const {
    if (host_->metric_add) host_->metric_add(call_, view(name), delta);
  }
  // The account's declared configuration ({"key", "conversations", "tags"}), or nullopt when the
  // host does not offer it.
  std::optional<std::string_view> account_json() const {
    if (!VUMI_HOST_HAS(host_, account_json)) return std::nullopt;
    vumi_view out{};
    check(host_->account_json(call_, &out), "account_json");
    return str(out);
  }
  std::string new_id() const {
    char buf[33] = {};
    require(host_->new_id, "new_id")(call_, buf);
    return std::string(buf, 32);
  }

 private:
  const vumi_step_input* input_;
};

// What validate() receives (ABI 1.1): the step's config as written, the instance's options and the
// account's declared configuration, all already valid against the schemas; error() reports one
// problem at a path relative to the step's config.
class StepCheck {
 public:
  explicit StepCheck(const vumi_validate_input* input) : input_(input) {}
  std::string_view options_json() const { return str(input_->options_json); }
  std::string_view config_json() const { return str(input_->config_json); }
  std::string_view account_json() const { return str(input_->account_json); }
  // path: "routes.longcode:12345", "keywords[2]", or "" for the config itself.
  void error(std::string_view path, std::string_view message) const {
    if (input_->add_error) input_->add_error(input_->errors, view(path), view(message));
  }

 private:
  const vumi_validate_input* input_;
};

namespace detail {

inline void report(vumi_call* call, const vumi_host_api* host, std::string_view message) {
  if (host && host->set_error) host->set_error(call, view(message));
}

template <class T>
concept HasThreading = requires {
  T::kThreading;
};

template <class T>
concept HasValidate = requires(StepCheck& check) {
  T::validate(check);
};

template <class T>
struct HandlerTrampolines {
  static_assert(!HasValidate<T> || VUMI_TARGET_ABI_MINOR >= 1,
                "validate() needs ABI 1.1; this plugin targets an older minor (VUMI_TARGET_ABI_MINOR)");
  static vumi_status validate(vumi_call* call, const vumi_host_api* host,
                              const vumi_validate_input* input) noexcept {
    try {
      StepCheck check(input);
      T::validate(check);
      return VUMI_OK;
    } catch (const std::exception& e) {
      report(call, host, std::string("exception in validate(): ") + e.what());
    } catch (...) {
      report(call, host, "unknown exception in validate()");
    }
    return VUMI_ERR_INTERNAL;
  }
  static vumi_status create(vumi_call* call, const vumi_host_api* host, vumi_view options,
                            void** out) noexcept {
    try {
      *out = new T(Options(call, host, options));
      return VUMI_OK;
    } catch (const HostError& e) {
      report(call, host, e.what());
      return e.status();
    } catch (const std::exception& e) {
      report(call, host, e.what());
      return VUMI_ERR_INVALID_ARGUMENT;
    } catch (...) {
      report(call, host, "unknown exception in handler constructor");
      return VUMI_ERR_INTERNAL;
    }
  }
  static void destroy(void* instance) noexcept { delete static_cast<T*>(instance); }
  static vumi_step_result handle(void* instance, vumi_call* call, const vumi_host_api* host,
                                 const vumi_step_input* input) noexcept {
    try {
      Call c(call, host, input);
      StepResult r = static_cast<T*>(instance)->handle(c);
      if (r.code == VUMI_STEP_RETRY) {
        report(call, host, r.error.empty() ? "step asked for a retry" : r.error);
        // A host that offers retry_after (every 1.1 host) understands retries; a 1.0 host does not.
        if (!VUMI_HOST_HAS(host, retry_after)) return VUMI_STEP_FAIL;
        if (r.retry_after_ms) host->retry_after(call, *r.retry_after_ms);
        return VUMI_STEP_RETRY;
      }
      if (r.code == VUMI_STEP_FAIL) report(call, host, r.error.empty() ? "step failed" : r.error);
      return r.code;
    } catch (const std::exception& e) {
      report(call, host, std::string("exception: ") + e.what());
    } catch (...) {
      report(call, host, "unknown exception in handle()");
    }
    return VUMI_STEP_FAIL;
  }
  static const vumi_handler_type* type() {
    static const vumi_handler_type t = [] {
      vumi_handler_type h{};
      h.struct_size = VUMI_TARGET_ABI_MINOR >= 1 ? VUMI_HANDLER_TYPE_V1_1_SIZE : VUMI_HANDLER_TYPE_V1_0_SIZE;
      h.name = T::kName;
      h.description = T::kDescription;
      h.options_schema = T::kOptionsSchema;
      h.step_schema = T::kStepSchema;
      h.output_description = T::kOutput;
      if constexpr (HasThreading<T>)
        h.threading = T::kThreading;
      else
        h.threading = VUMI_THREADING_SERIAL;
      h.create = &create;
      h.destroy = &destroy;
      h.handle = &handle;
      if constexpr (HasValidate<T>) h.validate = &validate;
      return h;
    }();
    return &t;
  }
};

template <class... Ts>
const vumi_plugin_info* plugin_info(const char* name, const char* version) noexcept {
  static const vumi_handler_type* const handlers[] = {HandlerTrampolines<Ts>::type()...};
  static const vumi_plugin_info info = [&] {
    vumi_plugin_info p{};
    p.struct_size = VUMI_TARGET_ABI_MINOR >= 1 ? VUMI_PLUGIN_INFO_V1_1_SIZE : VUMI_PLUGIN_INFO_V1_0_SIZE;
    p.abi_major = VUMI_ABI_MAJOR;
    p.abi_minor = VUMI_TARGET_ABI_MINOR;
    p.build_tag = VUMI_BUILD_TAG;
    p.name = name;
    p.version = version;
    p.handler_count = sizeof...(Ts);
    p.handlers = handlers;
    return p;
  }();
  return &info;
}

}  // namespace detail
}  // namespace vumi::sdk

static_assert(VUMI_TARGET_ABI_MINOR <= VUMI_ABI_MINOR, "VUMI_TARGET_ABI_MINOR is newer than this SDK's ABI");

// The entry function VUMI_PLUGIN defines: the exported VUMI_PLUGIN_ENTRY_SYMBOL, or, when the
// plugin's sources are compiled with -DVUMI_PLUGIN_ENTRY_AS=<name> (a test binary holding several
// plugins, vumi/testing.hpp), a plain unexported C function of that name.
#ifdef VUMI_PLUGIN_ENTRY_AS
#define VUMI_PLUGIN_DETAIL_ENTRY \
  extern "C" const vumi_plugin_info* VUMI_PLUGIN_ENTRY_AS(const vumi_host_info*)
#else
#define VUMI_PLUGIN_DETAIL_ENTRY \
  extern "C" VUMI_PLUGIN_EXPORT const vumi_plugin_info* VUMI_PLUGIN_ENTRY_SYMBOL(const vumi_host_info*)
#endif

// Defines the plugin's entry function for the given handler classes.
#define VUMI_PLUGIN(NAME, VERSION, ...)                                    \
  VUMI_PLUGIN_DETAIL_ENTRY {                                               \
    try {                                                                  \
      return ::vumi::sdk::detail::plugin_info<__VA_ARGS__>(NAME, VERSION); \
    } catch (...) {                                                        \
      return nullptr;                                                      \
    }                                                                      \
  }

#endif  // VUMI_PLUGIN_HPP
