// Route lookup by (account, conversation_type, conversation_key, event_type), omitted keys as
// wildcards; cost independent of the number of accounts and routes (hash lookups, no scans).
#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/string_hash.hpp"
#include "config/config.hpp"
#include "event/envelope_decoder.hpp"
#include "plugin/handler_instance.hpp"

namespace vumi::dispatch {

// One step ready to run: its handler instance and its spec (as, compiled config, path).
struct Step {
  const plugin::HandlerInstance* handler = nullptr;
  const config::StepSpec* spec = nullptr;
};

// One route ready to run.
struct Route {
  const config::RouteSpec* spec = nullptr;
  std::vector<Step> chain;
  std::size_t order = 0;  // position among the account's routes (config order)
};

// What the index keeps per account.
struct Account {
  std::string key;
  boost::json::value context;  // {"key", "conversations", "tags"}: the /account template root
  std::string context_json;    // the same as text, for the account_json host service
  StringMap<std::string> conversations;
};

class RouteIndex : public event::AccountDirectory {
 public:
  // Indexes every account's routes and tags; instances maps handler names to instances.
  RouteIndex(const config::Config& config,
             const StringMap<std::unique_ptr<plugin::HandlerInstance>>& instances);
  ~RouteIndex() override;

  // The account, or null when it is not configured.
  const Account* account(std::string_view account_key) const;

  // Routes of the account matching the event, in config order (out is cleared first).
  void match(const Account& account, std::string_view conversation_type, std::string_view conversation_key,
             std::string_view event_type, std::vector<const Route*>& out) const;

  // The account's route whose config path is `path` ("accounts.acct1.routes[0]"), or null.
  const Route* route_at_path(const Account& account, std::string_view path) const;

  // The account owning a "pool:tag", or null.
  const Account* tag_owner(std::string_view tag) const;
  // The one account declaring the conversation with that type, or null.
  const Account* conversation_owner(std::string_view conversation_type,
                                    std::string_view conversation_key) const;
  // The tag_pools entry of a pool, or null (the config outlives the index).
  const config::TagPoolSpec* tag_pool(std::string_view pool) const;

  bool has_account(std::string_view account_key) const override;
  std::optional<std::string_view> conversation_type(std::string_view account_key,
                                                    std::string_view conversation_key) const override;

  std::size_t route_count() const { return route_count_; }

 private:
  struct AccountRoutes;
  StringMap<std::unique_ptr<AccountRoutes>> accounts_;
  StringMap<const Account*> tag_owner_;
  StringMap<const Account*> conversation_owner_;  // null: declared by two accounts
  StringMap<const config::TagPoolSpec*> tag_pools_;
  std::size_t route_count_ = 0;
};

}  // namespace vumi::dispatch
