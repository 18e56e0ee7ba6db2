// A fake vumi host for unit-testing handlers without the daemon.
//
// Link vumi::sdk_testing (find_package(VumiSDK)): this header plus the host's own plugin checks
// (vumi/host_checks.hpp), so a plugin is accepted or refused here with the daemon's exact words,
// and options and step configs are checked against the declared schemas as the daemon checks them.
// Nothing else of the dispatcher is needed.
//
//   #include <vumi/testing.hpp>
//   vumi::testing::FakeHost host;
//   host.load_file("build/send_sms.so");            // dlopen, handshake, descriptor checks, init()
//   // or host.load(&VUMI_PLUGIN_ENTRY_SYMBOL) with the plugin's sources compiled into the test
//   auto sms = host.instantiate("send_sms", R"({"transport_name":"sms"})");
//   auto run = sms.run(vumi::testing::make_event("acct1", "vxpolls", "poll1", "poll_complete", "{}"),
//                      R"({"to_addr":"+27820000001","content":"Thanks!"})");
//   // run.result, run.output, run.error; host.published(), host.emitted(), host.logs(),
//   // host.contacts("acct1"), host.inbox("acct1"), host.metric("sent")
//
// Several plugins can be loaded into one FakeHost (and several FakeHosts into one test binary):
// load_file() gives each plugin its own library image. To compile several plugins' sources into one
// test binary instead, build each plugin's sources with -DVUMI_PLUGIN_ENTRY_AS=<its_entry> (its
// entry is then a plain function of that name), declare it with VUMI_TESTING_ENTRY(<its_entry>);
// and pass it to load(): host.load(&send_sms_entry).
//
// What the fake host does NOT do, on purpose:
//  - It does not render templates: step configs are given already rendered, and checked against
//    the step schema as the daemon checks a rendered config (check_configs(false) turns the option
//    and step-config checks off, to feed a handler values the host would refuse).
//  - It does not dispatch emitted events or route published messages; it records them.
// Services that act on account data answer VUMI_ERR_UNAVAILABLE outside handle(), as the real host.
// Handlers made by a FakeHost must not outlive it.
#ifndef VUMI_TESTING_HPP
#define VUMI_TESTING_HPP

#include <dlfcn.h>
#include <vumi/plugin.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <vumi/host_checks.hpp>
#include <vumi/plugin.hpp>

// Declares the entry function of a plugin compiled into this test binary: VUMI_PLUGIN_ENTRY_SYMBOL
// for the one plugin built as usual, or the name given to a plugin by -DVUMI_PLUGIN_ENTRY_AS=name.
#define VUMI_TESTING_ENTRY(name) extern "C" const vumi_plugin_info* name(const vumi_host_info* host)

// The entry function of the plugin compiled into this test binary (defined by VUMI_PLUGIN).
VUMI_TESTING_ENTRY(VUMI_PLUGIN_ENTRY_SYMBOL);

namespace vumi::testing {

namespace json = boost::json;

// A misuse of the fake host or a refused plugin/instance (test setup errors, not step failures).
class FakeHostError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LogLine {
  vumi_log_level level = VUMI_LOG_INFO;
  std::string handler_type;  // empty during plugin init
  std::string text;
};

struct PublishedMessage {
  std::string account_key;  // account of the step that published
  std::string topic;
  json::object body;
};

struct InboxEntry {
  std::int64_t id = 0;
  json::value message;
};

// What one handle() call returned.
struct StepRun {
  vumi_step_result result = VUMI_STEP_FAIL;
  std::optional<json::object> output;           // set through set_output (last call wins)
  std::string error;                            // set through set_error
  std::optional<std::uint32_t> retry_after_ms;  // set through retry_after (ABI 1.1)

  bool continued() const { return result == VUMI_STEP_CONTINUE; }
  bool stopped() const { return result == VUMI_STEP_STOP; }
  bool failed() const { return result == VUMI_STEP_FAIL; }
  bool retried() const { return result == VUMI_STEP_RETRY; }  // asked to be run again later
};

namespace detail {

inline std::string utc_now_vumi() {
  // Vumi's timestamp format: "%Y-%m-%d %H:%M:%S.%f" in UTC.
  const auto now = std::chrono::system_clock::now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%06lld", static_cast<long long>(micros));
  return std::string(date) + fraction;
}

inline bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Applies patch to target as a JSON Merge Patch (RFC 7396): null removes a key, objects merge.
inline void merge_patch(json::value& target, const json::value& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object{};
  for (const auto& kv : patch.as_object()) {
    if (kv.value().is_null())
      target.as_object().erase(kv.key());
    else
      merge_patch(target.as_object()[kv.key()], kv.value());
  }
}

// True when every string and key in v is at most max_bytes long.
inline bool strings_within(const json::value& v, std::size_t max_bytes) {
  if (v.is_string()) return v.as_string().size() <= max_bytes;
  if (v.is_array()) {
    for (const json::value& item : v.as_array())
      if (!strings_within(item, max_bytes)) return false;
  }
  if (v.is_object()) {
    for (const auto& kv : v.as_object())
      if (kv.key().size() > max_bytes || !strings_within(kv.value(), max_bytes)) return false;
  }
  return true;
}

// Parses text that must be a JSON object; nullopt otherwise.
inline std::optional<json::object> parse_object(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

inline json::object parse_object_or_throw(std::string_view text, std::string_view what) {
  auto obj = parse_object(text);
  if (!obj) throw FakeHostError(std::string(what) + " is not a JSON object: " + std::string(text));
  return std::move(*obj);
}

inline std::string string_field(const json::object& o, std::string_view key, std::string_view what) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string())
    throw FakeHostError(std::string(what) + ": \"" + std::string(key) + "\" must be a string");
  return std::string(it->value().as_string());
}

}  // namespace detail

