#include "common/raw_json.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace vumi::json {

namespace bj = boost::json;

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void skip_space(std::string_view text, std::size_t& i) {
  while (i < text.size() && is_space(text[i])) ++i;
}

// Moves i past the string starting at text[i] (a '"'); false when it does not end.
bool skip_string(std::string_view text, std::size_t& i) {
  for (++i; i < text.size(); ++i) {
    if (text[i] == '\\')
      ++i;
    else if (text[i] == '"') {
      ++i;
      return true;
    }
  }
  return false;
}

// Moves i past the value starting at text[i]; false when the text ends first.
bool skip_value(std::string_view text, std::size_t& i) {
  if (i >= text.size()) return false;
  if (text[i] == '"') return skip_string(text, i);
  if (text[i] == '{' || text[i] == '[') {
    std::size_t depth = 0;
    while (i < text.size()) {
      char c = text[i];
      if (c == '"') {
        if (!skip_string(text, i)) return false;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++i;
          return true;
        }
      }
      ++i;
    }
    return false;
  }
  while (i < text.size() && !is_space(text[i]) && text[i] != ',' && text[i] != '}' && text[i] != ']') ++i;
  return true;
}

std::optional<std::string> decode_key(std::string_view quoted) {
  std::string_view inner = quoted.substr(1, quoted.size() - 2);
  if (inner.find('\\') == std::string_view::npos) return std::string(inner);
  bj::error_code ec;
  bj::value v = bj::parse(bj::string_view(quoted.data(), quoted.size()), ec);
  if (ec || !v.is_string()) return std::nullopt;
  return std::string(v.get_string());
}

void serialize_into(std::string& out, const bj::value& value) {
  out += bj::serialize(value);
}

void serialize_key(std::string& out, bj::string_view key) {
  out += bj::serialize(bj::value(bj::string(key)));
}

// Value equality where a double may differ from its counterpart by the rounding of one
// serialise/parse round trip: Boost.JSON 1.81 parses numbers imprecisely, so the plugin's re-read
// of 1.1805916207174112E21 can land an ulp away from the sender's 1180591620717411303424.
bool same_double(double a, double b) {
  if (a == b) return true;
  if (std::isnan(a) || std::isnan(b) || std::signbit(a) != std::signbit(b)) return false;
  std::int64_t ia, ib;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  return (ia > ib ? ia - ib : ib - ia) <= 4;
}

bool same_value(const bj::value& a, const bj::value& b) {
  if (a.is_double() && b.is_double()) return same_double(a.get_double(), b.get_double());
  if (a.kind() != b.kind() || (!a.is_object() && !a.is_array())) return a == b;
  if (const bj::object* oa = a.if_object()) {
    const bj::object& ob = b.get_object();
    if (oa->size() != ob.size()) return false;
    for (const auto& member : *oa) {
      const bj::value* other = ob.if_contains(member.key());
      if (!other || !same_value(member.value(), *other)) return false;
    }
    return true;
  }
  const bj::array& xa = a.get_array();
  const bj::array& xb = b.get_array();
  if (xa.size() != xb.size()) return false;
  for (std::size_t i = 0; i < xa.size(); ++i)
    if (!same_value(xa[i], xb[i])) return false;
  return true;
}

}  // namespace

std::optional<RawObject> raw_object(std::string_view text) {
  std::size_t i = 0;
  skip_space(text, i);
  if (i >= text.size() || text[i] != '{') return std::nullopt;
  ++i;
  RawObject object;
  object.open = text.substr(0, i);
  std::size_t mark = i;  // where the text around the next member starts
  skip_space(text, i);
  if (i < text.size() && text[i] == '}') {
    object.close = text.substr(mark, i + 1 - mark);
    return object;
  }
  while (i < text.size()) {
    skip_space(text, i);
    if (i >= text.size() || text[i] != '"') return std::nullopt;
    RawMember member;
    member.before = text.substr(mark, i - mark);
    std::size_t key_start = i;
    if (!skip_string(text, i)) return std::nullopt;
    member.key_text = text.substr(key_start, i - key_start);
    auto key = decode_key(member.key_text);
    if (!key) return std::nullopt;
    member.key = std::move(*key);
    std::size_t key_end = i;
    skip_space(text, i);
    if (i >= text.size() || text[i] != ':') return std::nullopt;
    ++i;
    skip_space(text, i);
    member.between = text.substr(key_end, i - key_end);
    std::size_t value_start = i;
    if (!skip_value(text, i)) return std::nullopt;
    member.value_text = text.substr(value_start, i - value_start);
    object.members.push_back(std::move(member));
    mark = i;
    skip_space(text, i);
    if (i >= text.size()) return std::nullopt;
    if (text[i] == '}') {
      object.close = text.substr(mark, i + 1 - mark);
      return object;
    }
    if (text[i] != ',') return std::nullopt;
    ++i;
  }
  return std::nullopt;
}

void respell_into(std::string& out, const bj::value& value, const bj::value& original,
                  std::string_view original_text) {
  if (same_value(value, original)) {
    // Trimmed: a member's value text never has surrounding whitespace, a whole body may.
    std::size_t first = 0, last = original_text.size();
    while (first < last && is_space(original_text[first])) ++first;
    while (last > first && is_space(original_text[last - 1])) --last;
    out.append(original_text.substr(first, last - first));
    return;
  }
  const bj::object* changed = value.if_object();
  const bj::object* before = original.if_object();
  std::optional<RawObject> raw;
  if (changed && before) raw = raw_object(original_text);
  if (!raw) {
    serialize_into(out, value);
    return;
  }
  // Spacing for members the original lacks: the original's own, else none.
  std::string_view comma = ",", colon = ":";
  if (!raw->members.empty()) colon = raw->members.back().between;
  if (raw->members.size() > 1)
    comma = raw->members.back().before;
  else if (colon == ": ")
    comma = ", ";  // Python's json.dumps spacing

  std::size_t first = 0, last = raw->open.size();
  while (first < last && is_space(raw->open[first])) ++first;
  out.append(raw->open.substr(first));
  bool any = false;
  for (const RawMember& member : raw->members) {
    const bj::value* now = changed->if_contains(member.key);
    if (!now) continue;  // removed
    // The first member written takes the first member's leading text (which has no comma).
    out.append(any ? member.before : raw->members.front().before);
    any = true;
    out.append(member.key_text);
    out.append(member.between);
    if (const bj::value* then = before->if_contains(member.key))
      respell_into(out, *now, *then, member.value_text);
    else
      serialize_into(out, *now);
  }
  // Keys the text lacks, whether or not the parsed original had them (a decoder may add one).
  auto in_text = [&](bj::string_view key) {
    for (const RawMember& member : raw->members)
      if (member.key == key) return true;
    return false;
  };
  for (const auto& entry : *changed) {
    if (in_text(entry.key())) continue;
    if (any) out.append(comma);
    any = true;
    serialize_key(out, entry.key());
    out.append(colon);
    serialize_into(out, entry.value());
  }
  out.append(raw->close);
}

std::string respell(const bj::value& value, const bj::value& original, std::string_view original_text) {
  std::string out;
  out.reserve(original_text.size() + 64);
  respell_into(out, value, original, original_text);
  return out;
}

}  // namespace vumi::json
