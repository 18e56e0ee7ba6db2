#include "config/account_reader.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <charconv>
#include <iterator>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/closest_name.hpp"
#include "common/identifier.hpp"
#include "common/json.hpp"

namespace vumi::config {

namespace bj = boost::json;

namespace {

// Where a tag was first listed, to name both listings of a tag listed twice: indexes, not
// strings, since most tags are listed once.
struct TagOwner {
  std::size_t account;  // in the accounts read
  std::size_t index;    // in the account's "tags"
};

std::string tags_path(std::string_view account) {
  return json::child_path(json::child_path("accounts", account), "tags");
}

class AccountReader {
 public:
  AccountReader(const std::vector<HandlerSpec>& handlers, FieldReader& reader) : reader_(reader) {
    for (const auto& h : handlers) handler_names_.push_back(h.name);
  }

  void accounts(const bj::value& v, std::vector<AccountSpec>& out) {
    const bj::object* obj = reader_.object(v, "accounts");
    if (!obj) return;
    begin(obj->size(), out);
    for (const auto& [key, value] : *obj) account(key, value);
  }

  // Before the accounts: count is how many there are. The views kept while reading (seen_,
  // owners_) are of the accounts' own strings in out, which do not move: out is reserved for all
  // of them, and a spec moved into it keeps its vectors' buffers.
  void begin(std::size_t count, std::vector<AccountSpec>& out) {
    out_ = &out;
    out.reserve(out.size() + count);
    templates_.reserve(count);  // most accounts have a step config of their own (a tag map)
    seen_.reserve(count);
  }

  // One member of "accounts", after begin().
  void account(std::string_view key, const bj::value& value) {
    if (!reader_.identifier_key(key, "accounts", "account key")) return;
    std::string path = json::child_path("accounts", key);
    // A document holds one member of a key (Boost.JSON keeps the last); a stream shows them all.
    if (seen_.contains(key) || unread_.contains(key)) {
      reader_.error(path, "account " + json::quoted(key) + " is defined twice in \"accounts\"");
      return;
    }
    // More accounts than begin() was told of (a text that changed between two readings) would
    // move the specs that seen_ views: refused instead.
    if (out_->size() == out_->capacity()) {
      reader_.error(path, "more accounts than the config's first reading counted: it changed in between");
      return;
    }
    AccountSpec account;
    account.key = std::string(key);
    account.names = names_;
    // read_account fails before it reads any tag, so owners_ views no tag of an account not kept.
    if (!read_account(value, path, account)) {
      unread_.emplace(key);
      return;
    }
    out_->push_back(std::move(account));
    seen_.insert(out_->back().key);
  }

 private:
  bool read_account(const bj::value& v, const std::string& path, AccountSpec& account) {
    const bj::object* obj = reader_.object(v, path);
    if (!obj) return false;
    reader_.allowed_keys(*obj, {"conversations", "tags", "handlers", "routes"}, path);
    if (const bj::value* h = obj->if_contains("handlers"))
      read_handler_specs(*h, json::child_path(path, "handlers"), account.handlers, reader_);
    account_handler_names_.clear();
    for (const auto& h : account.handlers) account_handler_names_.push_back(h.name);
    if (const bj::value* c = obj->if_contains("conversations"))
      conversations(*c, json::child_path(path, "conversations"), account);
    if (const bj::value* t = obj->if_contains("tags")) tags(*t, json::child_path(path, "tags"), account);
    if (const bj::value* r = obj->if_contains("routes"))
      routes(*r, json::child_path(path, "routes"), account);
    return true;
  }

  void conversations(const bj::value& v, const std::string& path, AccountSpec& account) {
    const bj::object* obj = reader_.object(v, path);
    if (!obj) return;
    for (const auto& [key, type] : *obj) {
      if (!reader_.identifier_key(key, path, "conversation key")) continue;
      if (auto t = identifier(type, path, key, "conversation type"))
        account.conversations.emplace(std::string(key), *t);
    }
  }

  void tags(const bj::value& v, const std::string& path, AccountSpec& account) {
    const bj::array* arr = v.if_array();
    if (!arr) {
      reader_.error(path, expected("array", v));
      return;
    }
    account.tags.reserve(arr->size());
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const bj::string* tag = (*arr)[i].if_string();
      if (!tag) {
        reader_.string((*arr)[i], json::index_path(path, i));  // reports what it is instead
        continue;
      }
      if (auto checked = check_tag(*tag); !checked) {
        reader_.error(json::index_path(path, i), "tag " + json::quoted(*tag) + " " + checked.error().message);
        continue;
      }
      // Paths are built only for a message: most tags have one owner. The account is pushed at
      // the end of out once read.
      const std::size_t account_index = out_->size();
      account.tags.emplace_back(*tag);
      auto [owner, fresh] = owners_.try_emplace(account.tags.back(), TagOwner{account_index, i});
      if (!fresh) {
        account.tags.pop_back();
        const TagOwner& first = owner->second;
        const std::string_view first_key =
            first.account == account_index ? account.key : (*out_)[first.account].key;
        const std::string there = json::index_path(tags_path(first_key), first.index);
        if (first.account == account_index) {
          reader_.error(json::index_path(path, i),
                        "tag " + json::quoted(*tag) + " is listed twice (also " + there + ")");
        } else {
          reader_.error(json::index_path(path, i), "tag " + json::quoted(*tag) + " is claimed by accounts " +
                                                       json::quoted(first_key) + " (" + there + ") and " +
                                                       json::quoted(account.key) + "; a tag has one owner");
        }
        continue;
      }
    }
  }

