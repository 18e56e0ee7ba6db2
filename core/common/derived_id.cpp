#include "common/derived_id.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <stdexcept>

namespace vumi {

namespace {

// The namespace of every id vumi-dispatcher derives (a fixed, randomly chosen UUID).
constexpr std::array<unsigned char, 16> kNamespace{0x6f, 0x1c, 0x3a, 0x52, 0x9e, 0x47, 0x4b, 0x0d,
                                                   0x8a, 0x21, 0x5c, 0x7e, 0x93, 0xd4, 0x60, 0xb8};

// libcrypto's SHA-1 (with the CPU's SHA instructions where it has them), fetched once: an implicit
// fetch per digest costs as much again as the digest. Boost's SHA-1 took ~1 us for an id.
const EVP_MD& sha1() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  if (md == nullptr) {
    ERR_clear_error();  // the thread's error queue would keep what the failed fetch left
    throw std::runtime_error("derived id: libcrypto has no SHA-1 (EVP_MD_fetch)");
  }
  return *md;
}

}  // namespace

std::string derived_id(std::initializer_list<std::string_view> parts) {
  // RFC 4122 section 4.3: SHA-1 of the namespace's bytes, then the name's.
  std::string name(kNamespace.begin(), kNamespace.end());
  for (std::string_view part : parts) {
    // Length-prefixed, so no choice of part contents can make two different lists collide.
    char digits[20];
    const auto written = std::to_chars(digits, digits + sizeof digits, part.size());
    name.append(digits, written.ptr);
    name += ':';
    name += part;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(name.data(), name.size(), digest, &size, &sha1(), nullptr) != 1 || size < 16) {
    ERR_clear_error();
    throw std::runtime_error("derived id: SHA-1 failed (OpenSSL EVP_Digest)");
  }
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);  // version 5
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // variant RFC 4122
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (std::size_t i = 0; i < 16; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace vumi
