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

void read_pool(const bj::object& obj, TagPoolSpec& pool, FieldReader& reader) {
  reader.allowed_keys(obj, {"transport_name", "transport_type", "reply_to_unroutable"}, pool.path);
  if (const bj::value* name = obj.if_contains("transport_name")) {
    if (auto t = reader.identifier(*name, json::child_path(pool.path, "transport_name"), "transport name"))
      pool.transport_name = *t;
  } else {
    reader.error(pool.path, "missing required key \"transport_name\"");
  }
  if (const bj::value* type = obj.if_contains("transport_type"); type && !type->is_null()) {
    std::string path = json::child_path(pool.path, "transport_type");
    if (auto t = reader.string(*type, path)) {
      if (blank(*t))
        reader.error(path, "must not be empty");
      else
        pool.transport_type = *t;
    }
  }
  if (const bj::value* reply = obj.if_contains("reply_to_unroutable"); reply && !reply->is_null()) {
    std::string path = json::child_path(pool.path, "reply_to_unroutable");
    if (auto text = reader.string(*reply, path)) {
      if (blank(*text))
        reader.error(path, "must not be empty (null or absent: no reply)");
      else
        pool.reply_to_unroutable = *text;
    }
  }
}

}  // namespace

void read_tag_pools(const bj::value& v, std::vector<TagPoolSpec>& out, FieldReader& reader) {
  const bj::object* pools = reader.object(v, "tag_pools");
  if (!pools) return;
  for (const auto& [key, value] : *pools) {
    TagPoolSpec pool;
    pool.pool = std::string(key);
    pool.path = json::child_path("tag_pools", key);
    if (auto problem = tag_pool_problem(key)) {
      reader.error(pool.path, "pool " + json::quoted(pool.pool) + " " + *problem);
      continue;
    }
    const bj::object* obj = reader.object(value, pool.path);
    if (!obj) continue;
    read_pool(*obj, pool, reader);
    out.push_back(std::move(pool));
  }
}

}  // namespace vumi::config
