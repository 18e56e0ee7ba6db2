// libFuzzer target for the envelope decoder. An input is "<topic>\n<body>"; an input without a
// newline is the body of a poll_complete event. Each input goes through decode() with and without
// an account directory (the second with tight limits), through make_emitted() as a plugin's event,
// and, when it decodes as an inbound message or a transport event, through make_inbound_event() or
// make_transport_event(). Whatever is accepted
// must satisfy the Envelope invariants and decode again to the same fields; whatever is refused
// must carry a known reason and a printable message. Whatever the fast path (event_scan.hpp)
// accepts, the full parser must accept with the same fields. A violation aborts, so libFuzzer
// reports it.
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "common/identifier.hpp"
#include "event/body_parser.hpp"
#include "event/envelope_decoder.hpp"
#include "event/event_scan.hpp"

namespace {

using namespace vumi::event;

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "decoder invariant broken: %s\n", what);
  std::abort();
}

class FuzzAccounts : public AccountDirectory {
 public:
  bool has_account(std::string_view account_key) const override { return account_key == "acct1"; }
  std::optional<std::string_view> conversation_type(std::string_view account_key,
                                                    std::string_view conversation_key) const override {
    if (account_key == "acct1" && conversation_key == "poll1") return "vxpolls";
    return std::nullopt;
  }
};

std::string_view view_of(const boost::json::value& v) {
  require(v.is_string(), "envelope field is not a string");
  const auto& s = v.get_string();
  return {s.data(), s.size()};
}

void check_view(const Envelope& e, const char* key, std::string_view view, bool is_tag = false) {
  const boost::json::value* v = e.body().get_object().if_contains(key);
  require(v != nullptr, "envelope body lacks a field");
  std::string_view stored = view_of(*v);
  require(stored == view, "envelope view differs from its body's field");
  if (is_tag)
    require(static_cast<bool>(vumi::check_tag(view)), "envelope conversation_key is not a vumi tag");
  else
    require(vumi::is_identifier(view), "envelope field is not an identifier");
}

// key_is_tag: an inbound message's event, whose conversation_key is its "pool:tag".
void check_envelope(const Envelope& e, bool emitted, bool key_is_tag = false) {
  require(e.body().is_object(), "envelope body is not an object");
  const auto& body = e.body().get_object();
  static const std::set<std::string_view> worker_keys{"account_key", "conversation_key", "conversation_type",
                                                      "event_type",  "event_data",       "event_id",
                                                      "timestamp"};
  require(body.size() == worker_keys.size() + (emitted ? 2 : 0),
          "envelope body has the wrong number of fields");
  for (const auto& member : body) {
    std::string_view key(member.key().data(), member.key().size());
    require(worker_keys.count(key) || (emitted && (key == "causation_id" || key == "depth")),
            "envelope body has an unexpected field");
  }
  check_view(e, "account_key", e.account_key);
  check_view(e, "conversation_key", e.conversation_key, key_is_tag);
  check_view(e, "conversation_type", e.conversation_type);
  check_view(e, "event_type", e.event_type);
  check_view(e, "event_id", e.event_id);
  require(&e.event_data() == &body.at("event_data").get_object(), "event_data does not point into body");
  view_of(body.at("timestamp"));
  if (emitted) require(body.at("depth").to_number<std::uint64_t>() == e.depth, "depth field differs");
}

void check_rejection(const Rejection& r) {
  require(r.reason < Reason::count_, "rejection reason out of range");
  for (char c : r.text()) require(c >= 0x20 && c < 0x7f, "rejection message is not printable ASCII");
}