class FakeHost;

// What the fake host hands a plugin as vumi_call* (reinterpret_cast; the real vumi_call type
// belongs to the host library).
struct FakeCall {
  struct Step {
    json::object event;  // normalised envelope
    std::string event_text;
    std::string account_key, conversation_type, conversation_key, event_type, event_id;
    std::uint32_t depth = 0;
    std::optional<json::object> output;
    std::optional<std::uint32_t> retry_after_ms;
  };

  FakeHost* host = nullptr;
  std::string handler_type;
  std::string error;
  Step* step = nullptr;              // null outside handle()
  std::deque<std::string> returned;  // backs views handed back to the plugin for this call

  vumi_call* raw() { return reinterpret_cast<vumi_call*>(this); }
  static FakeCall& from(vumi_call* c) { return *reinterpret_cast<FakeCall*>(c); }
  vumi_view keep(std::string text) {
    returned.push_back(std::move(text));
    return vumi_view{returned.back().data(), returned.back().size()};
  }
};

class FakeHandler;

class FakeHost {
 public:
  FakeHost();
  ~FakeHost();
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  // Handshakes with a plugin entry function, checks its descriptor with the daemon's own checks
  // (vumi/host_checks.hpp) and calls init(). Throws FakeHostError("plugin refused: <the daemon's
  // reason>") on refusal.
  const vumi_plugin_info& load(vumi_plugin_entry_fn entry);
  // Opens a built plugin (.so) and loads it as load() does; the library stays open while this
  // host lives. Throws FakeHostError("<file>: <reason>") when it cannot be opened or is refused.
  const vumi_plugin_info& load_file(const std::string& file);

  // Whether instantiate() checks options and run() checks step configs against the declared
  // schemas, as the daemon does (on by default).
  void check_configs(bool on) { check_configs_ = on; }

  // The daemon's decode limits (config "limits"), applied to emitted events; defaults as the daemon's.
  struct Limits {
    std::size_t max_body_bytes = 1024 * 1024;
    std::size_t max_depth = 64;
    std::size_t max_string_bytes = 64 * 1024;
  };
  void set_limits(const Limits& limits) { limits_ = limits; }

  // The loaded handler type with that name; throws FakeHostError when there is none.
  const vumi_handler_type& handler_type(std::string_view name) const;
  // The declared schemas, parsed; a NULL schema reads as "an object with no properties".
  json::object options_schema(std::string_view type_name) const;
  json::object step_schema(std::string_view type_name) const;

  // Creates an instance through the type's create(); throws FakeHostError carrying the plugin's
  // message when create() refuses.
  FakeHandler instantiate(std::string_view type_name, std::string_view options_json = "{}");
  // Like instantiate(), but reports a refusal as a value.
  struct Created;
  Created try_instantiate(std::string_view type_name, std::string_view options_json = "{}");

  // The host-services table handed to plugins.
  const vumi_host_api* api() const { return &api_; }

  // Makes a service answer `status` on every call from now on (VUMI_OK restores it). Names are
  // the vumi_host_api field names: "publish", "emit_event", "contact_upsert", "inbox_put", ...
  void fail_service(const std::string& name, vumi_status status);
  // Sets a service entry to NULL, as a host that does not offer it.
  void remove_service(const std::string& name);

  // Recorded effects.
  const std::vector<LogLine>& logs() const { return logs_; }
  bool logged(std::string_view needle) const;
  const std::vector<PublishedMessage>& published() const { return published_; }
  // Emitted events, normalised as the daemon does: account_key, conversation_key (default the
  // parent's) and conversation_type (the account's declared type of that conversation, else the
  // parent's), event_type, a fresh event_id, timestamp, event_data (default {}), causation_id =
  // parent event_id, depth = parent depth + 1; nothing else.
  const std::vector<json::object>& emitted() const { return emitted_; }
  // A counter, by the name the plugin gave ("sent", summed over handler types) or by the daemon's
  // full name ("<handler_type>.<name>", the keys of metrics()).
  std::int64_t metric(std::string_view name) const;
  const std::map<std::string, std::int64_t, std::less<>>& metrics() const { return metrics_; }
  // Forgets logs, published messages, emitted events and metrics (keeps contacts and inbox).
  void clear_effects();

  // State. Contacts are {contact_key, msisdn, name, surname, extra, created_at, updated_at}.
  std::vector<json::object> contacts(std::string_view account) const;
  std::optional<json::object> contact_by_msisdn(std::string_view account, std::string_view msisdn) const;
  // Inserts or updates a contact directly (test setup); same rules as the contact_upsert service.
  json::object seed_contact(std::string_view account, std::string_view contact_json);
  std::vector<InboxEntry> inbox(std::string_view account) const;

  // A fresh 32-lowercase-hex id (a counter, so runs are reproducible).
  std::string new_id();

  // Declares an account's conversations (conversation_key -> type) and tags, as the operator
  // config would; the account_json service reports them (an undeclared account has none).
  void declare_account(std::string_view account, std::map<std::string, std::string> conversations,
                       std::vector<std::string> tags = {});

 private:
  friend class FakeHandler;
  struct ContactRecord {
    json::object contact;
  };
  struct Account {
    std::vector<ContactRecord> contacts;
    std::vector<InboxEntry> inbox;
    std::map<std::string, std::string> conversations;
    std::vector<std::string> tags;
  };

