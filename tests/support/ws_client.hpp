// Test support: a WebSocket and HTTP client for driving a real exceed
// server from Catch2 tests. Beast stays in ws_client.cpp, so test files
// compile fast. Every wait has a deadline and ends as soon as the awaited
// frame arrives: no sleeps.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace exceed::test {

using namespace std::chrono_literals;
using Frame = boost::json::object;

struct HttpResult {
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  boost::json::value json() const;  // null when the body is not JSON
  std::string header(std::string const& name) const;
};

HttpResult http(std::uint16_t port, std::string const& method, std::string const& target,
                std::string const& body = "", std::vector<std::pair<std::string, std::string>> const& headers = {});

struct WsOptions {
  std::string origin;                       // sent as Origin when non-empty
  std::string host = "127.0.0.1";
  std::string bind_address;                 // local source address (127.0.0.x)
};

class WsClient {
 public:
  // Connects and completes the handshake; throws std::runtime_error with the
  // HTTP status when the upgrade is refused.
  explicit WsClient(std::uint16_t port, WsOptions opt = {});
  ~WsClient();
  WsClient(WsClient&&) noexcept;
  WsClient& operator=(WsClient&&) noexcept;

  void send(Frame const& frame);
  void send_text(std::string const& text);
  void send_binary(std::string const& bytes);

  // The next frame (from the backlog first), or nullopt at the deadline or
  // when the socket closed.
  std::optional<Frame> next(std::chrono::milliseconds timeout = 5s);
  // The first frame matching `pred` within the timeout; frames that do not
  // match are kept, in order, for later calls. Throws on timeout.
  Frame expect(std::function<bool(Frame const&)> const& pred, std::chrono::milliseconds timeout = 5s,
               std::string const& what = "a matching frame");
  Frame expect_type(std::string const& type, std::chrono::milliseconds timeout = 5s);
  // Sends a request with a fresh id and returns its ack or error.
  Frame request(Frame frame, std::chrono::milliseconds timeout = 5s);
  // True when no frame matching pred arrives within `window`.
  bool none(std::function<bool(Frame const&)> const& pred, std::chrono::milliseconds window);

  // hello with the token (and resume list); returns the welcome or error frame.
  Frame hello(std::string const& token, boost::json::array resume = {});

  // Waits for the server to close; the close code (0 if the TCP link just
  // dropped), or nullopt at the deadline.
  std::optional<std::uint16_t> wait_closed(std::chrono::milliseconds timeout = 5s);
  std::string close_reason() const;
  bool is_open() const;
  void close();       // clean close handshake
  void drop();        // TCP reset, no close frame: a network drop
  std::deque<Frame> const& backlog() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// POST /api/v1/visitors -> {visitor_id, token}.
std::pair<std::string, std::string> new_visitor(std::uint16_t port, std::string const& name = "Casey Customer");
// POST /api/v1/login -> token.
std::string login(std::uint16_t port, std::string const& username, std::string const& password);

bool is_type(Frame const& f, std::string const& type);

}  // namespace exceed::test