  void routes(const bj::value& v, const std::string& path, AccountSpec& account) {
    const bj::array* arr = v.if_array();
    if (!arr) {
      reader_.error(path, expected("array", v));
      return;
    }
    account.routes.reserve(arr->size());
    // A route that is no object is kept, empty and disabled, so that the routes after it keep
    // their index, which is their path in what `check` reports next (the config fails anyway).
    for (std::size_t i = 0; i < arr->size(); ++i) {
      RouteSpec& route = account.routes.emplace_back();
      if (!read_route((*arr)[i], json::index_path(path, i), route)) route.enabled = false;
    }
  }

  bool read_route(const bj::value& v, const std::string& path, RouteSpec& route) {
    const bj::object* obj = reader_.object(v, path);
    if (!obj) return false;
    reader_.allowed_keys(*obj, {"on", "chain", "retry", "enabled"}, path);
    if (const bj::value* enabled = obj->if_contains("enabled")) {
      if (enabled->is_bool())
        route.enabled = enabled->get_bool();
      else
        reader_.error(json::child_path(path, "enabled"), expected("boolean", *enabled));
    }
    if (const bj::value* retry = obj->if_contains("retry")) {
      if (const bj::object* r = reader_.object(*retry, json::child_path(path, "retry")))
        route.retry_json = std::make_shared<const bj::object>(*r, bj::storage_ptr());
    }
    if (const bj::value* on = obj->if_contains("on")) match(*on, json::child_path(path, "on"), route.on);
    const bj::value* chain = obj->if_contains("chain");
    std::string chain_path = json::child_path(path, "chain");
    if (!chain) {
      reader_.error(path, "missing required key \"chain\"");
      return true;
    }
    const bj::array* steps = chain->if_array();
    if (!steps) {
      reader_.error(chain_path, expected("array", *chain));
      return true;
    }
    if (steps->empty()) reader_.error(chain_path, "a chain needs at least one step");
    std::vector<std::string> earlier;  // "as" names of the steps read so far
    route.chain.reserve(steps->size());
    // A step that is no object is kept, empty, for the same reason as a route (see routes()).
    for (std::size_t i = 0; i < steps->size(); ++i)
      read_step((*steps)[i], json::index_path(chain_path, i), route.chain.emplace_back(), earlier);
    return true;
  }

  void match(const bj::value& v, const std::string& path, RouteMatch& on) {
    const bj::object* obj = reader_.object(v, path);
    if (!obj) return;
    reader_.allowed_keys(*obj, {"conversation_type", "conversation_key", "event_type"}, path);
    auto field = [&](std::string_view key) -> std::optional<std::string> {
      const bj::value* value = obj->if_contains(key);
      return value ? identifier(*value, path, key, key) : std::nullopt;
    };
    if (auto type = field("conversation_type")) on.conversation_type = names_->intern(*type);
    // An inbound message's conversation_key is its "pool:tag", which may hold any tag character.
    if (const bj::value* key = obj->if_contains("conversation_key");
        key && key->is_string() && check_tag(key->get_string()))
      on.conversation_key = key->get_string();
    else if (auto key_name = field("conversation_key"))
      on.conversation_key = std::move(*key_name);
    if (auto type = field("event_type")) on.event_type = names_->intern(*type);
  }

  void read_step(const bj::value& v, const std::string& path, StepSpec& step,
                 std::vector<std::string>& earlier) {
    const bj::object* obj = reader_.object(v, path);
    if (!obj) return;
    reader_.allowed_keys(*obj, {"handler", "as", "config"}, path);
    if (const bj::value* h = obj->if_contains("handler")) {
      if (const bj::string* name = h->if_string()) {
        step.handler = names_->intern(*name);
        if (std::find(handler_names_.begin(), handler_names_.end(), step.handler) == handler_names_.end() &&
            std::find(account_handler_names_.begin(), account_handler_names_.end(), step.handler) ==
                account_handler_names_.end())
          unknown_handler(std::string(step.handler), json::child_path(path, "handler"));
      } else {
        reader_.error(json::child_path(path, "handler"), expected("string", *h));
      }
    } else {
      reader_.error(path, "missing required key \"handler\"");
    }
    if (const bj::value* as = obj->if_contains("as")) {
      std::string as_path = json::child_path(path, "as");
      if (auto name = reader_.identifier(*as, as_path, "step name")) {
        if (std::find(earlier.begin(), earlier.end(), *name) != earlier.end()) {
          reader_.error(as_path,
                        "step name " + json::quoted(*name) + " is used by an earlier step of this chain");
        } else {
          step.as = names_->intern(*name);
        }
      }
    }
    if (const bj::value* config = obj->if_contains("config")) {
      if (const bj::object* c = config->if_object())
        compile(step, path, *c, earlier);
      else
        reader_.error(json::child_path(path, "config"), expected("object", *config));
    } else {
      compile(step, path, bj::object(), earlier);
    }
    if (!step.as.empty()) earlier.emplace_back(step.as);
  }

