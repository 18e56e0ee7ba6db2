/*
 * vumi-dispatcher plugin ABI, version 1 (current minor: 1.1).
 *
 * This plain C header is the only thing that crosses a plugin's shared-object boundary. A plugin
 * exports exactly one function, VUMI_PLUGIN_ENTRY_SYMBOL, which returns a static vumi_plugin_info.
 * The host checks that descriptor field by field before it touches anything else.
 *
 * Compatibility promise (see docs/sdk.md):
 *  - The host loads plugins built for the same ABI major and a minor not newer than its own.
 *  - Within a major, structs only ever grow at the end. Every struct starts with its own size, so
 *    the side that reads it copies what the writer knew and treats the rest as zero/NULL.
 *  - Fields are never removed, reordered or retyped within a major.
 *
 * Ownership: a vumi_view is borrowed. Views the host passes in are valid until the callback that
 * received them returns; views the host hands back from a service call are valid until the
 * plugin's current callback returns. Strings the plugin passes to the host are copied by the host.
 * Nothing crossing this boundary throws; every call reports a vumi_status.
 *
 * Fields hold fixed-width integers, never enum types (an enum's size is the compiler's choice);
 * the enums below only name their values. The layout is pinned by the asserts at the end.
 *
 * ABI 1.1 (appended, 1.0 plugins keep loading): vumi_handler_type.validate and
 * vumi_validate_input; vumi_handler_type.threading is a uint32_t (was the same-sized enum);
 * vumi_status_name().
 */
#ifndef VUMI_PLUGIN_H
#define VUMI_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VUMI_ABI_MAJOR 1
#define VUMI_ABI_MINOR 1

/* A plugin may be built for an older minor of this major (it then loads on older hosts too):
 * define VUMI_TARGET_ABI_MINOR before including this header. */
#ifndef VUMI_TARGET_ABI_MINOR
#define VUMI_TARGET_ABI_MINOR VUMI_ABI_MINOR
#endif

/* The single symbol a plugin exports. */
#define VUMI_PLUGIN_ENTRY_SYMBOL vumi_plugin_entry_v1
#define VUMI_PLUGIN_ENTRY_NAME "vumi_plugin_entry_v1"

#if defined(__GNUC__) || defined(__clang__)
#define VUMI_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define VUMI_PLUGIN_EXPORT
#endif

#define VUMI_STRINGIFY_(x) #x
#define VUMI_STRINGIFY(x) VUMI_STRINGIFY_(x)
/* Identifies how the plugin was built; shown by `vumi-dispatcher plugins`, checked for presence. */
#define VUMI_BUILD_TAG                                           \
  "vumi-abi-" VUMI_STRINGIFY(VUMI_ABI_MAJOR) "." VUMI_STRINGIFY( \
      VUMI_TARGET_ABI_MINOR) " ptr" VUMI_STRINGIFY(__SIZEOF_POINTER__)

/* A borrowed, not necessarily NUL-terminated, UTF-8 string or JSON text. */
typedef struct vumi_view {
  const char* data;
  size_t size;
} vumi_view;

/* Result of every host service and of plugin init/create. */
typedef enum vumi_status {
  VUMI_OK = 0,
  VUMI_ERR_INVALID_ARGUMENT = 1, /* bad JSON, bad identifier, missing field */
  VUMI_ERR_NOT_FOUND = 2,        /* the looked-up record does not exist */
  VUMI_ERR_CONFLICT = 3,         /* e.g. a unique key already taken */
  VUMI_ERR_UNAVAILABLE = 4,      /* service not offered by this host or in this context */
  VUMI_ERR_LIMIT = 5,            /* a limit was reached (emit depth, sizes) */
  VUMI_ERR_INTERNAL = 6          /* the host failed (storage, transport); details are logged */
} vumi_status;

/* A status's name ("ok", "invalid_argument", ...); "unknown" for a value outside the list. */
static inline const char* vumi_status_name(vumi_status status) {
  switch ((int)status) {
    case VUMI_OK:
      return "ok";
    case VUMI_ERR_INVALID_ARGUMENT:
      return "invalid_argument";
    case VUMI_ERR_NOT_FOUND:
      return "not_found";
    case VUMI_ERR_CONFLICT:
      return "conflict";
    case VUMI_ERR_UNAVAILABLE:
      return "unavailable";
    case VUMI_ERR_LIMIT:
      return "limit";
    case VUMI_ERR_INTERNAL:
      return "internal";
    default:
      return "unknown";
  }
}

