#include "transport/curve_keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace vumi::transport {

namespace {

constexpr std::size_t kZ85KeyLength = 40;

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// The Z85 key in file, or throws naming the file and what is wrong with it.
std::string read_key_text(const std::filesystem::path& file, const char* what) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read " + std::string(what) + " " + file.string() + ": " +
                             std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  std::string key = trimmed(text.str());
  std::uint8_t binary[32];
  if (key.size() != kZ85KeyLength || zmq_z85_decode(binary, key.c_str()) == nullptr)
    throw std::runtime_error(std::string(what) + " " + file.string() +
                             " does not hold a Z85 CURVE key (40 characters; make one with "
                             "`vumi-dispatcher keygen NAME`)");
  return key;
}

void write_new_file(const std::filesystem::path& file, const std::string& text, mode_t mode) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    const int error = errno;
    throw std::runtime_error(
        "cannot create " + file.string() + ": " + std::strerror(error) +
        (error == EEXIST ? " (keygen never overwrites a key; remove it or pick another name)" : ""));
  }
  const bool written =
      ::fchmod(fd, mode) == 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int error = errno;
  ::close(fd);
  if (!written) throw std::runtime_error("cannot write " + file.string() + ": " + std::strerror(error));
}

}  // namespace

bool curve_available() {
  return zmq_has("curve") != 0;
}

CurveKeyPair generate_curve_keypair() {
  if (!curve_available())
    throw std::runtime_error("this libzmq was built without CURVE (zmq_has(\"curve\") is false)");
  char public_key[kZ85KeyLength + 1];
  char secret_key[kZ85KeyLength + 1];
  if (zmq_curve_keypair(public_key, secret_key) != 0)
    throw std::runtime_error(std::string("cannot make a CURVE key pair: ") + zmq_strerror(zmq_errno()));
  return {public_key, secret_key};
}

std::pair<std::filesystem::path, std::filesystem::path> write_curve_keypair(const std::filesystem::path& base,
                                                                            const CurveKeyPair& pair) {
  std::filesystem::path secret_file = base;
  secret_file += ".key";
  std::filesystem::path public_file = base;
  public_file += ".pub";
  std::error_code ec;
  if (std::filesystem::exists(public_file, ec))
    throw std::runtime_error("cannot create " + public_file.string() +
                             ": File exists (keygen never overwrites a key; remove it or pick another name)");
  write_new_file(secret_file, pair.secret_key + "\n", 0600);
  write_new_file(public_file, pair.public_key + "\n", 0644);
  return {secret_file, public_file};
}

CurveKeyPair read_secret_key_file(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    throw std::runtime_error("cannot read secret key file " + file.string() + ": " + std::strerror(errno));
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw std::runtime_error("secret key file " + file.string() + " is open to group or others (mode " +
                             mode + "): anyone who reads it can act as this key; fix: chmod 600 " +
                             file.string() + " (and replace the key if others may have read it)");
  }
  CurveKeyPair pair;
  pair.secret_key = read_key_text(file, "secret key file");
  char public_key[kZ85KeyLength + 1];
  if (zmq_curve_public(public_key, pair.secret_key.c_str()) != 0)
    throw std::runtime_error("secret key file " + file.string() +
                             ": cannot derive its public key: " + zmq_strerror(zmq_errno()));
  pair.public_key = public_key;
  return pair;
}

std::string read_public_key_file(const std::filesystem::path& file) {
  if (file.extension() == ".key") return read_secret_key_file(file).public_key;
  return read_key_text(file, "public key file");
}

CurveClientKeys read_client_keys(const std::filesystem::path& key_file,
                                 const std::filesystem::path& server_key_file) {
  return {read_secret_key_file(key_file), read_public_key_file(server_key_file)};
}

void apply_curve_client(zmq::socket_t& socket, const CurveClientKeys& keys) {
  socket.set(zmq::sockopt::curve_serverkey, keys.server_public_key);
  socket.set(zmq::sockopt::curve_publickey, keys.own.public_key);
  socket.set(zmq::sockopt::curve_secretkey, keys.own.secret_key);
}

}  // namespace vumi::transport
