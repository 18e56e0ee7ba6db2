// Reads the "tag_pools" section: each pool's transport and its reply to unroutable messages.
#pragma once

#include <boost/json/value.hpp>
#include <vector>

#include "config/config.hpp"
#include "config/field_reader.hpp"

namespace vumi::config {

// Reads tag_pools into out, recording every problem with its JSON path.
void read_tag_pools(const boost::json::value& v, std::vector<TagPoolSpec>& out, FieldReader& reader);

}  // namespace vumi::config
