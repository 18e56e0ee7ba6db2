#include "config/tag_pool_reader.hpp"

#include <boost/json/object.hpp>

#include "common/identifier.hpp"
#include "common/json.hpp"

namespace vumi::config {

namespace bj = boost::json;

namespace {

bool blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// An optional text member of obj: absent or null leaves out as it is; blank text is the error if_blank.
void optional_text(const bj::object& obj, const std::string& base, const char* key, const char* if_blank,
                   std::optional<std::string>& out, FieldReader& reader) {
  const bj::value* value = obj.if_contains(key);
  if (!value || value->is_null()) return;
  const std::string path = json::child_path(base, key);
  if (auto text = reader.string(*value, path)) {
    if (blank(*text))
      reader.error(path, if_blank);
    else
      out = *text;
  }
}

void read_pool(const bj::object& obj, TagPoolSpec& pool, FieldReader& reader) {
  reader.allowed_keys(obj, {"transport_name", "transport_type", "reply_to_unroutable"}, pool.path);
  if (const bj::value* name = obj.if_contains("transport_name")) {
    if (auto t = reader.identifier(*name, json::child_path(pool.path, "transport_name"), "transport name"))
      pool.transport_name = *t;
  } else {
    reader.error(pool.path, "missing required key \"transport_name\"");
  }
  optional_text(obj, pool.path, "transport_type", "must not be empty", pool.transport_type, reader);
  optional_text(obj, pool.path, "reply_to_unroutable", "must not be empty (null or absent: no reply)",
                pool.reply_to_unroutable, reader);
}

}  // namespace

void read_tag_pools(const bj::value& v, std::vector<TagPoolSpec>& out, FieldReader& reader) {
  const bj::object* pools = reader.object(v, "tag_pools");
  if (!pools) return;
  for (const auto& [key, value] : *pools) {
    TagPoolSpec pool;
    pool.pool = std::string(key);
    pool.path = json::child_path("tag_pools", key);
    if (auto checked = check_tag_pool(key); !checked) {
      reader.error(pool.path, "pool " + json::quoted(pool.pool) + " " + checked.error().message);
      continue;
    }
    const bj::object* obj = reader.object(value, pool.path);
    if (!obj) continue;
    read_pool(*obj, pool, reader);
    out.push_back(std::move(pool));
  }
}

}  // namespace vumi::config
