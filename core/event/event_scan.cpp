#include "event/event_scan.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/identifier.hpp"
#include "common/utf8.hpp"

namespace vumi::event {

namespace {

// Objects with more members go to the full parser: duplicates are found by comparing each key
// with the keys before it, which is cheap only for small objects.
constexpr std::size_t kMaxScannedMembers = 64;

// At most this many characters in a number (sign and point included): whatever the full parser
// makes of longer ones (a rounded double, a uint64), it is the full parser's call.
constexpr std::ptrdiff_t kMaxNumberChars = 16;

// The keys of all open objects the scan keeps for duplicate checks; a body that needs more (deep
// nesting of objects of many keys) goes to the full parser.
constexpr std::size_t kMaxOpenKeys = 256;
using OpenKeys = std::array<std::string_view, kMaxOpenKeys>;

// Bytes a string holds as they are: ASCII from space up, except the quote and the backslash.
constexpr std::array<bool, 256> kPlainStringByte = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return plain;
}();

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The top-level members the envelope reads.
enum class Field {
  other,
  account_key,
  conversation_key,
  conversation_type,
  event_type,
  event_id,
  timestamp,
  event_data,
  content
};

Field field_of(std::string_view key) {
  switch (key.size()) {
    case 7:
      return key == "content" ? Field::content : Field::other;
    case 8:
      return key == "event_id" ? Field::event_id : Field::other;
    case 9:
      return key == "timestamp" ? Field::timestamp : Field::other;
    case 10:
      return key == "event_type" ? Field::event_type : key == "event_data" ? Field::event_data : Field::other;
    case 11:
      return key == "account_key" ? Field::account_key : Field::other;
    case 16:
      return key == "conversation_key" ? Field::conversation_key : Field::other;
    case 17:
      return key == "conversation_type" ? Field::conversation_type : Field::other;
    default:
      return Field::other;
  }
}

// A recursive descent over the text. Every function returns false to give up (not to refuse:
// see event_scan.hpp); depth counts open objects and arrays, the top-level object being 1.
class Scanner {
 public:
  Scanner(std::string_view text, const DecodeLimits& limits, const TopicFields* topic, OpenKeys& keys)
      : p_(text.data()), end_(text.data() + text.size()), limits_(limits), topic_(topic), keys_(keys) {}

  bool event(ScannedEvent& out) {
    skip_space();
    if (p_ == end_ || *p_ != '{') return false;
    if (!object(1, &out)) return false;
    skip_space();
    if (p_ != end_) return false;
    if (out.event_data.data() == nullptr) out.event_data = content_;
    return out.account_key.data() && out.conversation_key.data() && out.event_type.data() &&
           out.event_data.data();
  }

 private:
  void skip_space() {
    while (p_ != end_ && is_space(*p_)) ++p_;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0)
      return false;
    p_ += word.size();
    return true;
  }

  bool number() {
    const char* start = p_;
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      while (p_ != end_ && is_digit(*p_)) ++p_;
    } else {
      return false;
    }
    if (p_ != end_ && *p_ == '.') {
      const char* fraction = ++p_;
      while (p_ != end_ && is_digit(*p_)) ++p_;
      if (p_ == fraction) return false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) return false;
    return p_ - start <= kMaxNumberChars;
  }

  // p_ at a backslash inside a string.
  bool escape() {
    if (end_ - p_ < 2) return false;
    switch (p_[1]) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        p_ += 2;
        return true;
      case 'u': {
        if (end_ - p_ < 6) return false;
        unsigned code = 0;
        for (int i = 2; i < 6; ++i) {
          const int digit = hex_value(p_[i]);
          if (digit < 0) return false;
          code = code * 16 + static_cast<unsigned>(digit);
        }
        if (code >= 0xd800 && code <= 0xdfff) return false;  // surrogates: the full parser pairs them
        p_ += 6;
        return true;
      }
      default:
        return false;
    }
  }

  // p_ at a byte >= 0x80 inside a string: one well-formed UTF-8 sequence (common/utf8.hpp).
  bool utf8_sequence() {
    const std::size_t length =
        utf8::sequence_length(std::string_view(p_, static_cast<std::size_t>(end_ - p_)), 0);
    p_ += length;
    return length != 0;
  }

  // Moves p_ past the bytes a string holds as they are (kPlainStringByte): 16 at a time with SSE2
  // (every x86-64 has it), the rest one at a time.
  void skip_plain_bytes() {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end_ - p_ >= 16) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
      // Compared as signed bytes, control bytes and bytes from 0x80 up are both below a space.
      const __m128i stops =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash)),
                       _mm_cmplt_epi8(bytes, space));
      const auto mask = static_cast<unsigned>(_mm_movemask_epi8(stops));
      if (mask != 0) {
        p_ += __builtin_ctz(mask);
        return;
      }
      p_ += 16;
    }