// A decoded worker event must decode again, from its normalised body, to the same fields.
// Equal, except that two doubles may be a unit in the last place apart: Boost.JSON 1.81 parses a
// long number (a 90-digit integer) and the shortest text of its double, which serialize writes, to
// neighbouring doubles. (The dispatcher forwards event_data as written, so it does not drift.)
bool same_json(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double(), y = b.get_double();
    return x == y || std::nextafter(x, y) == y;
  }
  if (a.kind() != b.kind()) return false;
  if (const boost::json::array* left = a.if_array()) {
    const boost::json::array& right = b.get_array();
    if (left->size() != right.size()) return false;
    for (std::size_t i = 0; i < left->size(); ++i)
      if (!same_json((*left)[i], right[i])) return false;
    return true;
  }
  if (const boost::json::object* left = a.if_object()) {
    const boost::json::object& right = b.get_object();
    if (left->size() != right.size()) return false;
    for (const auto& member : *left) {
      const boost::json::value* other = right.if_contains(member.key());
      if (!other || !same_json(member.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

void check_redecodes(const EnvelopeDecoder& decoder, const Envelope& e) {
  std::string body = boost::json::serialize(e.body());
  if (body.size() > decoder.limits().max_body_bytes) return;
  std::string topic = "event." + std::string(e.account_key) + "." + std::string(e.conversation_type) + "." +
                      std::string(e.event_type);
  Decoded again = decoder.decode(topic, body);
  const Envelope* same = again ? std::get_if<Envelope>(&*again) : nullptr;
  require(same != nullptr, "normalised envelope does not decode again");
  require(same_json(same->body(), e.body()), "normalised envelope decodes to a different body");
}

const EnvelopeDecoder& full_decoder() {
  static FuzzAccounts accounts;
  static EnvelopeDecoder decoder(DecodeLimits{}, &accounts);
  return decoder;
}

const EnvelopeDecoder& tight_decoder() {
  static EnvelopeDecoder decoder(DecodeLimits{4096, 8, 32}, nullptr);
  return decoder;
}

const Envelope& parent_event() {
  static Envelope parent = [] {
    Decoded d = full_decoder().decode("event.acct1.vxpolls.poll_complete",
                                      R"({"account_key":"acct1","conversation_key":"poll1",)"
                                      R"("event_type":"poll_complete","event_id":"p1","event_data":{}})");
    require(d && std::holds_alternative<Envelope>(*d), "the fuzzer's parent event does not decode");
    return std::get<Envelope>(std::move(d).value());
  }();
  return parent;
}

void exercise(const EnvelopeDecoder& decoder, std::string_view topic, std::string_view body) {
  Decoded result = decoder.decode(topic, body);
  if (!result) {
    check_rejection(result.error());
    return;
  }
  DecodedMessage& decoded = *result;
  if (auto* e = std::get_if<Envelope>(&decoded)) {
    Envelope moved(std::move(*e));
    check_envelope(moved, false);
    check_redecodes(decoder, moved);
  } else if (auto* m = std::get_if<InboundMessage>(&decoded)) {
    require(m->body.is_object(), "inbound body is not an object");
    require(static_cast<bool>(vumi::check_tag(m->tag)), "inbound tag is not a vumi tag");
    Envelope inbound = decoder.make_inbound_event("acct1", std::move(*m));
    check_envelope(inbound, false, true);
  } else if (auto* t = std::get_if<TransportEvent>(&decoded)) {
    require(t->raw.data() == body.data() && t->raw.size() == body.size(),
            "transport event raw is not the input");
    require(t->event_type == "ack" || t->event_type == "nack" || t->event_type == "delivery_report",
            "transport event type is not ack, nack or delivery_report");
    Envelope routed = decoder.make_transport_event("acct1", "vxpolls", "poll1", std::move(*t));
    check_envelope(routed, false);
  } else if (auto* o = std::get_if<ConversationOutbound>(&decoded)) {
    require(o->body.is_object(), "conversation outbound body is not an object");
    require(o->raw.data() == body.data() && o->raw.size() == body.size(),
            "conversation outbound raw is not the input");
    require(vumi::is_identifier(o->conversation_type) && vumi::is_identifier(o->conversation_key),
            "conversation outbound topic parts are not identifiers");
  } else {
    const Command& c = std::get<Command>(decoded);
    require(c.body.data() == body.data() && c.body.size() == body.size(), "command body is not the input");
    require(vumi::is_identifier(c.worker_name), "command worker is not an identifier");
  }
}

// The fast path may give up on anything, but what it accepts the full parser must accept too,
// with the same fields and the same event_data.
void check_scan_agrees(std::string_view body, const DecodeLimits& limits) {
  auto scanned = scan_worker_event(body, limits);
  if (!scanned) return;
  // Given its own fields as the topic's, it accepts the same body.
  const TopicFields own{scanned->account_key, scanned->conversation_type, scanned->event_type};
  require(scan_worker_event(body, limits, &own).has_value(),
          "the fast path refused its own fields as the topic");
  boost::json::value full;
  require(!parse_body(body, limits, full), "the fast path accepted what the full parser refuses");
  require(full.is_object(), "the fast path accepted a body that is not an object");
  const boost::json::object& obj = full.get_object();
  auto same_string = [&](const char* key, std::string_view scanned_value) {
    const boost::json::value* v = obj.if_contains(key);
    if (scanned_value.data() == nullptr) {
      require(v == nullptr || v->is_null(), "the fast path missed a field");
      return;
    }
    require(v != nullptr && view_of(*v) == scanned_value, "the fast path read a field differently");
  };
  same_string("account_key", scanned->account_key);
  same_string("conversation_key", scanned->conversation_key);
  same_string("event_type", scanned->event_type);
  same_string("conversation_type", scanned->conversation_type);
  same_string("event_id", scanned->event_id);
  same_string("timestamp", scanned->timestamp);
  const boost::json::value* data = obj.if_contains("event_data");
  if (!data) data = obj.if_contains("content");
  require(data != nullptr, "the fast path found event_data where there is none");
  boost::json::value sliced;
  require(!parse_body(scanned->event_data, limits, sliced), "the fast path's event_data text does not parse");
  require(sliced == *data, "the fast path's event_data text is not event_data");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view topic = "event.acct1.vxpolls.poll_complete";
  std::string_view body = input;
  if (auto newline = input.find('\n'); newline != std::string_view::npos) {
    topic = input.substr(0, newline);
    body = input.substr(newline + 1);
  }
  exercise(full_decoder(), topic, body);
  exercise(tight_decoder(), topic, body);
  check_scan_agrees(body, full_decoder().limits());
  check_scan_agrees(body, tight_decoder().limits());

  auto emitted = full_decoder().make_emitted(parent_event(), body);
  if (!emitted) {
    check_rejection(emitted.error());
  } else {
    const Envelope& e = *emitted;
    check_envelope(e, true);
    require(e.account_key == "acct1", "emitted event escaped its account");
    require(e.depth == 1, "emitted depth is not parent + 1");
  }
  return 0;
}
