#include "dispatch/route_index.hpp"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <functional>

namespace vumi::dispatch {

namespace {

// Which of the three parts a route names: bit 0 conversation_type, 1 conversation_key, 2 event_type.
unsigned mask_of(const config::RouteMatch& on) {
  return (on.conversation_type.empty() ? 0u : 1u) | (on.conversation_key.empty() ? 0u : 2u) |
         (on.event_type.empty() ? 0u : 4u);
}

}  // namespace

std::size_t RouteKeyHash::operator()(const RouteKeyView& k) const noexcept {
  std::hash<std::string_view> h;
  std::size_t seed = h(k.conversation_type);
  seed ^= h(k.conversation_key) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  seed ^= h(k.event_type) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
  return seed;
}

const config::Conversations Account::kNoConversations;

const boost::json::value& Account::context() const {
  return built_context().value;
}

const std::string& Account::context_json() const {
  return built_context().json;
}

const Account::Context& Account::built_context() const {
  std::call_once(context_built_, [this] {
    boost::json::object by_key;  // conversations is in key order already
    for (const auto& [conversation, type] : *conversations) by_key[conversation] = type;
    auto context = std::make_unique<Context>();
    context->value = boost::json::object{{"key", key},
                                         {"conversations", std::move(by_key)},
                                         {"tags", boost::json::array(tags.begin(), tags.end())}};
    context->json = boost::json::serialize(context->value);
    context_ = std::move(context);
  });
  return *context_;
}

std::shared_ptr<AccountRoutes> AccountRoutes::index(
    config::AccountSpec account_spec, StringMap<std::unique_ptr<plugin::HandlerInstance>> own_instances,
    const StringMap<std::unique_ptr<plugin::HandlerInstance>>& global_instances) {
  auto entry = std::make_shared<AccountRoutes>();
  entry->spec = std::move(account_spec);
  const config::AccountSpec& spec = entry->spec;
  entry->key = spec.key;
  entry->conversations = &spec.conversations;
  entry->tags = spec.tags;

  entry->routes.resize(spec.routes.size());
  for (std::size_t i = 0; i < spec.routes.size(); ++i) {
    const config::RouteSpec& route_spec = spec.routes[i];
    Route& route = entry->routes[i];
    route.spec = &route_spec;
    route.order = i;
    route.chain.reserve(route_spec.chain.size());
    for (const config::StepSpec& step : route_spec.chain) {
      const plugin::HandlerInstance* handler = nullptr;
      if (auto own = own_instances.find(step.handler); own != own_instances.end())
        handler = own->second.get();
      else if (auto global = global_instances.find(step.handler); global != global_instances.end())
        handler = global->second.get();
      // Runtime validates handler names before indexing; a miss here is a programming error.
      route.chain.push_back(Step{handler, &step});
    }
  }
  entry->instances.reserve(own_instances.size());
  for (auto& [name, instance] : own_instances) entry->instances.push_back(std::move(instance));
  // A disabled route is kept for route_at_path (a retry in flight) but never matched.
  if (entry->scanned()) return entry;
  entry->keyed = std::make_unique<KeyIndex>();
  KeyIndex& keyed = *entry->keyed;
  keyed.by_key.reserve(spec.routes.size());
  for (const Route& route : entry->routes) {
    if (!route.spec->enabled) continue;
    const config::RouteMatch& on = route.spec->on;
    keyed.mask_used[mask_of(on)] = true;
    keyed.by_key[RouteKey{std::string(on.conversation_type), on.conversation_key, std::string(on.event_type)}]
        .push_back(&route);
  }
  return entry;
}

RouteIndex::RouteIndex(std::vector<std::shared_ptr<const AccountRoutes>> accounts) {
  // Sized once: growing them rehashes every entry several times over 100,000 accounts.
  std::size_t tags = 0, conversations = 0;
  for (const auto& entry : accounts) {
    tags += entry->spec.tags.size();
    conversations += entry->spec.conversations.size();
  }
  accounts_.reserve(accounts.size());
  tag_owner_.reserve(tags);
  conversation_owner_.reserve(conversations);
  for (auto& entry : accounts) {
    std::string key = entry->key;
    replace_account(key, std::move(entry));
  }
}

RouteIndex::RouteIndex(const config::Config& config,
                       const StringMap<std::unique_ptr<plugin::HandlerInstance>>& instances) {
  for (const config::AccountSpec& spec : config.accounts)
    replace_account(spec.key, AccountRoutes::index(spec, {}, instances));
  set_tag_pools(config.tag_pools);
}

void RouteIndex::replace_account(std::string_view key, std::shared_ptr<const AccountRoutes> next) {
  ++generation_;
  auto it = accounts_.find(key);
  if (it != accounts_.end()) {
    const AccountRoutes& old = *it->second;
    route_count_ -= old.routes.size();
    for (const std::string& tag : old.spec.tags) {
      auto owner = tag_owner_.find(tag);
      if (owner != tag_owner_.end() && owner->second == &old) tag_owner_.erase(owner);
    }
    for (const auto& [conversation, type] : old.spec.conversations) {
      auto owner = conversation_owner_.find(conversation);
      if (owner != conversation_owner_.end() && owner->second == &old) conversation_owner_.erase(owner);
    }
    if (!next) {
      accounts_.erase(it);
      return;
    }
    it->second = std::move(next);
  } else {
    if (!next) return;
    it = accounts_.emplace(std::string(key), std::move(next)).first;
  }
  const AccountRoutes& now = *it->second;
  route_count_ += now.routes.size();
  for (const std::string& tag : now.spec.tags) tag_owner_.insert_or_assign(tag, &now);
  for (const auto& [conversation, type] : now.spec.conversations) {
    // vumi-go's conversation keys are unique across accounts; a key two accounts declare has no owner.
    auto [owner, fresh] = conversation_owner_.emplace(conversation, &now);
    if (!fresh && owner->second != &now) owner->second = nullptr;
  }
}

void RouteIndex::set_tag_pools(const std::vector<config::TagPoolSpec>& pools) {
  tag_pools_.clear();
  for (const config::TagPoolSpec& pool : pools) tag_pools_.emplace(pool.pool, &pool);
}

std::shared_ptr<const AccountRoutes> RouteIndex::account_routes(std::string_view key) const {
  auto it = accounts_.find(key);
  return it == accounts_.end() ? nullptr : it->second;
}

std::vector<std::string> RouteIndex::account_keys() const {
  std::vector<std::string> keys;
  keys.reserve(accounts_.size());
  for (const auto& [key, entry] : accounts_) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

RouteIndex::~RouteIndex() {
  // The accounts are freed in address order, which is about the order they were built in. In the
  // hash map's order each of their blocks missed the cache: 0.45 s of `check` with 100,000
  // accounts.
  std::vector<std::shared_ptr<const AccountRoutes>> by_address;
  by_address.reserve(accounts_.size());
  for (auto& [key, entry] : accounts_) by_address.push_back(std::move(entry));
  std::sort(by_address.begin(), by_address.end(),
            [](const auto& a, const auto& b) { return std::less<>()(a.get(), b.get()); });
  for (auto& entry : by_address) entry.reset();
}

const Account* RouteIndex::account(std::string_view account_key) const {
  auto it = accounts_.find(account_key);
  return it == accounts_.end() ? nullptr : it->second.get();
}

void RouteIndex::match(const Account& account, std::string_view conversation_type,
                       std::string_view conversation_key, std::string_view event_type,
                       std::vector<const Route*>& out) const {
  out.clear();
  // Only AccountRoutes are handed out as Accounts.
  const auto& routes = static_cast<const AccountRoutes&>(account);
  if (routes.scanned()) {
    const auto matches = [](std::string_view wanted, std::string_view value) {
      return wanted.empty() || wanted == value;  // a route names no empty identifier
    };
    for (const Route& route : routes.routes) {
      const config::RouteMatch& on = route.spec->on;
      if (route.spec->enabled && matches(on.conversation_type, conversation_type) &&
          matches(on.conversation_key, conversation_key) && matches(on.event_type, event_type))
        out.push_back(&route);
    }
    return;
  }
  unsigned buckets = 0;
  const AccountRoutes::KeyIndex& keyed = *routes.keyed;
  for (unsigned mask = 0; mask < 8; ++mask) {
    if (!keyed.mask_used[mask]) continue;
    RouteKeyView key{(mask & 1u) ? conversation_type : std::string_view(),
                     (mask & 2u) ? conversation_key : std::string_view(),
                     (mask & 4u) ? event_type : std::string_view()};
    auto found = keyed.by_key.find(key);
    if (found == keyed.by_key.end()) continue;
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
  std::string built;
  for (const Route& route : routes) {
    built.clear();
    config::append_route_path(built, account.key, route.order);
    if (built == path) return &route;
  }
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
  auto declared = it->second->conversations->find(conversation_key);
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
  auto it = acct->conversations->find(conversation_key);
  if (it == acct->conversations->end()) return std::nullopt;
  return std::string_view(it->second);
}

}  // namespace vumi::dispatch