  StepRun run_step(const vumi_handler_type& type, void* instance, std::string_view event_json,
                   std::string_view config_json);
  std::optional<vumi_status> injected(const char* service) const;
  vumi_status upsert(const std::string& account, std::string_view contact_json, json::object& out,
                     bool& created);
  json::object* find_contact(const std::string& account, std::string_view field, std::string_view value);
  static FakeCall::Step* step_of(vumi_call* call) { return FakeCall::from(call).step; }

  // The vumi_host_api entries.
  static void svc_log(vumi_call* call, vumi_log_level level, vumi_view message) noexcept;
  static void svc_set_error(vumi_call* call, vumi_view message) noexcept;
  static vumi_status svc_set_output(vumi_call* call, vumi_view output_json) noexcept;
  static vumi_status svc_event_json(vumi_call* call, vumi_view* out) noexcept;
  static vumi_status svc_emit_event(vumi_call* call, vumi_view event_json) noexcept;
  static vumi_status svc_publish(vumi_call* call, vumi_view topic, vumi_view body_json) noexcept;
  static vumi_status svc_contact_get(vumi_call* call, vumi_view key, vumi_view* out) noexcept;
  static vumi_status svc_contact_find(vumi_call* call, vumi_view msisdn, vumi_view* out) noexcept;
  static vumi_status svc_contact_upsert(vumi_call* call, vumi_view contact_json, vumi_view* out,
                                        int* out_created) noexcept;
  static vumi_status svc_inbox_put(vumi_call* call, vumi_view message_json, std::int64_t* out_id) noexcept;
  static void svc_metric_add(vumi_call* call, vumi_view name, std::int64_t delta) noexcept;
  static void svc_new_id(vumi_call* call, char out[33]) noexcept;
  static vumi_status svc_account_json(vumi_call* call, vumi_view* out) noexcept;
  static void svc_retry_after(vumi_call* call, std::uint32_t delay_ms) noexcept;

  struct LoadedType {
    vumi_handler_type abi{};  // host-sized copy, as the daemon keeps it
    json::value options_schema;
    json::value step_schema;
  };
  struct Library {
    void* handle = nullptr;
    ~Library() {
      if (handle) dlclose(handle);
    }
  };

  vumi_host_api api_{};
  vumi_host_info info_{};
  bool check_configs_ = true;
  Limits limits_;
  std::vector<std::unique_ptr<Library>> libraries_;  // declared first: closed after shutdown()
  std::deque<vumi_plugin_info> plugins_;             // a deque: load() hands out references
  std::map<std::string, LoadedType, std::less<>> types_;
  std::map<std::string, vumi_status> failures_;
  std::vector<LogLine> logs_;
  std::vector<PublishedMessage> published_;
  std::vector<json::object> emitted_;
  std::map<std::string, std::int64_t, std::less<>> metrics_;
  std::map<std::string, Account, std::less<>> accounts_;
  std::uint64_t next_id_ = 0;
  std::int64_t next_inbox_id_ = 1;
};

// One handler instance made by a FakeHost; destroys the plugin's instance when it goes away.
class FakeHandler {
 public:
  FakeHandler(FakeHandler&& other) noexcept
      : host_(other.host_), type_(other.type_), instance_(std::exchange(other.instance_, nullptr)) {}
  FakeHandler& operator=(FakeHandler&&) = delete;
  FakeHandler(const FakeHandler&) = delete;
  ~FakeHandler() {
    if (instance_ && type_->destroy) type_->destroy(instance_);
  }

  // Runs one step: event_json is an envelope (see make_event; account, conversation, event type,
  // event_id and depth are taken from it), config_json the already rendered step config.
  // Throws FakeHostError only when either text is not a usable JSON object.
  StepRun run(std::string_view event_json, std::string_view config_json = "{}") const {
    return host_->run_step(*type_, instance_, event_json, config_json);
  }
  const vumi_handler_type& type() const { return *type_; }

 private:
  friend class FakeHost;
  FakeHandler(FakeHost* host, const vumi_handler_type* type, void* instance)
      : host_(host), type_(type), instance_(instance) {}
  FakeHost* host_;
  const vumi_handler_type* type_;
  void* instance_;
};

struct FakeHost::Created {
  std::optional<FakeHandler> handler;  // set on success
  vumi_status status = VUMI_OK;
  std::string error;  // the plugin's set_error message on refusal
};

// ---- envelope helpers -------------------------------------------------------------------------

// A VumiApiEvent envelope as the host hands it to handlers (event_id and timestamp filled in).
inline std::string make_event(std::string_view account_key, std::string_view conversation_type,
                              std::string_view conversation_key, std::string_view event_type,
                              std::string_view event_data_json = "{}", std::string_view event_id = "evt-1") {
  json::object e;
  e["account_key"] = account_key;
  e["conversation_type"] = conversation_type;
  e["conversation_key"] = conversation_key;
  e["event_type"] = event_type;
  e["event_data"] = detail::parse_object_or_throw(event_data_json, "event_data");
  e["event_id"] = event_id;
  e["timestamp"] = detail::utc_now_vumi();
  return json::serialize(e);
}

// The parts of a typical inbound Vumi user_message; defaults make a plausible SMS.
struct UserMessageSpec {
  std::string message_id = "0123456789abcdef0123456789abcdef";
  std::string from_addr = "+27820000001";
  std::string to_addr = "12345";
  std::string content = "hello";
  std::string transport_name = "sms_transport";
  std::string transport_type = "sms";
  std::string tag_pool = "longcode";  // empty: no helper_metadata.tag
  std::string tag = "12345";
};

