#include "admin/api_sample_event.hpp"

#include <boost/json/serialize.hpp>

#include "admin/http_json.hpp"
#include "common/json.hpp"

namespace vumi::admin {

namespace bj = boost::json;
namespace http = boost::beast::http;

HttpResponse sample_event(const dispatch::RunHistory& runs, const std::string& key,
                          const std::string& query) {
  dispatch::RunHistory::Filter filter;
  filter.event_type = query_param(query, "event_type");
  if (!filter.event_type || filter.event_type->empty())
    return error_response(http::status::bad_request, "event_type is required", "?event_type");
  filter.conversation_key = query_param(query, "conversation_key");
  if (filter.conversation_key && filter.conversation_key->empty()) filter.conversation_key.reset();
  filter.limit = 1000;
  for (const dispatch::Run* run : runs.runs(key, filter)) {
    if (run->event.empty()) continue;  // too large to keep
    bj::value event;
    json::ParseError ignored;
    if (!json::parse(run->event, {}, event, ignored)) continue;
    return json_response(http::status::ok, bj::object{{"key", key},
                                                      {"event_id", run->event_id},
                                                      {"time", run->time_text()},
                                                      {"event", std::move(event)}});
  }
  return error_response(http::status::not_found,
                        "no recent " + *filter.event_type + " event of account \"" + key +
                            "\" (the run history keeps the last events since the daemon started)",
                        "?event_type");
}

}  // namespace vumi::admin