#endif
    while (p_ != end_ && kPlainStringByte[static_cast<unsigned char>(*p_)]) ++p_;
  }

  // p_ at the opening quote. content: the bytes between the quotes, as written. Inlined into its
  // four callers (GCC would call it): a body has some 20 strings, mostly short, and the call with
  // its two out-parameters cost about a fifth of each (dispatch_bench, bench/README.md).
  [[gnu::always_inline]] bool string(std::string_view& content, bool& escaped) {
    const char* start = ++p_;
    escaped = false;
    while (true) {
      skip_plain_bytes();
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') break;
      if (c == '\\') {
        escaped = true;
        if (!escape()) return false;
        continue;
      }
      // What the table stops at below 0x80 is a control byte; above, a UTF-8 sequence.
      if (c < 0x80 || !utf8_sequence()) return false;
    }
    content = {start, static_cast<std::size_t>(p_ - start)};
    ++p_;
    // As written is at least as long as unescaped, so within the limit here is within it there.
    return content.size() <= limits_.max_string_bytes;
  }

  bool value(std::size_t depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        return object(depth + 1, nullptr);
      case '[':
        return array(depth + 1);
      case '"': {
        std::string_view ignored;
        bool escaped = false;
        return string(ignored, escaped);
      }
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }

  bool array(std::size_t depth) {
    if (depth >= limits_.max_depth) return false;
    ++p_;
    skip_space();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    while (true) {
      skip_space();
      if (!value(depth)) return false;
      skip_space();
      if (p_ == end_) return false;
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
    }
  }

  // A bit for key among 64, from its size and last byte: two keys with different bits differ, so
  // an object's keys are compared only when a key's bit is already taken.
  static std::uint64_t key_bit(std::string_view key) {
    const unsigned last = key.empty() ? 0U : static_cast<unsigned char>(key.back());
    return std::uint64_t{1} << ((key.size() * 8 + last) & 63U);
  }

  // Whether key is none of the object's keys so far (from first), comparing size and last byte
  // before calling memcmp.
  bool key_is_new(std::size_t first, std::string_view key) const {
    for (std::size_t i = first; i < key_count_; ++i) {
      const std::string_view seen = keys_[i];
      if (seen.size() == key.size() && (key.empty() || seen.back() == key.back()) && seen == key)
        return false;
    }
    return true;
  }

  // top: the fields to fill when this is the top-level object, else null.
  bool object(std::size_t depth, ScannedEvent* top) {
    if (depth >= limits_.max_depth) return false;
    const std::size_t first_key = key_count_;
    std::uint64_t key_bits = 0;  // key_bit of each key so far
    ++p_;
    skip_space();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    while (true) {
      skip_space();
      if (p_ == end_ || *p_ != '"') return false;
      std::string_view key;
      bool escaped = false;
      if (!string(key, escaped) || escaped) return false;
      if (key_count_ - first_key >= kMaxScannedMembers || key_count_ >= kMaxOpenKeys) return false;
      const std::uint64_t bit = key_bit(key);
      if ((key_bits & bit) != 0 && !key_is_new(first_key, key)) return false;
      key_bits |= bit;
      keys_[key_count_++] = key;
      skip_space();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skip_space();
      if (!(top ? top_member(key, *top, depth) : value(depth))) return false;
      skip_space();
      if (p_ == end_) return false;
      if (*p_ == '}') {
        ++p_;
        key_count_ = first_key;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
    }
  }

  // The value of a top-level member, keeping what the envelope reads.
  bool top_member(std::string_view key, ScannedEvent& out, std::size_t depth) {
    const Field field = field_of(key);
    if (field == Field::other) return value(depth);
    const char* start = p_;
    if (field == Field::event_data || field == Field::content) {
      // content that is not an object is fine when event_data is there, since event_data wins
      if (p_ == end_ || *p_ != '{') return field == Field::content && value(depth);
      if (!object(depth + 1, nullptr)) return false;
      (field == Field::event_data ? out.event_data : content_) = {start,
                                                                  static_cast<std::size_t>(p_ - start)};
      return true;
    }
    const bool optional =
        field == Field::conversation_type || field == Field::event_id || field == Field::timestamp;
    if (optional && p_ != end_ && *p_ == 'n') return literal("null");  // null is absent
    if (p_ == end_ || *p_ != '"') return false;
    std::string_view text;
    bool escaped = false;
    if (!string(text, escaped) || escaped) return false;
    if (!field_is_valid(field, text)) return false;
    switch (field) {
      case Field::account_key:
        out.account_key = text;
        break;
      case Field::conversation_key:
        out.conversation_key = text;
        break;
      case Field::conversation_type:
        out.conversation_type = text;
        break;
      case Field::event_type:
        out.event_type = text;
        break;
      case Field::event_id:
        out.event_id = text;
        break;
      default:
        out.timestamp = text;
        break;
    }
    return true;
  }

  // An envelope field's string: an identifier (equal to the topic's, when given) or any timestamp.
  bool field_is_valid(Field field, std::string_view text) const {
    if (topic_) {
      switch (field) {
        case Field::account_key:
          return text == topic_->account_key;
        case Field::conversation_type:
          return text == topic_->conversation_type;
        case Field::event_type:
          return text == topic_->event_type;
        default:
          break;
      }
    }
    return field == Field::timestamp || is_identifier(text);
  }

  const char* p_;
  const char* end_;
  const DecodeLimits& limits_;
  const TopicFields* topic_;  // null: no topic to compare with
  OpenKeys& keys_;            // the keys of the open objects, outermost first: key_count_ of them
  std::size_t key_count_ = 0;
  std::string_view content_;  // vumi-go's name for event_data, when an object
};

}  // namespace

std::optional<ScannedEvent> scan_worker_event(std::string_view text, const DecodeLimits& limits,
                                              const TopicFields* topic) {
  thread_local OpenKeys keys;  // not on the stack: 4 KB, most of it unused by a small body
  ScannedEvent out;
  Scanner scanner(text, limits, topic, keys);
  if (!scanner.event(out)) return std::nullopt;
  return out;
}

}  // namespace vumi::event
