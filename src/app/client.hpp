// One WebSocket client as the app sees it: who it is once `hello` passed,
// its rate limit, and the frames it sent waiting to be handled in order.
#pragma once

#include "app/config.hpp"
#include "core/client_gate.hpp"
#include "core/clock.hpp"
#include "core/domain.hpp"
#include "net/server.hpp"
#include "protocol/codec.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace exceed::app {

class Client;

// What a client needs of the app that owns it: the executor its work runs
// on, the limits and clock its gate counts with, and where its requests and
// its end go. App implements it; the client knows nothing else of the app.
class ClientHost {
 public:
  virtual boost::asio::any_io_executor executor() const = 0;
  virtual Config::Limits const& client_limits() const noexcept = 0;
  virtual core::Clock const& clock() const noexcept = 0;
  // The first frame, which must be hello.
  virtual boost::asio::awaitable<void> hello(Client& client, protocol::Request const& req) = 0;
  // Any later request of the authenticated client, its role already checked.
  virtual boost::asio::awaitable<void> handle(Client& client, protocol::Request const& req) = 0;
  // The client's socket is gone.
  virtual void client_closed(Client& client) = 0;

 protected:
  ~ClientHost() = default;
};

class Client final : public net::WebSocketHandler, public std::enable_shared_from_this<Client> {
 public:
  Client(ClientHost& app, std::shared_ptr<net::WebSocket> ws);

  void start();  // arms the hello timeout
  void on_message(std::string_view data, bool text) override;
  void on_close() override;

  void send(std::shared_ptr<std::string const> frame);
  void send(std::string frame);
  void close(std::uint16_t code, std::string reason);

  bool authenticated() const noexcept { return authenticated_; }
  core::Role role() const noexcept { return role_; }
  std::string const& user_id() const noexcept { return user_id_; }
  std::string const& name() const noexcept { return name_; }
  std::vector<std::string> const& teams() const noexcept { return teams_; }
  std::string const& teams_csv() const noexcept { return teams_csv_; }
  std::uint64_t id() const noexcept { return ws_->id(); }
  bool open() const noexcept { return !closed_ && ws_->is_open(); }

  // Sends queue.position only when it changed for that conversation.
  void send_position(std::string const& conversation_id, int position, int estimated_wait_s);

  // Set once by a successful hello.
  void authenticate(core::Role role, std::string user_id, std::string name, std::vector<std::string> teams);

 private:
  using Frame = std::variant<protocol::Request, protocol::DecodeError>;

  // `self` keeps the client alive until its inbox is handled.
  boost::asio::awaitable<void> drain(std::shared_ptr<Client> self);
  boost::asio::awaitable<void> pipelined(std::shared_ptr<Client> self, Frame frame);
  boost::asio::awaitable<void> settle();
  boost::asio::awaitable<void> handle(Frame frame);
  boost::asio::awaitable<void> handle_guarded(Frame frame);
  bool may_pipeline(Frame const& frame) const noexcept;
  void count_invalid();
  void finished(bool pipelined);

  ClientHost& app_;
  std::shared_ptr<net::WebSocket> ws_;
  // The hello timeout; after hello, the wait of a request that must see the
  // pipelined ones before it finished.
  boost::asio::steady_timer timer_;
  // Admission, flood and invalid-frame budgets, and the order requests run in.
  core::ClientGate gate_;
  // Decoded frames not yet started: a vector read from inbox_head_ (a deque
  // would allocate even while empty, and most sessions are idle).
  std::vector<Frame> inbox_;
  std::size_t inbox_head_ = 0;
  bool draining_ = false;
  bool reading_paused_ = false;  // backpressure: see ClientGate::should_pause
  bool settling_ = false;  // drain waits on timer_ for a pipelined frame to finish
  bool closed_ = false;
  bool hello_seen_ = false;
  bool authenticated_ = false;
  core::Role role_ = core::Role::customer;
  std::string user_id_;
  std::string name_;
  std::vector<std::string> teams_;
  std::string teams_csv_;
  std::unordered_map<std::string, int> positions_;
};

}  // namespace exceed::app
