// Internal to the store layer: one hiredis async context driven by Asio
// (Link); the reconnect/AUTH state machine over it is store/session.hpp.
// Not part of the public interface.
//
// Re-entrancy rule: hiredis calls into Link (reply callbacks, ev hooks) only
// from inside redisAsyncHandleRead/Write, redisAsyncCommand* and
// redisAsyncFree. Link never runs owner or user code there: it copies what
// it needs and posts to the executor. So owners may call close() or issue
// commands from any of their handlers without re-entering hiredis.
#pragma once

#include "store/redis.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>

struct redisAsyncContext;
struct redisReply;

namespace exceed::store::detail {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

Reply copy_reply(redisReply const& r);

// The continuation of one command: move-only (it may wrap an Asio
// completion handler), run exactly once, always through post().
class Completion {
 public:
  virtual ~Completion() = default;
  virtual void post(asio::any_io_executor const& ex, std::error_code ec, Reply reply) && = 0;
};

template <class F>
class FnCompletion final : public Completion {
 public:
  explicit FnCompletion(F f) : f_(std::move(f)) {}
  void post(asio::any_io_executor const& ex, std::error_code ec, Reply reply) && override {
    asio::post(ex, [f = std::move(f_), ec, r = std::move(reply)]() mutable { std::move(f)(ec, std::move(r)); });
  }

 private:
  F f_;
};

template <class F>
std::unique_ptr<Completion> make_completion(F f) {
  return std::make_unique<FnCompletion<F>>(std::move(f));
}

// Adapts an Asio completion handler (e.g. a coroutine's) to Completion,
// resuming it on its own executor after the post.
template <class Handler>
class HandlerCompletion final : public Completion {
 public:
  explicit HandlerCompletion(Handler h) : h_(std::move(h)) {}
  void post(asio::any_io_executor const& ex, std::error_code ec, Reply reply) && override {
    auto hex = asio::get_associated_executor(h_, ex);
    asio::post(hex, [h = std::move(h_), ec, r = std::move(reply)]() mutable {
      std::move(h)(std::pair<std::error_code, Reply>(ec, std::move(r)));
    });
  }

 private:
  Handler h_;
};

// Awaits one command: `issue` receives the Completion that resumes the
// awaiting coroutine, and hands it to whatever sends the command.
template <class Issue>
asio::awaitable<std::pair<std::error_code, Reply>> await_command(Issue issue) {
  auto initiate = [&issue](auto handler) {
    issue(std::make_unique<HandlerCompletion<decltype(handler)>>(std::move(handler)));
  };
  auto result = co_await asio::async_initiate<asio::use_awaitable_t<> const, void(std::pair<std::error_code, Reply>)>(
      initiate, asio::use_awaitable);
  co_return result;
}

class Link;

// What a Link reports, always from a posted handler (never inside hiredis).
class LinkOwner {
 public:
  virtual void link_connected(Link& link) = 0;                     // TCP/unix connect done
  virtual void link_lost(Link& link, std::string const& why) = 0;  // context gone, exactly once
  virtual void link_push(Link&, Reply) {}                           // pub/sub frames
 protected:
  ~LinkOwner() = default;
};

class Link : public std::enable_shared_from_this<Link> {
  struct Private {};

 public:
  // Starts a non-blocking connect. nullptr with *why when it failed at once
  // (e.g. connection refused on loopback); otherwise the owner hears
  // link_connected or link_lost later.
  static std::shared_ptr<Link> open(asio::any_io_executor ex, Endpoint const& ep,
                                    std::weak_ptr<LinkOwner> owner, std::string* why);

  Link(Private, asio::any_io_executor ex, redisAsyncContext* ac, std::weak_ptr<LinkOwner> owner);
  Link(Link const&) = delete;
  Link& operator=(Link const&) = delete;

  bool alive() const noexcept { return ac_ != nullptr; }

  // Queues a command; its reply, or disconnected when the context goes away,
  // reaches `done`. Deadlines must not decrease from one call to the next
  // (expire() relies on it); all callers use now + command_timeout.
  // Returns false (and posts disconnected to `done`) if the context is gone.
  bool command(Args const& args, Clock::time_point deadline, std::unique_ptr<Completion> done);

  // SUBSCRIBE / UNSUBSCRIBE; confirmations and messages arrive as link_push.
  bool subscribe(Args const& channels);
  bool unsubscribe(std::string const& channel);
  // Any other command of a subscribed context, e.g. SSUBSCRIBE: what it
  // answers arrives as link_push. hiredis 0.14 knows no sharded pub/sub:
  // it hands such frames to the callback of a SUBSCRIBE of the same channel
  // name, and ends the link on an error reply (link_lost says which).
  bool push_command(Args const& cmd);

  // Frees the context now: unanswered commands complete with disconnected,
  // then the owner hears link_lost. Must not be called from inside hiredis.
  void close();

  // Completes with timeout each unanswered command whose deadline is past;
  // returns the next deadline still to watch, if any. Their late replies are
  // dropped when they come.
  std::optional<Clock::time_point> expire(Clock::time_point now);

  std::size_t in_flight() const noexcept { return pending_.size(); }

 private:
  struct Pending {
    Clock::time_point deadline;
    std::unique_ptr<Completion> done;  // null once completed by a timeout
  };

  static void on_connect(redisAsyncContext const* ac, int status);
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_push(redisAsyncContext* ac, void* reply, void* privdata);
  static void ev_add_read(void* p);
  static void ev_del_read(void* p);
  static void ev_add_write(void* p);
  static void ev_del_write(void* p);
  static void ev_cleanup(void* p);

  bool send(Args const& args, void (*fn)(redisAsyncContext*, void*, void*));
  void answer(redisReply const* reply);
  void arm_read();
  void arm_write();
  void ended();
  template <class F>
  void tell_owner(F f);

  asio::any_io_executor ex_;
  redisAsyncContext* ac_;
  std::weak_ptr<LinkOwner> owner_;
  asio::posix::stream_descriptor fd_;
  bool want_read_ = false, want_write_ = false;
  bool read_armed_ = false, write_armed_ = false;
  std::deque<Pending> pending_;
  std::size_t expired_ = 0;  // pending_ entries at the front already timed out
  // hiredis holds a raw pointer to us from connect to cleanup: keep
  // ourselves alive until then. Every path into hiredis that can end the
  // context holds its own strong reference, so dropping this in cleanup is safe.
  std::shared_ptr<Link> self_;
};

}  // namespace exceed::store::detail