// A Vumi user_message (message_version 20110921) as a transport publishes it.
inline std::string make_user_message(const UserMessageSpec& spec = {}) {
  json::object m;
  m["message_version"] = "20110921";
  m["message_type"] = "user_message";
  m["timestamp"] = detail::utc_now_vumi();
  m["message_id"] = spec.message_id;
  m["to_addr"] = spec.to_addr;
  m["from_addr"] = spec.from_addr;
  m["content"] = spec.content;
  m["transport_name"] = spec.transport_name;
  m["transport_type"] = spec.transport_type;
  m["in_reply_to"] = nullptr;
  m["session_event"] = nullptr;
  m["transport_metadata"] = json::object{};
  json::object helper;
  if (!spec.tag_pool.empty()) helper["tag"] = json::object{{"tag", json::array{spec.tag_pool, spec.tag}}};
  m["helper_metadata"] = std::move(helper);
  return json::serialize(m);
}

// The synthetic event the host makes from an inbound user message on a tag the account owns:
// conversation_type "transport", conversation_key "<pool>:<tag>", event_type "inbound_message".
inline std::string make_inbound_event(std::string_view account_key, std::string_view message_json) {
  json::object message = detail::parse_object_or_throw(message_json, "message");
  const json::value* tag = message.contains("helper_metadata") && message["helper_metadata"].is_object()
                               ? message["helper_metadata"].as_object().if_contains("tag")
                               : nullptr;
  const json::value* pair = tag && tag->is_object() ? tag->as_object().if_contains("tag") : nullptr;
  if (!pair || !pair->is_array() || pair->as_array().size() != 2 || !pair->as_array()[0].is_string() ||
      !pair->as_array()[1].is_string())
    throw FakeHostError("make_inbound_event: message has no helper_metadata.tag.tag [pool, tag]");
  std::string key =
      std::string(pair->as_array()[0].as_string()) + ":" + std::string(pair->as_array()[1].as_string());
  return make_event(account_key, "transport", key, "inbound_message", message_json);
}

// ---- FakeHost implementation ------------------------------------------------------------------

inline FakeHost::FakeHost() {
  api_.struct_size = sizeof(vumi_host_api);
  api_.abi_major = VUMI_ABI_MAJOR;
  api_.abi_minor = VUMI_ABI_MINOR;
  api_.log = &svc_log;
  api_.set_error = &svc_set_error;
  api_.set_output = &svc_set_output;
  api_.event_json = &svc_event_json;
  api_.emit_event = &svc_emit_event;
  api_.publish = &svc_publish;
  api_.contact_get = &svc_contact_get;
  api_.contact_find_by_msisdn = &svc_contact_find;
  api_.contact_upsert = &svc_contact_upsert;
  api_.inbox_put = &svc_inbox_put;
  api_.metric_add = &svc_metric_add;
  api_.new_id = &svc_new_id;
  api_.account_json = &svc_account_json;
  api_.retry_after = &svc_retry_after;
  info_.struct_size = sizeof(vumi_host_info);
  info_.abi_major = VUMI_ABI_MAJOR;
  info_.abi_minor = VUMI_ABI_MINOR;
  info_.host_version = "vumi-testing-fake-host";
}

inline FakeHost::~FakeHost() {
  for (const vumi_plugin_info& p : plugins_)
    if (p.shutdown) p.shutdown();
}

inline const vumi_plugin_info& FakeHost::load(vumi_plugin_entry_fn entry) {
  if (!entry) throw FakeHostError("plugin entry function is null");
  const vumi_plugin_info* raw = nullptr;
  try {
    raw = entry(&info_);
  } catch (const std::exception& e) {
    throw FakeHostError("plugin refused: entry function " VUMI_PLUGIN_ENTRY_NAME " threw an exception: " +
                        std::string(e.what()));
  }
  vumi_plugin_info info{};
  std::vector<vumi::host_checks::CheckedHandlerType> types;
  try {
    info = vumi::host_checks::read_plugin_info(raw);
    for (const vumi_plugin_info& other : plugins_)
      if (std::string_view(other.name) == info.name)
        throw vumi::host_checks::Refused("plugin \"" + std::string(info.name) + "\" is already loaded");
    types = vumi::host_checks::read_handler_types(info);
    for (const auto& type : types)
      if (types_.count(type.name))
        throw vumi::host_checks::Refused("handler type \"" + type.name + "\" is already registered");
  } catch (const vumi::host_checks::Refused& refused) {
    throw FakeHostError(std::string("plugin refused: ") + refused.what());
  }
  if (info.init) {
    FakeCall call;
    call.host = this;
    vumi_status s = VUMI_ERR_INTERNAL;
    try {
      s = info.init(call.raw(), &api_);
    } catch (const std::exception& e) {
      throw FakeHostError(std::string("plugin refused: init failed: it threw an exception: ") + e.what());
    }
    if (s != VUMI_OK)
      throw FakeHostError("plugin refused: init failed: " +
                          (call.error.empty()
                               ? "returned " + std::string(vumi_status_name(s)) + " without a message"
                               : call.error));
  }
  for (auto& type : types)
    types_[type.name] = LoadedType{type.abi, std::move(type.options_schema), std::move(type.step_schema)};
  plugins_.push_back(info);
  return plugins_.back();
}

inline const vumi_plugin_info& FakeHost::load_file(const std::string& file) {
  // RTLD_LOCAL: each plugin keeps its own symbols, so several load side by side.
  auto library = std::make_unique<Library>();
  library->handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library->handle) {
    const char* why = dlerror();
    throw FakeHostError(file + ": not a loadable shared object: " + (why ? why : "unknown error"));
  }
  void* entry = dlsym(library->handle, VUMI_PLUGIN_ENTRY_NAME);
  if (!entry)
    throw FakeHostError(file + ": " + vumi::host_checks::missing_entry_reason([&](const std::string& symbol) {
                          return dlsym(library->handle, symbol.c_str()) != nullptr;
                        }));
  libraries_.push_back(std::move(library));
  try {
    return load(reinterpret_cast<vumi_plugin_entry_fn>(entry));
  } catch (const FakeHostError& e) {
    throw FakeHostError(file + ": " + e.what());
  }
}

