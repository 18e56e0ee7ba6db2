#include "plugin/handler_instance.hpp"

#include <string>
#include <utility>

namespace vumi::plugin {

Expected<std::unique_ptr<HandlerInstance>> HandlerInstance::create(std::shared_ptr<const HandlerType> type,
                                                                   std::string name,
                                                                   std::string_view options_json) {
  void* instance = nullptr;
  if (type->abi.create) {
    vumi_call call;
    call.plugin_name = type->plugin ? type->plugin->name() : std::string_view();
    call.handler_type = type->name;
    vumi_status status = VUMI_ERR_INTERNAL;
    try {
      status =
          type->abi.create(&call, host_api(), vumi_view{options_json.data(), options_json.size()}, &instance);
    } catch (const std::exception& e) {  // a plugin without the SDK's barrier
      return fail(ErrorCode::refused,
                  "create() threw an exception across the plugin boundary: " + std::string(e.what()));
    } catch (...) {
      return fail(ErrorCode::refused, "create() threw an exception across the plugin boundary");
    }
    if (status != VUMI_OK)
      return fail(ErrorCode::refused, call.error.empty() ? "create() failed with status " +
                                                               std::to_string(static_cast<int>(status))
                                                         : std::move(call.error));
  }
  return std::unique_ptr<HandlerInstance>(new HandlerInstance(std::move(type), std::move(name), instance));
}

HandlerInstance::HandlerInstance(std::shared_ptr<const HandlerType> type, std::string name, void* instance)
    : type_(std::move(type)), name_(std::move(name)), instance_(instance) {}

HandlerInstance::~HandlerInstance() {
  // destroy is guaranteed present whenever create was (the loader refuses otherwise).
  if (type_->abi.create) type_->abi.destroy(instance_);
}

vumi_step_result HandlerInstance::handle(vumi_call& call, const vumi_step_input& input) const {
  // Uncontended (one worker, or instances used by one worker's accounts only) it costs ~20 ns.
  std::unique_lock<std::mutex> serial;
  if (type_->threading != VUMI_THREADING_REENTRANT) serial = std::unique_lock<std::mutex>(serial_);
  int code = VUMI_STEP_FAIL;
  try {
    // Converted straight to int: the plugin may return a value outside the enum.
    code = static_cast<int>(type_->abi.handle(instance_, &call, host_api(), &input));
  } catch (const std::exception& e) {  // a plugin without the SDK's barrier
    call.error = "handle() threw an exception across the plugin boundary: " + std::string(e.what());
    return VUMI_STEP_FAIL;
  } catch (...) {
    call.error = "handle() threw an exception across the plugin boundary";
    return VUMI_STEP_FAIL;
  }
  switch (code) {
    case VUMI_STEP_CONTINUE:
      return VUMI_STEP_CONTINUE;
    case VUMI_STEP_STOP:
      return VUMI_STEP_STOP;
    case VUMI_STEP_FAIL:
      if (call.error.empty()) call.error = "handler failed without a message";
      return VUMI_STEP_FAIL;
    case VUMI_STEP_RETRY:  // accepted from any 1.x plugin: a 1.0 plugin never returned 3 validly
      if (call.error.empty()) call.error = "handler asked for a retry without a message";
      return VUMI_STEP_RETRY;
    default:
      call.error = "handler returned invalid result " + std::to_string(code);
      return VUMI_STEP_FAIL;
  }
}

}  // namespace vumi::plugin
