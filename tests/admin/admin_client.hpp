// Test helpers for the admin API: a daemon with the API on an ephemeral port and an operator
// token, and a blocking HTTP client (one connection per request).
#pragma once

#include <boost/json/value.hpp>
#include <map>
#include <memory>
#include <string>

#include "daemon_process.hpp"

namespace vumi::testing {

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  boost::json::value json() const;             // null when the body is not JSON
  std::string etag() const;
};

// One request to host:port; headers are "Name: value" pairs.
HttpResult http_request(const std::string& address, const std::string& method, const std::string& target,
                        const std::string& body = "", const std::map<std::string, std::string>& headers = {});

inline const std::string kOperatorToken = "operator-token-for-tests-0123456789";

// A daemon whose config has the admin API on 127.0.0.1:0 and the operator token above.
class AdminDaemon {
 public:
  // accounts_json: the config's "accounts" object; handlers_json: its "handlers".
  explicit AdminDaemon(const std::string& accounts_json = "{}", const std::string& handlers_json = "{}",
                       const std::string& admin_extra = "");
  // Starts again on the same config and state (after stop()).
  void restart();
  // SIGTERM and wait for exit 0.
  int stop();

  HttpResult call(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::string& token = kOperatorToken,
                  const std::map<std::string, std::string>& headers = {});

  Daemon& daemon() { return *daemon_; }
  const std::string& admin() const { return admin_; }
  const std::filesystem::path& config() const { return config_; }
  const TempDir& dir() const { return dir_; }

 private:
  void start();
  TempDir dir_;
  std::filesystem::path config_;
  std::unique_ptr<Daemon> daemon_;
  std::string admin_;  // host:port of the API
};

}  // namespace vumi::testing
