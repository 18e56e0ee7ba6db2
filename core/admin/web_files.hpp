// The web page's files (web/ in the source tree), compiled into the binary.
#pragma once

#include <map>
#include <string_view>

namespace vumi::admin {

// "/index.html" -> its bytes.
const std::map<std::string_view, std::string_view>& web_files();

}  // namespace vumi::admin
