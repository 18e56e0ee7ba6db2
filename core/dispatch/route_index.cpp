#include "dispatch/route_index.hpp"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <functional>
#include <unordered_map>

namespace vumi::dispatch {

namespace {

// A route key; an empty part is a wildcard (identifiers are never empty).
struct KeyView {
  std::string_view conversation_type, conversation_key, event_type;
};
struct Key {
  std::string conversation_type, conversation_key, event_type;
  operator KeyView() const { return {conversation_type, conversation_key, event_type}; }
};

struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(const KeyView& k) const noexcept {
    std::hash<std::string_view> h;
    std::size_t seed = h(k.conversation_type);
    seed ^= h(k.conversation_key) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
    seed ^= h(k.event_type) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
    return seed;
  }
  std::size_t operator()(const Key& k) const noexcept { return (*this)(KeyView(k)); }
};

struct KeyEqual {
  using is_transparent = void;
  static bool same(const KeyView& a, const KeyView& b) {
    return a.conversation_type == b.conversation_type && a.conversation_key == b.conversation_key &&
           a.event_type == b.event_type;
  }
  bool operator()(const Key& a, const Key& b) const { return same(a, b); }
  bool operator()(const KeyView& a, const Key& b) const { return same(a, b); }
  bool operator()(const Key& a, const KeyView& b) const { return same(a, b); }
};

// Which of the three parts a route names: bit 0 conversation_type, 1 conversation_key, 2 event_type.
unsigned mask_of(const config::RouteMatch& on) {
  return (on.conversation_type ? 1u : 0u) | (on.conversation_key ? 2u : 0u) | (on.event_type ? 4u : 0u);
}

}  // namespace

// An account's routes; match() gets here from the Account it was given without a lookup.
struct RouteIndex::AccountRoutes : Account {
  std::vector<std::unique_ptr<Route>> routes;
  std::unordered_map<Key, std::vector<const Route*>, KeyHash, KeyEqual> by_key;
  std::array<bool, 8> mask_used{};  // only the wildcard shapes this account uses are probed
};

RouteIndex::RouteIndex(const config::Config& config,
                       const StringMap<std::unique_ptr<plugin::HandlerInstance>>& instances) {
  for (const config::AccountSpec& spec : config.accounts) {
    auto entry = std::make_unique<AccountRoutes>();
    Account& account = *entry;
    account.key = spec.key;
    boost::json::object conversations;
    for (const auto& [key, type] : spec.conversations) {
      account.conversations.emplace(key, type);
      conversations[key] = type;
    }
    boost::json::array tags(spec.tags.begin(), spec.tags.end());
    account.context = boost::json::object{
        {"key", spec.key}, {"conversations", std::move(conversations)}, {"tags", std::move(tags)}};
    account.context_json = boost::json::serialize(account.context);

    for (std::size_t i = 0; i < spec.routes.size(); ++i) {
      const config::RouteSpec& route_spec = spec.routes[i];
      auto route = std::make_unique<Route>();
      route->spec = &route_spec;
      route->order = i;
      for (const config::StepSpec& step : route_spec.chain) {
        auto it = instances.find(step.handler);
        // Runtime validates handler names before indexing; a miss here is a programming error.
        route->chain.push_back(Step{it == instances.end() ? nullptr : it->second.get(), &step});
      }
      const config::RouteMatch& on = route_spec.on;
      unsigned mask = mask_of(on);
      entry->mask_used[mask] = true;
      Key key{on.conversation_type.value_or(""), on.conversation_key.value_or(""),
              on.event_type.value_or("")};
      entry->by_key[std::move(key)].push_back(route.get());
      entry->routes.push_back(std::move(route));
      ++route_count_;
    }
    const Account* account_ptr = entry.get();
    for (const std::string& tag : spec.tags) tag_owner_.emplace(tag, account_ptr);
    for (const auto& [key, type] : spec.conversations) {
      // vumi-go's conversation keys are unique across accounts; a key two accounts declare has no owner.
      auto [it, fresh] = conversation_owner_.emplace(key, account_ptr);
      if (!fresh && it->second != account_ptr) it->second = nullptr;
    }
    accounts_.emplace(spec.key, std::move(entry));
  }
  for (const config::TagPoolSpec& pool : config.tag_pools) tag_pools_.emplace(pool.pool, &pool);
}

RouteIndex::~RouteIndex() = default;

const Account* RouteIndex::account(std::string_view account_key) const {
  auto it = accounts_.find(account_key);
  return it == accounts_.end() ? nullptr : it->second.get();
}

void RouteIndex::match(const Account& account, std::string_view conversation_type,
                       std::string_view conversation_key, std::string_view event_type,
                       std::vector<const Route*>& out) const {
  out.clear();
  const auto& routes = static_cast<const AccountRoutes&>(account);
  unsigned buckets = 0;
  for (unsigned mask = 0; mask < 8; ++mask) {
    if (!routes.mask_used[mask]) continue;
    KeyView key{(mask & 1u) ? conversation_type : std::string_view(),
                (mask & 2u) ? conversation_key : std::string_view(),
                (mask & 4u) ? event_type : std::string_view()};
    auto found = routes.by_key.find(key);
    if (found == routes.by_key.end()) continue;
    out.insert(out.end(), found->second.begin(), found->second.end());
    ++buckets;
  }
  // Routes run in config order whichever wildcard shape matched them.
  if (buckets > 1)
    std::sort(out.begin(), out.end(), [](const Route* a, const Route* b) { return a->order < b->order; });
}

const Route* RouteIndex::route_at_path(const Account& account, std::string_view path) const {
  // Only AccountRoutes are handed out as Accounts (see match()).
  const auto& routes = static_cast<const AccountRoutes&>(account).routes;
  for (const auto& route : routes)
    if (route->spec->path == path) return route.get();
  return nullptr;
}

const Account* RouteIndex::tag_owner(std::string_view tag) const {
  auto it = tag_owner_.find(tag);
  return it == tag_owner_.end() ? nullptr : it->second;
}

const Account* RouteIndex::conversation_owner(std::string_view conversation_type,
                                              std::string_view conversation_key) const {
  auto it = conversation_owner_.find(conversation_key);
  if (it == conversation_owner_.end() || !it->second) return nullptr;
  auto declared = it->second->conversations.find(conversation_key);
  return declared->second == conversation_type ? it->second : nullptr;
}

const config::TagPoolSpec* RouteIndex::tag_pool(std::string_view pool) const {
  auto it = tag_pools_.find(pool);
  return it == tag_pools_.end() ? nullptr : it->second;
}

bool RouteIndex::has_account(std::string_view account_key) const {
  return accounts_.contains(account_key);
}

std::optional<std::string_view> RouteIndex::conversation_type(std::string_view account_key,
                                                              std::string_view conversation_key) const {
  const Account* acct = account(account_key);
  if (!acct) return std::nullopt;
  auto it = acct->conversations.find(conversation_key);
  if (it == acct->conversations.end()) return std::nullopt;
  return std::string_view(it->second);
}

}  // namespace vumi::dispatch
