#include "admin_client.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <sstream>

namespace vumi::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

boost::json::value HttpResult::json() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  return ec ? boost::json::value(nullptr) : v;
}

std::string HttpResult::etag() const {
  auto it = headers.find("etag");
  return it == headers.end() ? "" : it->second;
}

HttpResult http_request(const std::string& address, const std::string& method, const std::string& target,
                        const std::string& body, const std::map<std::string, std::string>& headers) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  const auto colon = address.rfind(':');
  asio::ip::tcp::endpoint endpoint(asio::ip::make_address(address.substr(0, colon)),
                                   static_cast<unsigned short>(std::stoi(address.substr(colon + 1))));
  stream.expires_after(30s);
  stream.connect(endpoint);
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  request.set(http::field::host, address);
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.prepare_payload();
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::read(stream, buffer, parser);
  auto response = parser.release();
  HttpResult result;
  result.status = static_cast<int>(response.result_int());
  result.body = response.body();
  for (const auto& field : response) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    result.headers[name] = std::string(field.value());
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  return result;
}

AdminDaemon::AdminDaemon(const std::string& accounts_json, const std::string& handlers_json,
                         const std::string& admin_extra) {
  auto token = dir_.write("operator.token", kOperatorToken + "\n");
  ::chmod(token.c_str(), 0600);
  std::ostringstream out;
  out << "{\n"
      << R"(  "ingest": { "bind": "tcp://127.0.0.1:0" }, "outbound": { "bind": "tcp://127.0.0.1:*" },)"
      << "\n"
      << R"(  "state_dir": ")" << (dir_.path() / "state").string() << "\",\n"
      << R"(  "plugin_path": [")" << VUMI_PLUGIN_DIR << "\"],\n"
      << R"(  "admin": { "bind": "127.0.0.1:0", "token_file": ")" << token.string() << "\"" << admin_extra
      << " },\n"
      << R"(  "handlers": )" << handlers_json << ",\n"
      << R"(  "accounts": )" << accounts_json << "\n}\n";
  config_ = dir_.write("config.json", out.str());
  start();
}

void AdminDaemon::start() {
  daemon_ = std::make_unique<Daemon>(config_);
  for (const auto& line : daemon_->process().lines()) {
    auto at = line.find("admin API: http://");
    if (at == std::string::npos) continue;
    auto start = at + 18;
    admin_ = line.substr(start, line.find('/', start) - start);
  }
}

void AdminDaemon::restart() {
  start();
}

int AdminDaemon::stop() {
  daemon_->process().signal(SIGTERM);
  auto code = daemon_->process().wait_exit(30s);
  return code ? *code : -1000;
}

HttpResult AdminDaemon::call(const std::string& method, const std::string& target, const std::string& body,
                             const std::string& token, const std::map<std::string, std::string>& headers) {
  auto all = headers;
  if (!token.empty()) all["Authorization"] = "Bearer " + token;
  if (!body.empty()) all["Content-Type"] = "application/json";
  return http_request(admin_, method, target, body, all);
}

}  // namespace vumi::testing
