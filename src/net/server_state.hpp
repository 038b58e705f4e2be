// Private to src/net: what the listener and the sessions share. Not installed,
// not included above net. Beast appears here only as declarations; the
// templates are instantiated in http_session.cpp and websocket_session.cpp.
#pragma once

#include "net/server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace exceed::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using Request = http::request<http::string_body>;

// Ids for connections and WebSockets: unique in the process, never reused.
std::uint64_t next_id() noexcept;

// Logs a failed operation at warn, unless the code only means the peer or we
// closed the connection normally (those are routine, not worth a line).
void fail(boost::system::error_code ec, char const* what, std::uint64_t conn_id);

// True when ec is a routine end of a connection (see fail).
bool is_normal_close(boost::system::error_code ec) noexcept;

// One live connection as the server sees it during shutdown. Implemented by
// the HTTP session, then by the WebSocket session once upgraded.
class Connection {
 public:
  virtual ~Connection() = default;
  // Server is stopping: finish what is in flight, then close.
  virtual void stop_gracefully() = 0;
  // Grace is over: close the socket now; pending operations fail.
  virtual void kill() = 0;
};

class ServerState;

// Counts one accepted socket for as long as it is alive: created by the
// listener at accept, moved into whichever session owns the socket, and
// destroyed (uncounting it) when that session's coroutine ends.
class ConnectionGuard {
 public:
  ConnectionGuard(std::shared_ptr<ServerState> state, std::uint64_t id, std::string ip);
  ConnectionGuard(ConnectionGuard&& other) noexcept;
  ConnectionGuard& operator=(ConnectionGuard&&) = delete;
  ConnectionGuard(ConnectionGuard const&) = delete;
  ConnectionGuard& operator=(ConnectionGuard const&) = delete;
  ~ConnectionGuard();

  std::uint64_t id() const noexcept { return id_; }
  std::string const& ip() const noexcept { return ip_; }
  ServerState& state() const noexcept { return *state_; }
  std::shared_ptr<ServerState> const& state_ptr() const noexcept { return state_; }
  // Points the registry entry at the session now serving this socket.
  void attach(std::weak_ptr<Connection> session) const;

 private:
  std::shared_ptr<ServerState> state_;
  std::uint64_t id_ = 0;
  std::string ip_;
};

// Shared by the listener, every session and the Server object; kept alive by
// whichever of them lives longest. All members are touched on `ex` only.
class ServerState : public std::enable_shared_from_this<ServerState> {
 public:
  ServerState(asio::any_io_executor ex, ServerOptions opt, Handler& handler);

  asio::any_io_executor ex;
  ServerOptions opt;
  Handler& handler;
  std::optional<asio::ssl::context> tls;  // set: every connection is TLS
  tcp::acceptor acceptor;
  bool stopping = false;

  // Registers an accepted socket, or returns nullopt when a connection limit
  // says to drop it.
  std::optional<ConnectionGuard> admit(std::string const& ip);
  // Readable from any thread (metrics); everything else here is not.
  std::size_t live_count() const noexcept { return live_count_.load(std::memory_order_relaxed); }

  // stop() of the Server: see server.hpp for the contract.
  void begin_stop(std::chrono::milliseconds grace, std::function<void()> done);
  // Closes every live socket at once.
  void kill_all();

 private:
  friend class ConnectionGuard;
  void forget(std::uint64_t id, std::string const& ip);
  void finish_stop();

  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> live_;
  std::unordered_map<std::string, std::size_t> per_ip_;
  std::atomic<std::size_t> live_count_{0};
  std::function<void()> done_;
  asio::steady_timer grace_timer_;
  std::chrono::steady_clock::time_point last_limit_log_{};
};

// Session entry points. Each takes ownership of the socket and spawns its
// coroutine on state.ex; the guard travels with the socket.
void start_http_session(tcp::socket socket, ConnectionGuard guard);
void start_websocket_session(PlainStream stream, Request req, HttpRequest app_req,
                             ConnectionGuard guard);
void start_websocket_session(TlsStream stream, Request req, HttpRequest app_req,
                             ConnectionGuard guard);

}  // namespace exceed::net::detail
