#include "store/session.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace exceed::store {
namespace {

using namespace detail;

// Commands after which hiredis 0.14 treats the context as a pub/sub or
// MONITOR stream: they would break request/reply matching for everyone
// sharing this Connection (Subscriber exists for pub/sub).
bool switches_protocol(std::string const& verb) {
  static constexpr std::string_view banned[] = {"SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "MONITOR"};
  for (auto b : banned) {
    if (verb.size() == b.size() &&
        std::equal(verb.begin(), verb.end(), b.begin(), [](char x, char y) { return std::toupper(static_cast<unsigned char>(x)) == y; }))
      return true;
  }
  return false;
}

class ConnectionImpl final : public Connection, public Session {
 public:
  ConnectionImpl(asio::any_io_executor ex, Endpoint ep, Options opt)
      : Session(ex, std::move(ep), opt, "connection"), command_timer_(ex) {}

  void start() override { begin(); }
  void stop() override { end(); }
  bool connected() const noexcept override { return up(); }
  void on_up(std::function<void()> f) override { on_up_ = std::move(f); }
  void on_down(std::function<void()> f) override { on_down_ = std::move(f); }
  std::size_t in_flight() const noexcept override { return link_ ? link_->in_flight() : 0; }
  std::string last_error() const override { return last_error_; }

  asio::awaitable<std::pair<std::error_code, Reply>> exec(Args args) override {
    auto keep = shared_from_this();  // the Connection outlives every awaiting caller
    auto send = [&](std::unique_ptr<Completion> done) { issue(args, std::move(done)); };
    auto result = co_await await_command(send);
    co_return result;
  }

  void exec_cb(Args const& args, std::function<void(std::error_code, Reply)> done) override {
    issue(args, make_completion(std::move(done)));
  }

 private:
  // Sends on the current link if it is up; otherwise fails at once (posted):
  // commands never queue across an outage.
  void issue(Args const& args, std::unique_ptr<Completion> done) {
    if (args.empty() || switches_protocol(args.front())) {
      std::move(*done).post(ex_, std::make_error_code(std::errc::invalid_argument), {});
      return;
    }
    if (!up() || !link_) {
      std::move(*done).post(ex_, make_error_code(error::disconnected), {});
      return;
    }
    auto deadline = command_deadline();
    if (link_->command(args, deadline, std::move(done)) && !timer_armed_) arm_command_timer(deadline);
  }

  // One timer for all commands: replies come back in order and every command
  // has the same timeout, so only the oldest unanswered one can be late.
  void arm_command_timer(Clock::time_point at) {
    timer_armed_ = true;
    auto gen = ++timer_gen_;
    command_timer_.expires_at(at);
    command_timer_.async_wait([w = weak_self_, gen](boost::system::error_code ec) {
      auto s = w.lock();
      if (!s) return;
      auto* self = static_cast<ConnectionImpl*>(s.get());
      if (ec || gen != self->timer_gen_) return;  // cancelled, or superseded by a later arm
      self->timer_armed_ = false;
      if (!self->link_) return;
      if (auto next = self->link_->expire(Clock::now())) self->arm_command_timer(*next);
    });
  }

  void after_auth(Link& link) override {
    if (ep_.db == 0) {
      ready(link);
      return;
    }
    Args select{"SELECT", std::to_string(ep_.db)};
    bool const sent = link.command(
        select, command_deadline(), make_completion([w = weak_self_, l = link.weak_from_this()](std::error_code ec, Reply r) {
          auto s = w.lock();
          auto link = l.lock();
          if (!s || !link) return;
          auto* self = static_cast<ConnectionImpl*>(s.get());
          if (ec || r.is_error())
            self->handshake_failed(*link, "SELECT: " + (ec ? ec.message() : r.str));
          else
            self->ready(*link);
        }));
    (void)sent;  // a dead link reports link_lost on its own
  }

  void went_down() override {
    timer_armed_ = false;
    ++timer_gen_;
    command_timer_.cancel();
  }

  asio::steady_timer command_timer_;
  bool timer_armed_ = false;
  std::uint64_t timer_gen_ = 0;
};

}  // namespace

std::shared_ptr<Connection> Connection::create(boost::asio::any_io_executor ex, Endpoint ep, Options opt) {
  auto impl = std::make_shared<ConnectionImpl>(ex, std::move(ep), opt);
  impl->bind_self(impl);
  return impl;
}

}  // namespace exceed::store
