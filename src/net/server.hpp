// The network edge: one TCP port serving HTTP/1.1 and the WebSocket upgrade,
// with Beast and Asio kept behind this header so the layers above compile
// without them. The app implements Handler; net owns sockets, parsing,
// limits, timeouts, the outgoing queue of each WebSocket and shutdown.
//
// Threading: everything runs on the one executor given to Server; Handler
// methods and WebSocket callbacks are called on it and must not block.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace exceed::net {

struct Limits {
  std::size_t max_frame_bytes = 64 * 1024;        // bigger WebSocket message: close 1009
  std::size_t max_body_bytes = 1024 * 1024;       // bigger HTTP body: 413 too_large
  // Requests whose path starts with upload_path (file uploads) may carry up
  // to upload_body_bytes instead; empty: none.
  std::string upload_path;
  std::size_t upload_body_bytes = 0;
  std::size_t max_header_bytes = 16 * 1024;       // bigger header block: 431
  std::chrono::seconds header_timeout{10};        // whole request head must arrive in this (slowloris)
  std::chrono::seconds http_idle_timeout{30};     // keep-alive idle
  std::chrono::seconds ws_idle_timeout{60};       // no frame and no pong for this long: close
  std::size_t out_queue_max_bytes = 1024 * 1024;  // queued, unsent bytes a WebSocket may hold
  std::size_t max_connections = 19000;            // accepted sockets beyond this are closed at once
  std::size_t max_connections_per_ip = 0;         // 0 = no limit
};

struct Header {
  std::string name;   // as received
  std::string value;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as received ("/api/v1/x?a=b")
  std::vector<Header> headers;
  std::string body;
  std::string remote_ip;

  // Case-insensitive header lookup; nullopt when absent.
  std::optional<std::string_view> header(std::string_view name) const;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::vector<Header> headers;  // extra headers (Location, Cache-Control, ...)
  std::string body;
  // When set, net serves this file (streamed, with Content-Length and the
  // content type above) instead of body; the app has checked the path.
  std::optional<std::string> file_path;
};

// The server's side of one open WebSocket, handed to the app. Safe to keep
// (shared_ptr) after the socket closed: calls then do nothing.
class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // Queues a text frame. Frames go out in order, one write in flight. When
  // the unsent bytes would pass Limits::out_queue_max_bytes the client is
  // too slow: the connection is dropped (reason logged) and on_close runs.
  virtual void send(std::shared_ptr<std::string const> frame) = 0;
  // Sends the frames already queued, then a close frame with code and reason.
  virtual void close(std::uint16_t code, std::string reason) = 0;
  virtual bool is_open() const noexcept = 0;
  virtual std::uint64_t id() const noexcept = 0;          // unique in this process
  virtual std::string const& remote_ip() const noexcept = 0;
  virtual std::size_t queued_bytes() const noexcept = 0;
  // Backpressure: while paused, no more messages are read from the socket
  // (the kernel's buffers fill and the peer's writes wait); the message
  // being read, if any, is still delivered. Resuming reads on.
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;
};

// What the app does with one WebSocket's incoming traffic.
class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  // One complete message. `text` is false for a binary message (the app
  // answers it with an error). Called in order; the next read starts at once,
  // so the handler must not assume the previous message's work finished.
  virtual void on_message(std::string_view data, bool text) = 0;
  // Called exactly once when the socket is gone, whatever the cause.
  virtual void on_close() = 0;
};

class Handler {
 public:
  virtual ~Handler() = default;
  // Every HTTP request except a valid WebSocket upgrade on the ws path.
  virtual boost::asio::awaitable<HttpResponse> on_http(HttpRequest req) = 0;
  // A WebSocket upgrade request on the ws path, before the handshake is
  // answered. Return an HttpResponse to refuse (e.g. 403 for a bad Origin),
  // or nullopt to accept; then on_ws_open is called after the handshake.
  virtual std::optional<HttpResponse> on_ws_upgrade(HttpRequest const& req) = 0;
  virtual std::shared_ptr<WebSocketHandler> on_ws_open(std::shared_ptr<WebSocket> ws,
                                                       HttpRequest const& req) = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 = any free port (see Server::port())
  bool reuse_port = false;    // SO_REUSEPORT: several processes on one port
  std::string ws_path = "/ws";
  std::string tls_cert_file;  // both set: serve https/wss only
  std::string tls_key_file;
  // OpenSSL cipher list for TLS 1.2 (see Config::Server::tls_ciphers).
  std::string tls_ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20";
  Limits limits;
};

class Server {
 public:
  // Binds and listens at once (throws std::system_error if it cannot).
  static std::unique_ptr<Server> create(boost::asio::any_io_executor ex, ServerOptions opt,
                                        Handler& handler);
  virtual ~Server() = default;
  virtual void start() = 0;  // begin accepting
  // Graceful stop: close the listener, close every WebSocket with 1001
  // "going away" after its queued frames, let in-flight HTTP responses
  // finish, then calls done (once) when every connection is gone or after
  // `grace`, whichever is first (remaining sockets are then closed hard).
  virtual void stop(std::chrono::milliseconds grace, std::function<void()> done) = 0;
  virtual std::uint16_t port() const noexcept = 0;  // the bound port
  virtual std::size_t connections() const noexcept = 0;  // open sockets, both kinds
};

}  // namespace exceed::net
