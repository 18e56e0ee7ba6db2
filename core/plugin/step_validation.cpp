#include "plugin/step_validation.hpp"

#include <exception>
#include <utility>

#include "plugin/host_call.hpp"

// What a plugin's add_error writes into; opaque to the plugin (vumi_validation in plugin.h).
struct vumi_validation {
  std::vector<vumi::plugin::StepProblem> problems;
};

namespace vumi::plugin {

namespace {

std::string_view text_of(vumi_view v) {
  return v.data ? std::string_view(v.data, v.size) : std::string_view();
}

vumi_view view(std::string_view s) {
  return vumi_view{s.data(), s.size()};
}

void add_error(vumi_validation* errors, vumi_view path, vumi_view message) noexcept {
  if (!errors) return;
  try {
    errors->problems.push_back({std::string(text_of(path)), std::string(text_of(message))});
  } catch (...) {  // out of memory: the problem is lost, the host survives
  }
}

}  // namespace

std::string step_problem_path(std::string_view config_path, std::string_view relative) {
  std::string out(config_path);
  if (relative.empty()) return out;
  if (relative.front() != '[') out += '.';
  out += relative;
  return out;
}

std::vector<StepProblem> validate_step(const HandlerType& type, std::string_view options_json,
                                       std::string_view config_json, std::string_view account_json) {
  if (!type.abi.validate) return {};
  vumi_validation errors;
  vumi_validate_input input{};
  input.struct_size = sizeof input;
  input.options_json = view(options_json);
  input.config_json = view(config_json);
  input.account_json = view(account_json);
  input.errors = &errors;
  input.add_error = &add_error;

  vumi_call call;
  call.plugin_name = type.plugin ? type.plugin->name() : std::string_view();
  call.handler_type = type.name;
  vumi_status status = VUMI_ERR_INTERNAL;
  try {
    status = type.abi.validate(&call, host_api(), &input);
  } catch (const std::exception& e) {  // a plugin without the SDK's barrier
    call.error = std::string("validate() threw an exception across the plugin boundary: ") + e.what();
  } catch (...) {
    call.error = "validate() threw an exception across the plugin boundary";
  }
  if (status != VUMI_OK) {
    std::string why = call.error.empty()
                          ? std::string("validate() failed with status ") + vumi_status_name(status)
                          : std::move(call.error);
    errors.problems.push_back({"", "handler type " + type.name + " could not check this step: " + why});
  }
  return std::move(errors.problems);
}

}  // namespace vumi::plugin
