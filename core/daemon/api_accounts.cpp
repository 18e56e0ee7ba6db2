#include "daemon/api_accounts.hpp"

#include "common/json.hpp"
#include "daemon/account_document.hpp"

namespace vumi::daemon {

std::shared_ptr<dispatch::AccountRoutes> build_api_account(const dispatch::Runtime& runtime,
                                                           const StoredAccount& account,
                                                           std::vector<config::ConfigError>& errors) {
  boost::json::value document;
  json::ParseError parse_error;
  if (!json::parse(account.document, {}, document, parse_error)) {
    errors.push_back({"accounts." + account.key, "stored document is not JSON: " + parse_error.message});
    return nullptr;
  }
  auto spec = parse_account(account.key, document, runtime.config().handlers, errors);
  if (!spec) return nullptr;
  spec->version = account.version;
  auto built = runtime.build_account(std::move(*spec));
  if (built) return std::move(built).value();
  errors.insert(errors.end(), built.error().begin(), built.error().end());
  return nullptr;
}

std::pair<std::string, std::string> tag_conflict(const dispatch::Runtime& runtime,
                                                 const config::AccountSpec& spec) {
  for (const std::string& tag : spec.tags) {
    const dispatch::Account* owner = runtime.routes().tag_owner(tag);
    if (owner && owner->key != spec.key) return {owner->key, tag};
  }
  return {};
}

void apply_api_accounts(dispatch::Runtime& runtime, const std::vector<StoredAccount>& accounts,
                        std::vector<std::string>& problems) {
  for (const StoredAccount& stored : accounts) {
    if (auto existing = runtime.routes().account_routes(stored.key);
        existing && existing->spec.version == 0) {
      problems.push_back("account \"" + stored.key +
                         "\" is defined in the config file and stored through the admin API; the file's "
                         "definition is used");
      continue;
    }
    std::vector<config::ConfigError> errors;
    auto built = build_api_account(runtime, stored, errors);
    if (built) {
      auto [owner, tag] = tag_conflict(runtime, built->spec);
      if (!owner.empty()) {
        problems.push_back("account \"" + stored.key + "\" (admin API, version " +
                           std::to_string(stored.version) + ") left out: tag \"" + tag +
                           "\" is owned by account \"" + owner + "\"");
        continue;
      }
      runtime.routes().replace_account(stored.key, std::move(built));
      continue;
    }
    for (const auto& e : errors)
      problems.push_back("account \"" + stored.key + "\" (admin API, version " +
                         std::to_string(stored.version) + ") left out: " + e.text());
  }
}

}  // namespace vumi::daemon
