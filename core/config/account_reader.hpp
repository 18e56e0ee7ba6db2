// Reads the "accounts" section: conversations, tags (with ownership across accounts), routes,
// chains and their steps, compiling each step's templates.
#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/config_document.hpp"
#include "config/field_reader.hpp"

namespace vumi::config {

// Reads accounts into out; handlers are the defined handler instances steps may name.
void read_accounts(const boost::json::value& accounts, const std::vector<HandlerSpec>& handlers,
                   std::vector<AccountSpec>& out, FieldReader& reader);

// The same for the count members of an "accounts" object that each_account hands over one at a
// time (config_document.hpp): what is read is the same, and an account key given twice, which a
// document would have collapsed, is an error.
void read_accounts(std::size_t count, const std::function<void(const AccountVisitor&)>& each_account,
                   const std::vector<HandlerSpec>& handlers, std::vector<AccountSpec>& out,
                   FieldReader& reader);

}  // namespace vumi::config