inline const vumi_handler_type& FakeHost::handler_type(std::string_view name) const {
  auto it = types_.find(name);
  if (it == types_.end()) throw FakeHostError("no handler type \"" + std::string(name) + "\" is loaded");
  return it->second.abi;
}

inline json::object FakeHost::options_schema(std::string_view type_name) const {
  handler_type(type_name);
  return types_.find(type_name)->second.options_schema.as_object();
}

inline json::object FakeHost::step_schema(std::string_view type_name) const {
  handler_type(type_name);
  return types_.find(type_name)->second.step_schema.as_object();
}

inline FakeHost::Created FakeHost::try_instantiate(std::string_view type_name,
                                                   std::string_view options_json) {
  const vumi_handler_type& type = handler_type(type_name);
  const json::object options = detail::parse_object_or_throw(options_json, "options");
  Created created;
  if (check_configs_) {  // as `check` and `run` do before create()
    const auto problems =
        vumi::host_checks::validate(options, types_.find(type_name)->second.options_schema, "options", false);
    if (!problems.empty()) {
      created.status = VUMI_ERR_INVALID_ARGUMENT;
      for (const auto& [path, message] : problems)
        created.error += (created.error.empty() ? "" : "; ") + path + ": " + message;
      return created;
    }
  }
  void* instance = nullptr;
  if (type.create) {
    FakeCall call;
    call.host = this;
    call.handler_type = type.name;
    created.status = type.create(call.raw(), &api_, vumi::sdk::view(options_json), &instance);
    if (created.status != VUMI_OK) {
      created.error = call.error;
      return created;
    }
  }
  created.handler.emplace(FakeHandler(this, &type, instance));
  return created;
}

inline FakeHandler FakeHost::instantiate(std::string_view type_name, std::string_view options_json) {
  Created c = try_instantiate(type_name, options_json);
  if (!c.handler)
    throw FakeHostError("create() of handler \"" + std::string(type_name) + "\" refused (" +
                        vumi::sdk::status_name(c.status) + "): " + c.error);
  return std::move(*c.handler);
}

inline StepRun FakeHost::run_step(const vumi_handler_type& type, void* instance, std::string_view event_json,
                                  std::string_view config_json) {
  FakeCall::Step step;
  step.event = detail::parse_object_or_throw(event_json, "event");
  if (!step.event.contains("event_data") && step.event.contains("content"))  // vumi-go's older name
    step.event["event_data"] = step.event["content"];
  step.account_key = detail::string_field(step.event, "account_key", "event");
  step.conversation_type = detail::string_field(step.event, "conversation_type", "event");
  step.conversation_key = detail::string_field(step.event, "conversation_key", "event");
  step.event_type = detail::string_field(step.event, "event_type", "event");
  if (!step.event.contains("event_data") || !step.event["event_data"].is_object())
    throw FakeHostError("event: \"event_data\" must be an object");
  if (!step.event.contains("event_id")) step.event["event_id"] = new_id();
  if (!step.event.contains("timestamp")) step.event["timestamp"] = detail::utc_now_vumi();
  step.event_id = detail::string_field(step.event, "event_id", "event");
  if (auto* d = step.event.if_contains("depth"); d && d->is_int64() && d->as_int64() >= 0)
    step.depth = static_cast<std::uint32_t>(d->as_int64());
  step.event_text = json::serialize(step.event);
  const json::object config = detail::parse_object_or_throw(config_json, "step config");
  if (check_configs_) {  // as the daemon checks a rendered step config before handle()
    const auto problems =
        vumi::host_checks::validate(config, types_.find(type.name)->second.step_schema, "config", false);
    if (!problems.empty()) {
      StepRun refused;
      refused.result = VUMI_STEP_FAIL;
      refused.error = "rendered config does not match the step schema: ";
      for (std::size_t i = 0; i < problems.size(); ++i)
        refused.error += (i ? "; " : "") + problems[i].first + ": " + problems[i].second;
      return refused;
    }
  }

  vumi_step_input input{};
  input.struct_size = sizeof(vumi_step_input);
  input.account_key = vumi::sdk::view(step.account_key);
  input.conversation_type = vumi::sdk::view(step.conversation_type);
  input.conversation_key = vumi::sdk::view(step.conversation_key);
  input.event_type = vumi::sdk::view(step.event_type);
  input.event_id = vumi::sdk::view(step.event_id);
  input.config_json = vumi::sdk::view(config_json);
  input.depth = step.depth;

  FakeCall call;
  call.host = this;
  call.handler_type = type.name;
  call.step = &step;
  StepRun run;
  run.result = type.handle(instance, call.raw(), &api_, &input);
  run.output = std::move(step.output);
  run.retry_after_ms = step.retry_after_ms;
  run.error = std::move(call.error);
  return run;
}

inline void FakeHost::fail_service(const std::string& name, vumi_status status) {
  if (status == VUMI_OK)
    failures_.erase(name);
  else
    failures_[name] = status;
}

