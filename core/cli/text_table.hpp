// Plain text tables for the inspection commands (contacts, inbox, dead-letters, cluster status).
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace vumi::cli {

// Number of code points in UTF-8 text: close enough to its width in a terminal.
std::size_t display_width(std::string_view text);

// Prints rows as columns separated by two spaces, each as wide as its widest cell.
void print_table(std::ostream& out, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

}  // namespace vumi::cli
