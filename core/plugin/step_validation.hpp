// Runs a handler type's optional validate() callback (ABI 1.1) on one step of the operator config.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plugin/plugin_registry.hpp"

namespace vumi::plugin {

// One problem a plugin found; path is relative to the step's config ("routes.pool:tag", "" for
// the config itself).
struct StepProblem {
  std::string path;
  std::string message;
};

// The problems the type's validate() reports for a step whose options and config already passed
// their schemas; empty when the type has no validate(). A plugin that cannot judge the step (a
// non-OK status, an exception) is reported as one problem at the config itself.
std::vector<StepProblem> validate_step(const HandlerType& type, std::string_view options_json,
                                       std::string_view config_json, std::string_view account_json);

// path (relative to a step's config, as validate() reports it) appended to config_path.
std::string step_problem_path(std::string_view config_path, std::string_view relative);

}  // namespace vumi::plugin