/* What a handler's step tells the chain runner to do next. */
typedef enum vumi_step_result {
  VUMI_STEP_CONTINUE = 0, /* go to the next step; output (if set) is stored as steps.<as> */
  VUMI_STEP_STOP = 1,     /* the chain ends successfully */
  VUMI_STEP_FAIL = 2      /* the chain ends; the host records a dead letter with the error message */
} vumi_step_result;

typedef enum vumi_log_level {
  VUMI_LOG_DEBUG = 0,
  VUMI_LOG_INFO = 1,
  VUMI_LOG_WARN = 2,
  VUMI_LOG_ERROR = 3
} vumi_log_level;

/* How the host may call one handler instance (the values of vumi_handler_type.threading). */
typedef enum vumi_threading {
  VUMI_THREADING_SERIAL = 0,   /* never two calls on one instance at a time */
  VUMI_THREADING_REENTRANT = 1 /* handle() may run concurrently on one instance */
} vumi_threading;

/* Opaque per-callback context: every host service takes the one the current callback received. */
typedef struct vumi_call vumi_call;

/*
 * Services the host implements, handed to the plugin (never linked). Entries a host does not
 * offer are NULL; check with VUMI_HOST_HAS before calling an entry added after ABI 1.0.
 * Services that act on account data are scoped to the account of the event being handled and
 * return VUMI_ERR_UNAVAILABLE outside handle().
 */
typedef struct vumi_host_api {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;

  /* Writes a log line attributed to the plugin and handler. Always offered. */
  void (*log)(vumi_call* call, vumi_log_level level, vumi_view message);
  /* Records why the current callback failed; the host shows it in errors and dead letters. */
  void (*set_error)(vumi_call* call, vumi_view message);
  /* Sets the step's output object (JSON text); only in handle(). */
  vumi_status (*set_output)(vumi_call* call, vumi_view output_json);
  /* The full event envelope as JSON text, serialised on first request and cached. */
  vumi_status (*event_json)(vumi_call* call, vumi_view* out_json);

  /* Emits an event for the current account: JSON object with event_type, event_data and
   * optional conversation_type/conversation_key (defaulting to the current event's). It is
   * dispatched after the current chain and published on the outbound socket. */
  vumi_status (*emit_event)(vumi_call* call, vumi_view event_json);
  /* Publishes body_json on the outbound socket under topic (outbound.*, conversation.*). */
  vumi_status (*publish)(vumi_call* call, vumi_view topic, vumi_view body_json);

  /* Contacts of the current account. Returned JSON is a contact object:
   * {contact_key, msisdn, name, surname, extra, created_at, updated_at}. */
  vumi_status (*contact_get)(vumi_call* call, vumi_view contact_key, vumi_view* out_contact);
  vumi_status (*contact_find_by_msisdn)(vumi_call* call, vumi_view msisdn, vumi_view* out_contact);
  /* Inserts or updates by msisdn; fields absent from contact_json are kept. out_created is 1 when
   * a new contact was made. */
  vumi_status (*contact_upsert)(vumi_call* call, vumi_view contact_json, vumi_view* out_contact,
                                int* out_created);

  /* Stores a message in the current account's inbox; out_id receives the entry id. */
  vumi_status (*inbox_put)(vumi_call* call, vumi_view message_json, int64_t* out_id);

  /* Adds delta to the named counter (scoped to plugin and handler type). */
  void (*metric_add)(vumi_call* call, vumi_view name, int64_t delta);

  /* Generates a fresh unique id (32 lowercase hex characters) into out[0..32], NUL-terminated. */
  void (*new_id)(vumi_call* call, char out[33]);

  /* The current account's declared configuration as JSON text:
   * {"key": ..., "conversations": {conversation_key: conversation_type}, "tags": ["pool:tag"]}. */
  vumi_status (*account_json)(vumi_call* call, vumi_view* out_json);
} vumi_host_api;

#define VUMI_HOST_HAS(api, field)                                                                  \
  ((api) != NULL && (api)->struct_size >= offsetof(vumi_host_api, field) + sizeof((api)->field) && \
   (api)->field != NULL)

/* What handle() receives besides the call context. Views are valid for the call only. */
typedef struct vumi_step_input {
  uint32_t struct_size;
  vumi_view account_key;
  vumi_view conversation_type;
  vumi_view conversation_key;
  vumi_view event_type;
  vumi_view event_id;
  vumi_view config_json; /* the step's config, templates already rendered; "{}" when absent */
  uint32_t depth;        /* 0 for an event from a worker, +1 per emit */
} vumi_step_input;

/* Opaque: where validate() reports problems. */
typedef struct vumi_validation vumi_validation;

