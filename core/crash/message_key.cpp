#include "crash/message_key.hpp"

#include <cstring>

namespace vumi::crash {

namespace {

constexpr std::uint64_t kMultiplier = 0xc6a4a7935bd1e995ULL;
constexpr int kShift = 47;

// MurmurHash64A over a byte stream that arrives in pieces (topic, separator, body): whole 8-byte
// words are mixed as they fill, the tail at the end, exactly as over the concatenation.
class StreamingMurmur64 {
 public:
  explicit StreamingMurmur64(std::uint64_t total_length) : hash_(total_length * kMultiplier) {}

  void add(const char* data, std::size_t size) noexcept {
    std::size_t i = 0;
    for (; i < size && pending_size_ != 0; ++i) push(data[i]);
    for (; i + 8 <= size; i += 8) {
      std::uint64_t k;
      std::memcpy(&k, data + i, 8);
      mix(k);
    }
    for (; i < size; ++i) push(data[i]);
  }

  std::uint64_t finish() noexcept {
    if (pending_size_ > 0) {
      for (std::size_t i = pending_size_; i-- > 0;) hash_ ^= std::uint64_t{pending_[i]} << (8 * i);
      hash_ *= kMultiplier;
    }
    hash_ ^= hash_ >> kShift;
    hash_ *= kMultiplier;
    hash_ ^= hash_ >> kShift;
    return hash_;
  }

 private:
  void mix(std::uint64_t k) noexcept {
    k *= kMultiplier;
    k ^= k >> kShift;
    k *= kMultiplier;
    hash_ ^= k;
    hash_ *= kMultiplier;
  }
  void push(char c) noexcept {
    pending_[pending_size_++] = static_cast<unsigned char>(c);
    if (pending_size_ == 8) {
      std::uint64_t k;
      std::memcpy(&k, pending_, 8);
      mix(k);
      pending_size_ = 0;
    }
  }

  std::uint64_t hash_;
  unsigned char pending_[8] = {};
  std::size_t pending_size_ = 0;
};

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

std::uint64_t message_hash(std::string_view topic, std::string_view body) noexcept {
  StreamingMurmur64 hash(topic.size() + 1 + body.size());
  hash.add(topic.data(), topic.size());
  hash.add("\n", 1);
  hash.add(body.data(), body.size());
  return hash.finish();
}

std::size_t write_key(char* out, std::string_view message_event_id, std::string_view topic,
                      std::string_view body) noexcept {
  if (!message_event_id.empty()) {
    const std::size_t n = message_event_id.size() < 128 ? message_event_id.size() : 128;
    // The key is a sized buffer, not a C string: its length is returned.
    std::memcpy(out, "event:", 6);                     // NOLINT(bugprone-not-null-terminated-result)
    std::memcpy(out + 6, message_event_id.data(), n);  // NOLINT(bugprone-not-null-terminated-result)
    return 6 + n;
  }
  std::memcpy(out, "body:", 5);  // NOLINT(bugprone-not-null-terminated-result): sized, see above
  const std::uint64_t h = message_hash(topic, body);
  for (int i = 0; i < 16; ++i) out[5 + i] = kHex[(h >> (60 - 4 * i)) & 0xf];
  return 5 + 16;
}

std::string event_key(std::string_view event_id) {
  char out[kMaxKeyBytes];
  return std::string(out, write_key(out, event_id, {}, {}));
}

std::string body_key(std::string_view topic, std::string_view body) {
  char out[kMaxKeyBytes];
  return std::string(out, write_key(out, {}, topic, body));
}

}  // namespace vumi::crash
