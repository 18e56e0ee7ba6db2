// A step config with {{/json/pointer}} templates, compiled once at config load and rendered per event.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.hpp"

namespace vumi::config {

// What templates resolve against: {"event": <envelope>, "steps": {...}, "account": {"key": ...}}.
struct RenderContext {
  const boost::json::value* event = nullptr;   // the normalised envelope object
  const boost::json::object* steps = nullptr;  // outputs of earlier steps by "as" name
  std::string_view account_key;
  // {"key": ..., "conversations": {...}}: what /account/... resolves in; when null, only
  // /account/key resolves (to account_key).
  const boost::json::value* account = nullptr;
};

class TemplateCache;

class Template {
 public:
  Template() = default;

  // Compiles a config object; on a syntax error returns false and appends "<path>: <why>" style
  // messages (relative paths inside the config, e.g. "fields.msisdn") to errors. With a cache,
  // a config equal to one compiled before shares its compiled form (and gets the same errors).
  bool compile(const boost::json::object& config, std::vector<std::pair<std::string, std::string>>& errors,
               TemplateCache* cache = nullptr);

  // The config as written.
  const boost::json::object& config() const;
  // The same, as a value (for what takes one, without copying the object).
  const boost::json::value& config_value() const;

  // True when the config has no templates: render() then returns the same text every time.
  bool is_static() const;
  // The config as JSON text when is_static().
  const std::string& static_text() const;

  // Renders into out (JSON text of the config object; a buffer the caller reuses per event). On a
  // pointer that resolves to nothing (or a non-scalar interpolated into a string) the error
  // (ErrorCode::invalid) names the pointer.
  Expected<void> render(const RenderContext& ctx, std::string& out) const;

  // Every pointer used, e.g. "/steps/contact/msisdn", with where it occurs in the config.
  struct Use {
    std::string pointer;
    std::string where;                // relative path inside the config ("fields.msisdn")
    std::string root;                 // the pointer's first token ("steps"), unescaped
    std::optional<std::string> name;  // its second token ("contact"), when it has one
  };
  const std::vector<Use>& uses() const;

  struct Program;  // the config and its compiled form (template.cpp)

 private:
  // Shared by copies and, through a TemplateCache, by equal configs; immutable after compile().
  // Null: the empty config {}.
  std::shared_ptr<const Program> program_;
};

// Compiled configs by their content as written (member order included), so that the many
// accounts of a config that repeat the same step config hold it once. Used while one config is
// read; the programs outlive it.
class TemplateCache {
 public:
  TemplateCache();
  ~TemplateCache();
  TemplateCache(const TemplateCache&) = delete;
  TemplateCache& operator=(const TemplateCache&) = delete;
  // Room for n configs without rehashing (it otherwise rehashes every config it holds each time it
  // grows).
  void reserve(std::size_t n);

 private:
  friend class Template;
  struct Entries;
  std::unique_ptr<Entries> entries_;
};

}  // namespace vumi::config
