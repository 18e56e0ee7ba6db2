#include "event/envelope.hpp"

#include <algorithm>
#include <array>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "event/event_identity.hpp"

namespace vumi::event {

namespace bj = boost::json;

namespace {

// More than bj::string keeps inside itself, so text_ is on the heap and a move keeps the views valid.
constexpr std::size_t kMinTextCapacity = 64;

bj::string_view json_view(std::string_view s) {
  return {s.data(), s.size()};
}

// The calling thread's parser for event_data texts, kept for its stack's capacity. The text was
// checked when the event arrived, so no limit applies here but a depth beyond any DecodeLimits.
bj::parser& thread_parser() {
  thread_local bj::parser parser = [] {
    bj::parse_options options;
    options.max_depth = 100000;
    return bj::parser(bj::storage_ptr(), options);
  }();
  return parser;
}

}  // namespace

Envelope::Envelope(const EnvelopeParts& parts,
                   boost::json::storage_ptr storage)  // NOLINT(performance-unnecessary-value-param)
    : body_(storage), built_(false), text_(storage), arrived_(parts.arrived) {
  const std::array<std::string_view, 7> pieces{
      parts.event_data, parts.account_key, parts.conversation_key, parts.conversation_type,
      parts.event_type, parts.event_id,    parts.timestamp};
  std::size_t total = 0;
  for (std::string_view piece : pieces) total += piece.size();
  text_.reserve(std::max(total, kMinTextCapacity));
  text_.grow(total);  // sized once and filled below: one call into Boost.JSON, not one per piece
  const std::array<std::string_view*, 7> views{&event_data_text_,  &account_key, &conversation_key,
                                               &conversation_type, &event_type,  &event_id,
                                               &timestamp_};
  char* at = text_.data();
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    if (!pieces[i].empty()) std::memcpy(at, pieces[i].data(), pieces[i].size());
    *views[i] = {at, pieces[i].size()};
    at += pieces[i].size();
  }
  if (parts.timestamp.data() == nullptr) timestamp_ = {};
}

void Envelope::build_body() const {
  const bj::storage_ptr& storage = text_.storage();
  bj::parser& parser = thread_parser();
  parser.reset(storage);
  bj::error_code ec;
  parser.write(event_data_text_.data(), event_data_text_.size(), ec);
  if (ec)  // the text was checked on arrival, so this is a bug, not bad input
    throw std::logic_error("event " + std::string(event_id) + ": its checked event_data no longer parses (" +
                           ec.message() + ")");
  bj::value data = parser.release();

  bj::object body(storage);
  body.reserve(7);
  body.emplace("account_key", json_view(account_key));
  body.emplace("conversation_key", json_view(conversation_key));
  body.emplace("conversation_type", json_view(conversation_type));
  body.emplace("event_type", json_view(event_type));
  body.emplace("event_id", json_view(event_id));
  if (timestamp_.data())
    body.emplace("timestamp", json_view(timestamp_));
  else
    body.emplace("timestamp", json_view(vumi_timestamp(arrived_)));
  body.emplace("event_data", std::move(data));
  body_ = bj::value(std::move(body));  // the same resource: moved, not copied
  built_ = true;
}

std::string Envelope::json() const {
  std::string out;
  write_json(out);
  return out;
}

void Envelope::write_json(std::string& out) const {
  if (event_data_text_.empty()) {  // not from the fast path: the body is all there is
    if (built_json_.empty()) built_json_ = bj::serialize(body_);
    out.assign(built_json_);
    return;
  }
  // From the fast path, built since or not: the parts are still here, and joining them is cheaper
  // than serialising the body. Every part is an identifier, or a string or object the fast path
  // checked was written without anything a JSON string would need escaped (event_scan.hpp), so
  // each goes in as it is.
  const std::string arrived = timestamp_.data() ? std::string() : vumi_timestamp(arrived_);
  const std::string_view timestamp = timestamp_.data() ? timestamp_ : std::string_view(arrived);
  out.clear();
  out.reserve(text_.size() + arrived.size() + 128);
  out.append(R"({"account_key":")").append(account_key);
  out.append(R"(","conversation_key":")").append(conversation_key);
  out.append(R"(","conversation_type":")").append(conversation_type);
  out.append(R"(","event_type":")").append(event_type);
  out.append(R"(","event_id":")").append(event_id);
  out.append(R"(","timestamp":")").append(timestamp);
  out.append(R"(","event_data":)").append(event_data_text_);
  out.append("}");
}

}  // namespace vumi::event
