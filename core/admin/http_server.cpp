#include "admin/http_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <list>
#include <stdexcept>

#include "common/json.hpp"

namespace vumi::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

HttpResponse plain_error(http::status status, const std::string& message, unsigned version) {
  HttpResponse response{status, version};
  response.set(http::field::content_type, "application/json");
  response.body() = R"({"errors": [{"path": "", "message": )" + json::quoted(message) + "}]}";
  response.prepare_payload();
  return response;
}

}  // namespace

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(asio::io_context& io_context, HttpLimits l, Handler h)
      : io(io_context), acceptor(io_context), limits(l), handler(std::move(h)) {}

  struct Connection : std::enable_shared_from_this<Connection> {
    Connection(std::shared_ptr<State> s, tcp::socket socket)
        : state(std::move(s)), stream(std::move(socket)) {}

    void read() {
      parser.emplace();
      parser->body_limit(state->limits.max_body_bytes);
      parser->header_limit(static_cast<std::uint32_t>(state->limits.max_header_bytes));
      stream.expires_after(first ? state->limits.request_timeout : state->limits.idle_timeout);
      first = false;
      http::async_read(stream, buffer, *parser,
                       [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
      if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
          ec == beast::error::timeout || state->stopped) {
        close();
        return;
      }
      if (ec == http::error::body_limit) {
        reply(plain_error(
                  http::status::payload_too_large,
                  "request body larger than " + std::to_string(state->limits.max_body_bytes) + " bytes", 11),
              false);
        return;
      }
      if (ec == http::error::header_limit) {
        reply(plain_error(http::status::request_header_fields_too_large, "request headers too large", 11),
              false);
        return;
      }
      if (ec) {
        if (ec != asio::error::connection_reset && ec != asio::error::eof)
          reply(plain_error(http::status::bad_request, "malformed HTTP request: " + ec.message(), 11), false);
        else
          close();
        return;
      }
      HttpRequest request = parser->release();
      HttpResponse response;
      try {
        response = state->handler(request);
      } catch (const std::exception& e) {
        spdlog::error("admin: {} {}: {}", std::string(request.method_string()), std::string(request.target()),
                      e.what());
        response =
            plain_error(http::status::internal_server_error, "internal error (logged)", request.version());
      }
      response.version(request.version());
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      reply(std::move(response), request.keep_alive());
    }

    void reply(HttpResponse response, bool keep_alive) {
      if (!keep_alive) response.keep_alive(false);
      auto message = std::make_shared<HttpResponse>(std::move(response));
      stream.expires_after(state->limits.request_timeout);
      http::async_write(stream, *message,
                        [self = shared_from_this(), message, keep_alive](beast::error_code ec, std::size_t) {
                          if (ec || !keep_alive || self->state->stopped) {
                            self->close();
                            return;
                          }
                          self->first = true;
                          self->read_idle();
                        });
    }

    // Waits for the next request of a keep-alive connection under the idle timeout.
    void read_idle() {
      first = false;
      parser.emplace();
      parser->body_limit(state->limits.max_body_bytes);
      parser->header_limit(static_cast<std::uint32_t>(state->limits.max_header_bytes));
      stream.expires_after(state->limits.idle_timeout);
      http::async_read(stream, buffer, *parser,
                       [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void close() {
      if (closed) return;
      closed = true;
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream.close();
      state->connections.remove(this);
    }

    std::shared_ptr<State> state;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
    bool first = true;
    bool closed = false;
  };

  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (self->stopped) return;
      if (!ec) {
        if (self->connections.size() >= self->limits.max_connections) {
          beast::error_code ignored;
          socket.close(ignored);
          spdlog::warn("admin: refused a connection: {} connections open already", self->connections.size());
        } else {
          auto connection = std::make_shared<Connection>(self, std::move(socket));
          self->connections.push_back(connection.get());
          connection->read();
        }
      }
      self->accept();
    });
  }

  asio::io_context& io;
  tcp::acceptor acceptor;
  HttpLimits limits;
  Handler handler;
  std::list<Connection*> connections;  // open ones (each kept alive by its pending operation)
  bool stopped = false;
};

HttpServer::HttpServer(asio::io_context& io, const std::string& host_port, HttpLimits limits, Handler handler)
    : state_(std::make_shared<State>(io, limits, std::move(handler))) {
  std::size_t colon = host_port.rfind(':');
  std::string host = host_port.substr(0, colon);
  std::string port = host_port.substr(colon + 1);
  try {
    tcp::resolver resolver(io);
    auto results = resolver.resolve(host, port, tcp::resolver::passive | tcp::resolver::numeric_service);
    tcp::endpoint endpoint = results.begin()->endpoint();
    state_->acceptor.open(endpoint.protocol());
    state_->acceptor.set_option(asio::socket_base::reuse_address(true));
    state_->acceptor.bind(endpoint);
    state_->acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    throw std::runtime_error("admin.bind \"" + host_port + "\": cannot listen: " + e.what());
  }
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  state_->accept();
}

void HttpServer::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  beast::error_code ignored;
  state_->acceptor.close(ignored);
  std::vector<State::Connection*> open(state_->connections.begin(), state_->connections.end());
  for (auto* connection : open) connection->close();
}

std::string HttpServer::local_address() const {
  beast::error_code ec;
  auto endpoint = state_->acceptor.local_endpoint(ec);
  if (ec) return "";
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace vumi::admin
