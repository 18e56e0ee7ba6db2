// Route lookup by (account, conversation_type, conversation_key, event_type), omitted keys as
// wildcards; cost independent of the number of accounts and routes.
#pragma once

#include "config/config.hpp"
#include "event/envelope_decoder.hpp"
#include "plugin/handler_instance.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vumi::dispatch {

// One step ready to run: its handler instance and compiled config.
struct Step {
  const plugin::HandlerInstance* handler = nullptr;
  const config::StepSpec* spec = nullptr;  // as, compiled template, path
};

// One route ready to run.
struct Route {
  const config::RouteSpec* spec = nullptr;
  std::vector<Step> chain;
  std::size_t order = 0;  // position among the account's routes (config order)
};

class RouteIndex : public event::AccountDirectory {
 public:
  // Indexes every account's routes and tags; instances maps handler names to instances.
  RouteIndex(const config::Config& config,
             const std::unordered_map<std::string, std::unique_ptr<plugin::HandlerInstance>>& instances);

  // Routes matching the event, in config order (appended to out, which is cleared first).
  void match(std::string_view account, std::string_view conversation_type, std::string_view conversation_key,
             std::string_view event_type, std::vector<const Route*>& out) const;

  // The account owning a "pool:tag", or null.
  const std::string* tag_owner(std::string_view tag) const;

  bool has_account(std::string_view account_key) const override;
  std::optional<std::string_view> conversation_type(std::string_view account_key,
                                                    std::string_view conversation_key) const override;

 private:
  struct AccountRoutes;
  std::unordered_map<std::string, std::unique_ptr<AccountRoutes>, struct StringHash, std::equal_to<>> accounts_;
  std::unordered_map<std::string, std::string, struct StringHash, std::equal_to<>> tag_owner_;
};

}  // namespace vumi::dispatch