inline void FakeHost::remove_service(const std::string& name) {
  if (name == "set_output")
    api_.set_output = nullptr;
  else if (name == "event_json")
    api_.event_json = nullptr;
  else if (name == "emit_event")
    api_.emit_event = nullptr;
  else if (name == "publish")
    api_.publish = nullptr;
  else if (name == "contact_get")
    api_.contact_get = nullptr;
  else if (name == "contact_find_by_msisdn")
    api_.contact_find_by_msisdn = nullptr;
  else if (name == "contact_upsert")
    api_.contact_upsert = nullptr;
  else if (name == "inbox_put")
    api_.inbox_put = nullptr;
  else if (name == "metric_add")
    api_.metric_add = nullptr;
  else if (name == "new_id")
    api_.new_id = nullptr;
  else if (name == "account_json")
    api_.account_json = nullptr;
  else if (name == "retry_after")  // as a 1.0 host: retries are not understood
    api_.retry_after = nullptr;
  else
    throw FakeHostError("remove_service: no removable service \"" + name + "\"");
}

inline std::optional<vumi_status> FakeHost::injected(const char* service) const {
  auto it = failures_.find(service);
  if (it == failures_.end()) return std::nullopt;
  return it->second;
}

inline bool FakeHost::logged(std::string_view needle) const {
  for (const LogLine& l : logs_)
    if (l.text.find(needle) != std::string::npos) return true;
  return false;
}

inline std::int64_t FakeHost::metric(std::string_view name) const {
  std::int64_t total = 0;
  for (const auto& [key, value] : metrics_)
    if (key == name ||
        (key.size() > name.size() && key.ends_with(name) && key[key.size() - name.size() - 1] == '.'))
      total += value;
  return total;
}

inline void FakeHost::clear_effects() {
  logs_.clear();
  published_.clear();
  emitted_.clear();
  metrics_.clear();
}

inline std::vector<json::object> FakeHost::contacts(std::string_view account) const {
  std::vector<json::object> out;
  auto it = accounts_.find(account);
  if (it != accounts_.end())
    for (const ContactRecord& r : it->second.contacts) out.push_back(r.contact);
  return out;
}

inline std::optional<json::object> FakeHost::contact_by_msisdn(std::string_view account,
                                                               std::string_view msisdn) const {
  for (json::object& c : contacts(account))
    if (c["msisdn"].as_string() == msisdn) return c;
  return std::nullopt;
}

inline json::object FakeHost::seed_contact(std::string_view account, std::string_view contact_json) {
  json::object out;
  bool created = false;
  if (upsert(std::string(account), contact_json, out, created) != VUMI_OK)
    throw FakeHostError("seed_contact: not a valid contact: " + std::string(contact_json));
  return out;
}

inline std::vector<InboxEntry> FakeHost::inbox(std::string_view account) const {
  auto it = accounts_.find(account);
  return it == accounts_.end() ? std::vector<InboxEntry>{} : it->second.inbox;
}

inline std::string FakeHost::new_id() {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%032llx", static_cast<unsigned long long>(++next_id_));
  return std::string(buf, 32);
}

inline json::object* FakeHost::find_contact(const std::string& account, std::string_view field,
                                            std::string_view value) {
  auto it = accounts_.find(account);
  if (it == accounts_.end()) return nullptr;
  for (ContactRecord& r : it->second.contacts)
    if (r.contact[field].as_string() == value) return &r.contact;
  return nullptr;
}

// Same rules as the real store: msisdn (non-empty string) required; name, surname (strings) and
// extra (object) optional; present fields replace stored ones, absent ones are kept.
inline vumi_status FakeHost::upsert(const std::string& account, std::string_view contact_json,
                                    json::object& out, bool& created) {
  auto fields = detail::parse_object(contact_json);
  if (!fields) return VUMI_ERR_INVALID_ARGUMENT;
  for (const auto& kv : *fields) {
    const std::string_view k = kv.key();
    const bool ok = (k == "msisdn" || k == "name" || k == "surname") ? kv.value().is_string()
                    : k == "extra"                                   ? kv.value().is_object()
                                                                     : false;
    if (!ok) return VUMI_ERR_INVALID_ARGUMENT;
  }
  if (!fields->contains("msisdn") || fields->at("msisdn").as_string().empty())
    return VUMI_ERR_INVALID_ARGUMENT;
  const std::string now = detail::utc_now_vumi();
  json::object* existing = find_contact(account, "msisdn", fields->at("msisdn").as_string());
  created = existing == nullptr;
  if (created) {
    json::object c;
    c["contact_key"] = new_id();
    c["msisdn"] = fields->at("msisdn");
    c["name"] = "";
    c["surname"] = "";
    c["extra"] = json::object{};
    c["created_at"] = now;
    accounts_[account].contacts.push_back({std::move(c)});
    existing = &accounts_[account].contacts.back().contact;
  }
  for (const auto& kv : *fields) {
    if (kv.key() == "extra")  // merged as a JSON Merge Patch (RFC 7396), as the daemon's store does
      detail::merge_patch((*existing)["extra"], kv.value());
    else
      (*existing)[kv.key()] = kv.value();
  }
  (*existing)["updated_at"] = now;
  out = *existing;
  return VUMI_OK;
}

inline void FakeHost::svc_log(vumi_call* call, vumi_log_level level, vumi_view message) noexcept {
  try {
    FakeCall& c = FakeCall::from(call);
    c.host->logs_.push_back({level, c.handler_type, std::string(vumi::sdk::str(message))});
  } catch (...) {
  }
}

inline void FakeHost::svc_retry_after(vumi_call* call, std::uint32_t delay_ms) noexcept {
  if (FakeCall::Step* step = step_of(call)) step->retry_after_ms = delay_ms;
}

inline void FakeHost::svc_set_error(vumi_call* call, vumi_view message) noexcept {
  try {
    FakeCall::from(call).error = std::string(vumi::sdk::str(message));
  } catch (...) {
  }
}

