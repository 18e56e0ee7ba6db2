#include "common/derived_id.hpp"

#include <boost/uuid/name_generator_sha1.hpp>
#include <boost/uuid/uuid.hpp>

namespace vumi {

namespace {

// The namespace of every id vumi-dispatcher derives (a fixed, randomly chosen UUID).
constexpr boost::uuids::uuid kNamespace{
    {0x6f, 0x1c, 0x3a, 0x52, 0x9e, 0x47, 0x4b, 0x0d, 0x8a, 0x21, 0x5c, 0x7e, 0x93, 0xd4, 0x60, 0xb8}};

}  // namespace

std::string derived_id(std::initializer_list<std::string_view> parts) {
  std::string name;
  for (std::string_view part : parts) {
    // Length-prefixed, so no choice of part contents can make two different lists collide.
    name += std::to_string(part.size());
    name += ':';
    name += part;
  }
  const boost::uuids::uuid id = boost::uuids::name_generator_sha1(kNamespace)(name.data(), name.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (std::size_t i = 0; i < 16; ++i) {
    out[2 * i] = kHex[id.data[i] >> 4];
    out[2 * i + 1] = kHex[id.data[i] & 15];
  }
  return out;
}

}  // namespace vumi
