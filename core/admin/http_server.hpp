// A small HTTP/1.1 server on the daemon's io_context (Boost.Beast): bounded request size,
// read and idle timeouts, keep-alive, a bounded number of connections. Requests are answered one
// at a time on the loop by a handler that must return quickly (it runs between dispatch batches).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace vumi::admin {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

struct HttpLimits {
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::seconds request_timeout{30};  // to read one whole request once it has begun
  std::chrono::seconds idle_timeout{60};     // a keep-alive connection with no request
  std::size_t max_connections = 64;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Binds host:port (throws std::runtime_error naming the address and why).
  HttpServer(boost::asio::io_context& io, const std::string& host_port, HttpLimits limits, Handler handler);
  ~HttpServer();

  void start();
  // Closes the listener and every connection.
  void stop();
  // "127.0.0.1:43127": the address actually bound (port 0 resolved).
  std::string local_address() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace vumi::admin
