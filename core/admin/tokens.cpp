#include "admin/tokens.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "common/identifier.hpp"

namespace vumi::admin {

namespace {

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed (OpenSSL EVP_Digest)");
  return hex(digest, size);
}

std::string new_token_secret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes (OpenSSL RAND_bytes)");
  return "vdt_" + hex(bytes, sizeof bytes);
}

std::string read_operator_token(const std::filesystem::path& file) {
  const std::string name = "admin.token_file \"" + file.string() + "\"";
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) throw std::runtime_error(name + ": " + std::strerror(errno));
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw std::runtime_error(name + " has mode " + mode +
                             ": group or others may read it; chmod 600 it (it holds the operator token)");
  }
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
  std::size_t start = line.find_first_not_of(" \t");
  line = start == std::string::npos ? "" : line.substr(start);
  if (line.size() < 16)
    throw std::runtime_error(name + ": the token (first line) must be at least 16 characters");
  return line;
}

Expected<std::string> create_account_token(daemon::AdminStore& store, const std::string& name,
                                           const std::string& account) {
  if (auto checked = check_identifier(name); !checked)
    return fail(ErrorCode::invalid, "token name \"" + name + "\" " + checked.error().message);
  if (name == "operator")
    return fail(ErrorCode::invalid, "token name \"operator\" is reserved for the operator token");
  if (auto checked = check_identifier(account); !checked)
    return fail(ErrorCode::invalid, "account key \"" + account + "\" " + checked.error().message);
  std::string secret = new_token_secret();
  daemon::StoredToken token{name, account, sha256_hex(secret), daemon::utc_now_iso8601()};
  if (Expected<void> added = store.add_token(token); !added) return std::move(added).error();
  return secret;
}

}  // namespace vumi::admin