/* What validate() receives (ABI 1.1). Views are valid for the call only. */
typedef struct vumi_validate_input {
  uint32_t struct_size;
  vumi_view options_json; /* the instance's options, already valid against options_schema */
  vumi_view config_json;  /* the step's config as written (templates not rendered), valid
                             against step_schema */
  vumi_view account_json; /* the account's declared configuration:
                             {"key": ..., "conversations": {key: type}, "tags": ["pool:tag"]} */
  vumi_validation* errors;
  /* Reports one problem. path is relative to the step's config, in the host's JSON path form
   * ("routes.longcode:12345", "keywords[2]"; empty for the config itself); both are copied. */
  void (*add_error)(vumi_validation* errors, vumi_view path, vumi_view message);
} vumi_validate_input;

/*
 * One handler type a plugin offers. Schemas are JSON text in the schema subset of docs/sdk.md
 * ({"type":"object","properties":{...},"required":[...],"additionalProperties":false}).
 */
typedef struct vumi_handler_type {
  uint32_t struct_size;
  const char* name;               /* identifier, unique across all loaded plugins */
  const char* description;        /* one line */
  const char* options_schema;     /* schema of the instance's "options"; NULL = accepts {} only */
  const char* step_schema;        /* schema of a step's "config"; NULL = accepts {} only */
  const char* output_description; /* one line: what steps.<as> holds afterwards */
  uint32_t threading;             /* a vumi_threading value */

  /* Makes an instance from validated options; on failure calls set_error and returns non-OK.
   * NULL: the handler keeps no instance state and handle() receives instance == NULL. */
  vumi_status (*create)(vumi_call* call, const vumi_host_api* host, vumi_view options_json,
                        void** out_instance);
  /* Releases an instance made by create (required when create is given). */
  void (*destroy)(void* instance);
  /* Runs one step. Required. */
  vumi_step_result (*handle)(void* instance, vumi_call* call, const vumi_host_api* host,
                             const vumi_step_input* input);

  /* ABI 1.1, optional: checks a step against what the schema cannot express (e.g. references to
   * the account's tags or conversations). `check`, `run` and reloads call it once per step after
   * the schema checks passed; every add_error refuses the config. Returns VUMI_OK when it could
   * judge the step (with or without problems); anything else is reported with set_error's text.
   * Host services that act on account data are unavailable here. */
  vumi_status (*validate)(vumi_call* call, const vumi_host_api* host, const vumi_validate_input* input);
} vumi_handler_type;

/* The descriptor the entry function returns; static storage owned by the plugin. */
typedef struct vumi_plugin_info {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;
  const char* build_tag; /* VUMI_BUILD_TAG */
  const char* name;      /* identifier */
  const char* version;   /* free-form, e.g. "1.2.0" */
  uint32_t handler_count;
  const vumi_handler_type* const* handlers; /* handler_count pointers */

  /* Optional: called once after the descriptor is accepted; non-OK refuses the plugin with
   * the message given through set_error. */
  vumi_status (*init)(vumi_call* call, const vumi_host_api* host);
  /* Optional: called once before the library is unloaded, after every instance is destroyed. */
  void (*shutdown)(void);
} vumi_plugin_info;

/* What the host tells the plugin about itself at the handshake. */
typedef struct vumi_host_info {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;
  const char* host_version;
} vumi_host_info;

/* The entry function every plugin exports under VUMI_PLUGIN_ENTRY_SYMBOL. */
typedef const vumi_plugin_info* (*vumi_plugin_entry_fn)(const vumi_host_info* host);

/* Smallest descriptor sizes the host accepts for each minor. */
#define VUMI_PLUGIN_INFO_V1_0_SIZE (offsetof(vumi_plugin_info, shutdown) + sizeof(void (*)(void)))
#define VUMI_PLUGIN_INFO_V1_1_SIZE VUMI_PLUGIN_INFO_V1_0_SIZE
#define VUMI_HANDLER_TYPE_V1_0_SIZE (offsetof(vumi_handler_type, handle) + sizeof(void*))
#define VUMI_HANDLER_TYPE_V1_1_SIZE (offsetof(vumi_handler_type, validate) + sizeof(void*))

