// Reads the "accounts" section: conversations, tags (with ownership across accounts), routes,
// chains and their steps, compiling each step's templates.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/field_reader.hpp"

namespace vumi::config {

// Reads accounts into out; handlers are the defined handler instances steps may name.
void read_accounts(const boost::json::value& accounts, const std::vector<HandlerSpec>& handlers,
                   std::vector<AccountSpec>& out, FieldReader& reader);

}  // namespace vumi::config
