// One configured handler instance ("sms": send_sms with its options): the plugin's instance
// pointer plus the handler type, which keeps the library loaded for as long as this lives.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/expected.hpp"
#include "plugin/host_call.hpp"
#include "plugin/plugin_registry.hpp"

namespace vumi::plugin {

class HandlerInstance {
 public:
  // Creates an instance through the type's create(); on refusal the error (ErrorCode::refused)
  // carries the plugin's message.
  static Expected<std::unique_ptr<HandlerInstance>> create(std::shared_ptr<const HandlerType> type,
                                                           std::string name, std::string_view options_json);
  ~HandlerInstance();
  HandlerInstance(const HandlerInstance&) = delete;
  HandlerInstance& operator=(const HandlerInstance&) = delete;

  // Runs one step; call.services must be set. Never throws. Safe to call from several threads:
  // a VUMI_THREADING_SERIAL instance is entered by one of them at a time (docs/workers.md). An out-of-range
  // result from the plugin is reported as VUMI_STEP_FAIL with call.error explaining it; FAIL and RETRY always
  // come back with a non-empty call.error.
  vumi_step_result handle(vumi_call& call, const vumi_step_input& input) const;

  const std::string& name() const { return name_; }
  const HandlerType& type() const { return *type_; }

 private:
  HandlerInstance(std::shared_ptr<const HandlerType> type, std::string name, void* instance);
  std::shared_ptr<const HandlerType> type_;
  std::string name_;
  void* instance_;
  mutable std::mutex serial_;  // held around handle() of a SERIAL instance
};

}  // namespace vumi::plugin
