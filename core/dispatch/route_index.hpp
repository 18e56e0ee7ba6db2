// Route lookup by (account, conversation_type, conversation_key, event_type), omitted keys as
// wildcards; cost independent of the number of accounts and routes (hash lookups, no scans).
#pragma once

#include <array>
#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
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
  std::size_t order = 0;  // position among the account's routes: its path is config::route_path(key, order)
};

// What the index keeps per account.
struct Account {
  std::string key;
  // Views of what its spec holds (AccountRoutes points them at its own): not copies, which cost
  // ~200 bytes per account.
  const config::Conversations* conversations = &kNoConversations;
  std::span<const std::string> tags;  // "pool:tag"

  // {"key", "conversations", "tags"}: the /account template root, with conversations in key
  // order. Built on first use, from any thread: few accounts' templates ever read it, and with
  // 100,000 accounts building all of them up front costs ~45 MB.
  const boost::json::value& context() const;
  const std::string& context_json() const;  // the same as text, for the account_json host service

  static const config::Conversations kNoConversations;

 private:
  struct Context {
    boost::json::value value;
    std::string json;
  };
  const Context& built_context() const;

  mutable std::once_flag context_built_;
  mutable std::unique_ptr<const Context> context_;  // null until first used
};

// A route key; an empty part is a wildcard (identifiers are never empty).
struct RouteKeyView {
  std::string_view conversation_type, conversation_key, event_type;
};
struct RouteKey {
  std::string conversation_type, conversation_key, event_type;
  operator RouteKeyView() const { return {conversation_type, conversation_key, event_type}; }
};
struct RouteKeyHash {
  using is_transparent = void;
  std::size_t operator()(const RouteKeyView& k) const noexcept;
  std::size_t operator()(const RouteKey& k) const noexcept { return (*this)(RouteKeyView(k)); }
};
struct RouteKeyEqual {
  using is_transparent = void;
  bool operator()(const RouteKeyView& a, const RouteKeyView& b) const {
    return a.conversation_type == b.conversation_type && a.conversation_key == b.conversation_key &&
           a.event_type == b.event_type;
  }
};

// Everything one account needs to run, built aside and swapped in as a whole: its spec (owned),
// its own handler instances (accounts.<key>.handlers), and its routes.
struct AccountRoutes : Account {
  config::AccountSpec spec;
  std::vector<std::unique_ptr<plugin::HandlerInstance>> instances;  // its own, which its steps may name
  std::vector<Route> routes;  // config order; sized once, so pointers to them stay valid
  // An account with up to kScannedRoutes routes is matched by comparing each route's "on" in
  // turn: faster than hashing the event's fields, and no index to keep (most accounts have a
  // few). Past that, its routes are indexed by key and only the wildcard shapes used are probed.
  static constexpr std::size_t kScannedRoutes = 8;
  bool scanned() const { return routes.size() <= kScannedRoutes; }
  struct KeyIndex {
    std::unordered_map<RouteKey, std::vector<const Route*>, RouteKeyHash, RouteKeyEqual> by_key;
    std::array<bool, 8> mask_used{};
  };
  std::unique_ptr<KeyIndex> keyed;  // null when scanned()

  // Indexes spec's routes; steps name the account's own instances first, then global ones.
  // Every step's handler must exist (validated before).
  static std::shared_ptr<AccountRoutes> index(
      config::AccountSpec spec, StringMap<std::unique_ptr<plugin::HandlerInstance>> own_instances,
      const StringMap<std::unique_ptr<plugin::HandlerInstance>>& global_instances);
};

class RouteIndex : public event::AccountDirectory {
 public:
  explicit RouteIndex(std::vector<std::shared_ptr<const AccountRoutes>> accounts);
  // Indexes a copy of every account of config (accounts' own handlers are not created: for tests
  // and tools that give every instance in instances).
  RouteIndex(const config::Config& config,
             const StringMap<std::unique_ptr<plugin::HandlerInstance>>& instances);
  ~RouteIndex() override;

  // Puts (or with null removes) one account, between two events; the other accounts are untouched.
  // The caller has checked that the new account's tags are free or its own.
  void replace_account(std::string_view key, std::shared_ptr<const AccountRoutes> next);
  // The tag pools (config tag_pools), which must outlive the index.
  void set_tag_pools(const std::vector<config::TagPoolSpec>& pools);
  // The indexed account (to keep it alive or read its spec), or null.
  std::shared_ptr<const AccountRoutes> account_routes(std::string_view key) const;
  // Every account key, sorted.
  std::vector<std::string> account_keys() const;
  std::size_t account_count() const { return accounts_.size(); }
  // Changes with every replace_account: whoever derives something from the account set (a cluster
  // member's subscriptions) knows when to derive it again.
  std::uint64_t generation() const { return generation_; }

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
  std::size_t tag_count() const { return tag_owner_.size(); }  // a tag has one owner

 private:
  StringMap<std::shared_ptr<const AccountRoutes>> accounts_;
  std::uint64_t generation_ = 0;
  StringMap<const Account*> tag_owner_;
  StringMap<const Account*> conversation_owner_;  // null: declared by two accounts
  StringMap<const config::TagPoolSpec*> tag_pools_;
  std::size_t route_count_ = 0;
};

}  // namespace vumi::dispatch
