#include "event/ingest_topic.hpp"

#include <array>
#include <span>
#include <string>

#include "common/identifier.hpp"
#include "event/body_fields.hpp"

namespace vumi::event {

namespace {

struct TopicForm {
  std::string_view prefix;
  IngestTopic::Kind kind;
  std::size_t part_count;
  std::array<std::string_view, 3> part_names;
  std::string_view shape;
};

constexpr std::array<TopicForm, 5> kForms{{
    {"event",
     IngestTopic::Kind::event,
     3,
     {"account_key", "conversation_type", "event_type"},
     "event.<account_key>.<conversation_type>.<event_type>"},
    {"inbound", IngestTopic::Kind::inbound, 1, {"transport_name"}, "inbound.<transport_name>"},
    {"command", IngestTopic::Kind::command, 1, {"worker_name"}, "command.<worker_name>"},
    {"transport_event",
     IngestTopic::Kind::transport_event,
     1,
     {"transport_name"},
     "transport_event.<transport_name>"},
    {"conversation_outbound",
     IngestTopic::Kind::conversation_outbound,
     2,
     {"conversation_type", "conversation_key"},
     "conversation_outbound.<conversation_type>.<conversation_key>"},
}};

Rejection bad_topic(std::string_view topic, std::string_view why) {
  return {Reason::bad_topic, "topic " + quoted_excerpt(topic) + " " + std::string(why)};
}

}  // namespace

Expected<IngestTopic, Rejection> parse_ingest_topic(std::string_view topic) {
  if (topic.empty()) return Rejection{Reason::bad_frames, "the topic frame is empty"};
  std::string_view prefix = topic.substr(0, topic.find('.'));
  const TopicForm* form = nullptr;
  for (const TopicForm& candidate : kForms) {
    if (candidate.prefix == prefix) {
      form = &candidate;
      break;
    }
  }
  if (!form)
    return bad_topic(topic,
                     "is not event.<account_key>.<conversation_type>.<event_type>, "
                     "inbound.<transport_name>, command.<worker_name>, transport_event.<transport_name> or "
                     "conversation_outbound.<conversation_type>.<conversation_key>");

  IngestTopic parsed;
  parsed.kind = form->kind;
  if (topic.size() > prefix.size() &&
      split_identifiers(topic.substr(prefix.size() + 1), '.', std::span(parsed.parts, form->part_count)))
    return parsed;
  // Something is wrong: find the first part at fault, to say what.
  std::string_view rest = topic.substr(prefix.size());  // "" or ".a.b.c"
  std::size_t count = 0;
  while (!rest.empty()) {
    rest.remove_prefix(1);  // the '.'
    std::size_t dot = rest.find('.');
    std::string_view part = rest.substr(0, dot);
    if (count == form->part_count)
      return bad_topic(topic, "has more than " + std::to_string(form->part_count + 1) + " parts; expected " +
                                  std::string(form->shape));
    if (is_identifier(part)) {
      // the common case, without building a message
    } else if (auto checked = check_identifier(part); !checked)
      return bad_topic(topic, "has " + std::string(form->part_names[count]) + " " + quoted_excerpt(part) +
                                  " " + checked.error().message);
    parsed.parts[count++] = part;
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot);
  }
  if (count < form->part_count) return bad_topic(topic, "is too short; expected " + std::string(form->shape));
  return parsed;
}

}  // namespace vumi::event