inline vumi_status FakeHost::svc_set_output(vumi_call* call, vumi_view output_json) noexcept {
  try {
    FakeCall::Step* step = step_of(call);
    if (!step) return VUMI_ERR_UNAVAILABLE;
    if (auto s = FakeCall::from(call).host->injected("set_output")) return *s;
    auto out = detail::parse_object(vumi::sdk::str(output_json));
    if (!out) return VUMI_ERR_INVALID_ARGUMENT;
    step->output = std::move(*out);
    return VUMI_OK;
  } catch (...) {
    return VUMI_ERR_INTERNAL;
  }
}

inline vumi_status FakeHost::svc_event_json(vumi_call* call, vumi_view* out) noexcept {
  FakeCall::Step* step = step_of(call);
  if (!step || !out) return step ? VUMI_ERR_INVALID_ARGUMENT : VUMI_ERR_UNAVAILABLE;
  if (auto s = FakeCall::from(call).host->injected("event_json")) return *s;
  *out = vumi::sdk::view(step->event_text);
  return VUMI_OK;
}

inline vumi_status FakeHost::svc_emit_event(vumi_call* call, vumi_view event_json) noexcept {
  try {
    FakeCall& c = FakeCall::from(call);
    if (!c.step) return VUMI_ERR_UNAVAILABLE;
    if (auto s = c.host->injected("emit_event")) return *s;
    // As the daemon reads an emitted event: within its decode limits, event_type an identifier,
    // conversation_type/key optional identifiers, event_data an optional object, account_key (if
    // given) the current account's.
    const std::string_view text = vumi::sdk::str(event_json);
    if (text.size() > c.host->limits_.max_body_bytes) return VUMI_ERR_INVALID_ARGUMENT;
    boost::system::error_code ec;
    json::parse_options options;
    options.max_depth = c.host->limits_.max_depth;
    json::value parsed = json::parse(text, ec, {}, options);
    if (ec || !parsed.is_object() || !detail::strings_within(parsed, c.host->limits_.max_string_bytes))
      return VUMI_ERR_INVALID_ARGUMENT;
    json::object* e = &parsed.as_object();
    auto* type = e->if_contains("event_type");
    if (!type || !type->is_string() || !detail::is_identifier(type->as_string()))
      return VUMI_ERR_INVALID_ARGUMENT;
    for (const char* key : {"conversation_type", "conversation_key"}) {
      auto* v = e->if_contains(key);
      if (v && (!v->is_string() || !detail::is_identifier(v->as_string()))) return VUMI_ERR_INVALID_ARGUMENT;
    }
    if (auto* data = e->if_contains("event_data"); data && !data->is_object())
      return VUMI_ERR_INVALID_ARGUMENT;
    if (!e->contains("event_data")) (*e)["event_data"] = json::object{};
    if (auto* account = e->if_contains("account_key");
        account && (!account->is_string() || account->as_string() != c.step->account_key))
      return VUMI_ERR_INVALID_ARGUMENT;  // a handler cannot emit for another account
    if (!e->contains("conversation_key")) (*e)["conversation_key"] = c.step->conversation_key;
    if (!e->contains("conversation_type")) {
      // Another of the account's conversations has its declared type, as in the daemon.
      const std::string key(e->at("conversation_key").as_string());
      std::string type_of_key = c.step->conversation_type;
      auto account = c.host->accounts_.find(c.step->account_key);
      if (key != c.step->conversation_key && account != c.host->accounts_.end()) {
        auto declared = account->second.conversations.find(key);
        if (declared != account->second.conversations.end()) type_of_key = declared->second;
      }
      (*e)["conversation_type"] = type_of_key;
    }
    // The daemon's normalised envelope: these keys only.
    json::object normalised{{"account_key", c.step->account_key},
                            {"conversation_key", e->at("conversation_key")},
                            {"conversation_type", e->at("conversation_type")},
                            {"event_type", e->at("event_type")},
                            {"event_id", c.host->new_id()},
                            {"timestamp", detail::utc_now_vumi()},
                            {"event_data", e->at("event_data")},
                            {"causation_id", c.step->event_id},
                            {"depth", c.step->depth + 1}};
    c.host->emitted_.push_back(std::move(normalised));
    return VUMI_OK;
  } catch (...) {
    return VUMI_ERR_INTERNAL;
  }
}

