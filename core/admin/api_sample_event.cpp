#include "admin/api_sample_event.hpp"

#include <boost/json/serialize.hpp>

#include "common/json.hpp"

namespace vumi::admin {

namespace bj = boost::json;
namespace http = boost::beast::http;

namespace {

HttpResponse answer(http::status code, const bj::value& body) {
  HttpResponse response{code, 11};
  response.set(http::field::content_type, "application/json");
  response.body() = bj::serialize(body) + "\n";
  return response;
}

HttpResponse failure(http::status code, std::string message, std::string path) {
  return answer(code, bj::object{{"errors", bj::array{bj::object{{"path", std::move(path)},
                                                                 {"message", std::move(message)}}}}});
}

std::string decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::optional<std::string> param(const std::string& query, std::string_view name) {
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t amp = query.find('&', start);
    if (amp == std::string::npos) amp = query.size();
    std::string_view part(query.data() + start, amp - start);
    std::size_t eq = part.find('=');
    if (part.substr(0, eq) == name) return decode(eq == std::string_view::npos ? "" : part.substr(eq + 1));
    start = amp + 1;
  }
  return std::nullopt;
}

}  // namespace

HttpResponse sample_event(const dispatch::RunHistory& runs, const std::string& key,
                          const std::string& query) {
  dispatch::RunHistory::Filter filter;
  filter.event_type = param(query, "event_type");
  if (!filter.event_type || filter.event_type->empty())
    return failure(http::status::bad_request, "event_type is required", "?event_type");
  filter.conversation_key = param(query, "conversation_key");
  if (filter.conversation_key && filter.conversation_key->empty()) filter.conversation_key.reset();
  filter.limit = 1000;
  for (const dispatch::Run* run : runs.runs(key, filter)) {
    if (run->event.empty()) continue;  // too large to keep
    bj::value event;
    json::ParseError ignored;
    if (!json::parse(run->event, {}, event, ignored)) continue;
    return answer(
        http::status::ok,
        bj::object{
            {"key", key}, {"event_id", run->event_id}, {"time", run->time}, {"event", std::move(event)}});
  }
  return failure(http::status::not_found,
                 "no recent " + *filter.event_type + " event of account \"" + key +
                     "\" (the run history keeps the last events since the daemon started)",
                 "?event_type");
}

}  // namespace vumi::admin