/* The layout, pinned for LP64 targets: a change here is an ABI break, not a refactor. */
#if defined(__LP64__) && (defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L))
#ifdef __cplusplus
#define VUMI_ABI_ASSERT(cond) static_assert(cond, #cond)
#else
#define VUMI_ABI_ASSERT(cond) _Static_assert(cond, #cond)
#endif
VUMI_ABI_ASSERT(sizeof(vumi_status) == 4 && sizeof(vumi_step_result) == 4 && sizeof(vumi_log_level) == 4);
VUMI_ABI_ASSERT(sizeof(vumi_view) == 16 && offsetof(vumi_view, size) == 8);
VUMI_ABI_ASSERT(offsetof(vumi_host_api, abi_major) == 4 && offsetof(vumi_host_api, abi_minor) == 6);
VUMI_ABI_ASSERT(offsetof(vumi_host_api, log) == 8 && offsetof(vumi_host_api, set_error) == 16);
VUMI_ABI_ASSERT(offsetof(vumi_host_api, set_output) == 24 && offsetof(vumi_host_api, event_json) == 32);
VUMI_ABI_ASSERT(offsetof(vumi_host_api, emit_event) == 40 && offsetof(vumi_host_api, publish) == 48);
VUMI_ABI_ASSERT(offsetof(vumi_host_api, contact_get) == 56 &&
                offsetof(vumi_host_api, contact_find_by_msisdn) == 64);
VUMI_ABI_ASSERT(offsetof(vumi_host_api, contact_upsert) == 72 && offsetof(vumi_host_api, inbox_put) == 80);
VUMI_ABI_ASSERT(offsetof(vumi_host_api, metric_add) == 88 && offsetof(vumi_host_api, new_id) == 96);
VUMI_ABI_ASSERT(offsetof(vumi_host_api, account_json) == 104 && sizeof(vumi_host_api) == 112);
VUMI_ABI_ASSERT(offsetof(vumi_step_input, account_key) == 8 &&
                offsetof(vumi_step_input, conversation_type) == 24);
VUMI_ABI_ASSERT(offsetof(vumi_step_input, conversation_key) == 40 &&
                offsetof(vumi_step_input, event_type) == 56);
VUMI_ABI_ASSERT(offsetof(vumi_step_input, event_id) == 72 && offsetof(vumi_step_input, config_json) == 88);
VUMI_ABI_ASSERT(offsetof(vumi_step_input, depth) == 104 && sizeof(vumi_step_input) == 112);
VUMI_ABI_ASSERT(offsetof(vumi_validate_input, options_json) == 8 &&
                offsetof(vumi_validate_input, config_json) == 24);
VUMI_ABI_ASSERT(offsetof(vumi_validate_input, account_json) == 40 &&
                offsetof(vumi_validate_input, errors) == 56);
VUMI_ABI_ASSERT(offsetof(vumi_validate_input, add_error) == 64 && sizeof(vumi_validate_input) == 72);
VUMI_ABI_ASSERT(offsetof(vumi_handler_type, name) == 8 && offsetof(vumi_handler_type, description) == 16);
VUMI_ABI_ASSERT(offsetof(vumi_handler_type, options_schema) == 24 &&
                offsetof(vumi_handler_type, step_schema) == 32);
VUMI_ABI_ASSERT(offsetof(vumi_handler_type, output_description) == 40 &&
                offsetof(vumi_handler_type, threading) == 48);
VUMI_ABI_ASSERT(sizeof(((vumi_handler_type*)0)->threading) == 4 && offsetof(vumi_handler_type, create) == 56);
VUMI_ABI_ASSERT(offsetof(vumi_handler_type, destroy) == 64 && offsetof(vumi_handler_type, handle) == 72);
VUMI_ABI_ASSERT(offsetof(vumi_handler_type, validate) == 80 && sizeof(vumi_handler_type) == 88);
VUMI_ABI_ASSERT(VUMI_HANDLER_TYPE_V1_0_SIZE == 80 && VUMI_HANDLER_TYPE_V1_1_SIZE == 88);
VUMI_ABI_ASSERT(offsetof(vumi_plugin_info, abi_major) == 4 && offsetof(vumi_plugin_info, abi_minor) == 6);
VUMI_ABI_ASSERT(offsetof(vumi_plugin_info, build_tag) == 8 && offsetof(vumi_plugin_info, name) == 16);
VUMI_ABI_ASSERT(offsetof(vumi_plugin_info, version) == 24 && offsetof(vumi_plugin_info, handler_count) == 32);
VUMI_ABI_ASSERT(offsetof(vumi_plugin_info, handlers) == 40 && offsetof(vumi_plugin_info, init) == 48);
VUMI_ABI_ASSERT(offsetof(vumi_plugin_info, shutdown) == 56 && sizeof(vumi_plugin_info) == 64);
VUMI_ABI_ASSERT(VUMI_PLUGIN_INFO_V1_0_SIZE == 64);
VUMI_ABI_ASSERT(offsetof(vumi_host_info, abi_major) == 4 && offsetof(vumi_host_info, host_version) == 8);
VUMI_ABI_ASSERT(sizeof(vumi_host_info) == 16);
#undef VUMI_ABI_ASSERT
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* VUMI_PLUGIN_H */