inline vumi_status FakeHost::svc_publish(vumi_call* call, vumi_view topic, vumi_view body_json) noexcept {
  try {
    FakeCall& c = FakeCall::from(call);
    if (!c.step) return VUMI_ERR_UNAVAILABLE;
    if (auto s = c.host->injected("publish")) return *s;
    const std::string t(vumi::sdk::str(topic));
    // As the daemon: outbound.<transport>, conversation.<type>.<key> of a conversation the
    // account declares (declare_account), event.<the current account>.<type>.<event_type>.
    std::vector<std::string> parts;
    for (std::size_t start = 0;;) {
      const std::size_t dot = t.find('.', start);
      parts.push_back(t.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    for (std::size_t i = 1; i < parts.size(); ++i)
      if (!detail::is_identifier(parts[i])) return VUMI_ERR_INVALID_ARGUMENT;
    bool allowed = false;
    if (parts[0] == "outbound" || parts[0] == "command") {
      allowed = parts.size() == 2;
    } else if (parts[0] == "conversation" && parts.size() == 3) {
      auto account = c.host->accounts_.find(c.step->account_key);
      if (account != c.host->accounts_.end()) {
        auto declared = account->second.conversations.find(parts[2]);
        allowed = declared != account->second.conversations.end() && declared->second == parts[1];
      }
    } else if (parts[0] == "event" && parts.size() == 4) {
      allowed = parts[1] == c.step->account_key;
    }
    if (!allowed) return VUMI_ERR_INVALID_ARGUMENT;
    auto body = detail::parse_object(vumi::sdk::str(body_json));
    if (!body) return VUMI_ERR_INVALID_ARGUMENT;
    c.host->published_.push_back({c.step->account_key, t, std::move(*body)});
    return VUMI_OK;
  } catch (...) {
    return VUMI_ERR_INTERNAL;
  }
}

inline vumi_status FakeHost::svc_contact_get(vumi_call* call, vumi_view key, vumi_view* out) noexcept {
  try {
    FakeCall& c = FakeCall::from(call);
    if (!c.step) return VUMI_ERR_UNAVAILABLE;
    if (auto s = c.host->injected("contact_get")) return *s;
    if (!out) return VUMI_ERR_INVALID_ARGUMENT;
    json::object* found = c.host->find_contact(c.step->account_key, "contact_key", vumi::sdk::str(key));
    if (!found) return VUMI_ERR_NOT_FOUND;
    *out = c.keep(json::serialize(*found));
    return VUMI_OK;
  } catch (...) {
    return VUMI_ERR_INTERNAL;
  }
}

inline vumi_status FakeHost::svc_contact_find(vumi_call* call, vumi_view msisdn, vumi_view* out) noexcept {
  try {
    FakeCall& c = FakeCall::from(call);
    if (!c.step) return VUMI_ERR_UNAVAILABLE;
    if (auto s = c.host->injected("contact_find_by_msisdn")) return *s;
    if (!out) return VUMI_ERR_INVALID_ARGUMENT;
    json::object* found = c.host->find_contact(c.step->account_key, "msisdn", vumi::sdk::str(msisdn));
    if (!found) return VUMI_ERR_NOT_FOUND;
    *out = c.keep(json::serialize(*found));
    return VUMI_OK;
  } catch (...) {
    return VUMI_ERR_INTERNAL;
  }
}

inline vumi_status FakeHost::svc_contact_upsert(vumi_call* call, vumi_view contact_json, vumi_view* out,
                                                int* out_created) noexcept {
  try {
    FakeCall& c = FakeCall::from(call);
    if (!c.step) return VUMI_ERR_UNAVAILABLE;
    if (auto s = c.host->injected("contact_upsert")) return *s;
    json::object stored;
    bool created = false;
    const vumi_status s = c.host->upsert(c.step->account_key, vumi::sdk::str(contact_json), stored, created);
    if (s != VUMI_OK) return s;
    if (out) *out = c.keep(json::serialize(stored));
    if (out_created) *out_created = created ? 1 : 0;
    return VUMI_OK;
  } catch (...) {
    return VUMI_ERR_INTERNAL;
  }
}

inline vumi_status FakeHost::svc_inbox_put(vumi_call* call, vumi_view message_json,
                                           std::int64_t* out_id) noexcept {
  try {
    FakeCall& c = FakeCall::from(call);
    if (!c.step) return VUMI_ERR_UNAVAILABLE;
    if (auto s = c.host->injected("inbox_put")) return *s;
    auto message = detail::parse_object(vumi::sdk::str(message_json));
    if (!message) return VUMI_ERR_INVALID_ARGUMENT;
    const std::int64_t id = c.host->next_inbox_id_++;
    c.host->accounts_[c.step->account_key].inbox.push_back({id, std::move(*message)});
    if (out_id) *out_id = id;
    return VUMI_OK;
  } catch (...) {
    return VUMI_ERR_INTERNAL;
  }
}

inline void FakeHost::svc_metric_add(vumi_call* call, vumi_view name, std::int64_t delta) noexcept {
  try {
    // Named as the daemon names it: "<handler_type>.<name>".
    FakeCall& c = FakeCall::from(call);
    if (!c.step) return;  // ignored outside handle(), as the daemon does
    c.host->metrics_[c.handler_type + "." + std::string(vumi::sdk::str(name))] += delta;
  } catch (...) {
  }
}

inline void FakeHost::declare_account(std::string_view account,
                                      std::map<std::string, std::string> conversations,
                                      std::vector<std::string> tags) {
  Account& a = accounts_[std::string(account)];
  a.conversations = std::move(conversations);
  a.tags = std::move(tags);
}

inline vumi_status FakeHost::svc_account_json(vumi_call* call, vumi_view* out) noexcept {
  try {
    FakeCall& c = FakeCall::from(call);
    if (!c.step) return VUMI_ERR_UNAVAILABLE;
    if (auto s = c.host->injected("account_json")) return *s;
    json::object conversations;
    json::array tags;
    auto it = c.host->accounts_.find(c.step->account_key);
    if (it != c.host->accounts_.end()) {
      for (const auto& [key, type] : it->second.conversations) conversations[key] = type;
      for (const auto& tag : it->second.tags) tags.emplace_back(tag);
    }
    json::object account{
        {"key", c.step->account_key}, {"conversations", std::move(conversations)}, {"tags", std::move(tags)}};
    if (out) *out = c.keep(json::serialize(account));
    return VUMI_OK;
  } catch (...) {
    return VUMI_ERR_INTERNAL;
  }
}

inline void FakeHost::svc_new_id(vumi_call* call, char out[33]) noexcept {
  std::snprintf(out, 33, "%032llx", static_cast<unsigned long long>(++FakeCall::from(call).host->next_id_));
}

}  // namespace vumi::testing

#endif  // VUMI_TESTING_HPP