  // The identifier at parent.key; its path is built only for an error (most values are fine).
  std::optional<std::string> identifier(const bj::value& v, const std::string& parent, std::string_view key,
                                        std::string_view what) {
    if (const bj::string* s = v.if_string(); s && check_identifier(*s)) return std::string(*s);
    return reader_.identifier(v, json::child_path(parent, key), what);
  }

  void unknown_handler(const std::string& name, const std::string& path) {
    std::vector<std::string> known = account_handler_names_;
    known.insert(known.end(), handler_names_.begin(), handler_names_.end());
    std::string message = "unknown handler " + json::quoted(name) + " (known: " + join_names(known) + ")";
    if (auto guess = closest_name(name, known)) message += "; did you mean " + json::quoted(*guess) + "?";
    reader_.error(path, std::move(message));
  }

  // Compiles the step's templates and checks where their pointers lead.
  void compile(StepSpec& step, const std::string& path, const bj::object& config,
               const std::vector<std::string>& earlier) {
    std::vector<std::pair<std::string, std::string>> problems;
    step.compiled.compile(config, problems, &templates_);
    // Built only for a message: most steps have none.
    auto config_path = [&] { return json::child_path(path, "config"); };
    for (auto& [where, why] : problems) reader_.error(json::child_path(config_path(), where), std::move(why));
    for (const auto& use : step.compiled.uses()) {
      if (!use.name) continue;
      const std::string& name = *use.name;
      if (use.root == "steps" && std::find(earlier.begin(), earlier.end(), name) == earlier.end()) {
        reader_.error(json::child_path(config_path(), use.where),
                      "template {{" + use.pointer + "}} refers to step " + json::quoted(name) +
                          ", which is not an earlier step of this chain (earlier named steps: " +
                          join_names(earlier) + ")");
      } else if (use.root == "account" && name != "key" && name != "conversations" && name != "tags") {
        reader_.error(json::child_path(config_path(), use.where),
                      "template {{" + use.pointer +
                          "}}: /account has only /account/key, /account/conversations and "
                          "/account/tags");
      }
    }
  }

  FieldReader& reader_;
  std::vector<std::string> handler_names_;
  std::vector<std::string> account_handler_names_;         // the account being read: accounts.<key>.handlers
  std::vector<AccountSpec>* out_ = nullptr;                // the accounts read (begin)
  std::unordered_set<std::string_view> seen_;              // their keys, viewing out_
  std::set<std::string, std::less<>> unread_;              // keys of accounts that were no objects (few)
  std::unordered_map<std::string_view, TagOwner> owners_;  // by tag, viewing the tags in out_
  TemplateCache templates_;                                // accounts repeating a step config share it
  std::shared_ptr<NameTable> names_ = std::make_shared<NameTable>();  // the accounts' names, shared
};

}  // namespace

void read_accounts(const bj::value& accounts, const std::vector<HandlerSpec>& handlers,
                   std::vector<AccountSpec>& out, FieldReader& reader) {
  AccountReader(handlers, reader).accounts(accounts, out);
}

void read_accounts(std::size_t count, const std::function<void(const AccountVisitor&)>& each_account,
                   const std::vector<HandlerSpec>& handlers, std::vector<AccountSpec>& out,
                   FieldReader& reader) {
  AccountReader accounts(handlers, reader);
  accounts.begin(count, out);
  each_account([&](std::string_view key, const bj::value& value) { accounts.account(key, value); });
}

namespace {

// "[<index>]" appended to out: the index part of a route's and a step's path.
void append_index(std::string& out, std::size_t index) {
  char digits[24];
  const char* digits_end = std::to_chars(std::begin(digits), std::end(digits), index).ptr;
  out.append("[").append(digits, static_cast<std::size_t>(digits_end - digits)).append("]");
}

}  // namespace

std::string route_path(std::string_view account_key, std::size_t index) {
  std::string path;
  append_route_path(path, account_key, index);
  return path;
}

void append_route_path(std::string& out, std::string_view account_key, std::size_t index) {
  out.append("accounts.").append(account_key).append(".routes");
  append_index(out, index);
}

std::string step_path(std::string_view account_key, std::size_t route, std::size_t index) {
  std::string path;
  append_step_path(path, account_key, route, index);
  return path;
}

void append_step_path(std::string& out, std::string_view account_key, std::size_t route, std::size_t index) {
  append_route_path(out, account_key, route);
  out.append(".chain");
  append_index(out, index);
}

}  // namespace vumi::config
