// Helpers for store tests: run a test coroutine on an io_context with a hard
// limit, and await events (on_up, a callback) with a deadline instead of
// sleeping.
#pragma once

#include "store/redis.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>

namespace exceed::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs `body` until it finishes (rethrowing what it threw) or `limit` passes,
// then drains what is left: a stopped store object must leave no timer or
// wait behind, so the io_context must run out of work.
inline void run_coro(asio::io_context& ioc, asio::awaitable<void> body, std::chrono::seconds limit = 60s) {
  bool done = false;
  std::exception_ptr failure;
  asio::co_spawn(ioc, std::move(body), [&](std::exception_ptr e) {
    done = true;
    failure = e;
  });
  auto const deadline = std::chrono::steady_clock::now() + limit;
  while (!done && !ioc.stopped() && std::chrono::steady_clock::now() < deadline) ioc.run_one_for(100ms);
  if (failure) std::rethrow_exception(failure);
  REQUIRE(done);
  ioc.run_for(3s);
  CHECK(ioc.stopped());
}

// A flag one side sets and a coroutine awaits with a deadline.
class Flag {
 public:
  explicit Flag(asio::any_io_executor ex) : timer_(ex) {}
  void set() {
    set_ = true;
    timer_.cancel();
  }
  // True if the flag was set before or within `limit`; consumes it.
  asio::awaitable<bool> wait(std::chrono::milliseconds limit) {
    if (!set_) {
      timer_.expires_after(limit);
      co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    bool const was_set = set_;
    set_ = false;
    co_return was_set;
  }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

// Polls `cond` every 10 ms until it holds or `limit` passes; for state that
// has no event of its own (e.g. a server-side count).
inline asio::awaitable<bool> poll_until(std::function<bool()> cond, std::chrono::milliseconds limit) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  auto const deadline = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    t.expires_after(10ms);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return true;
}

template <class... S>
store::Args cmd(S&&... parts) {
  return store::Args{std::string(std::forward<S>(parts))...};
}

// A Connection plus flags raised by its on_up / on_down.
struct Watched {
  std::shared_ptr<store::Connection> conn;
  std::shared_ptr<Flag> up, down;
};

// Starts `conn` (a Connection or a Cluster) with flags on its on_up and
// on_down; returns once on_up fired, within `limit`.
inline asio::awaitable<Watched> start_watched(std::shared_ptr<store::Connection> conn,
                                              std::chrono::milliseconds limit = 10s) {
  auto ex = co_await asio::this_coro::executor;
  Watched w{std::move(conn), std::make_shared<Flag>(ex), std::make_shared<Flag>(ex)};
  w.conn->on_up([f = w.up] { f->set(); });
  w.conn->on_down([f = w.down] { f->set(); });
  w.conn->start();
  bool const up = co_await w.up->wait(limit);
  REQUIRE(up);
  REQUIRE(w.conn->connected());
  co_return w;
}

// Creates and starts a Connection to `url`; returns once on_up fired.
inline asio::awaitable<Watched> connect_up(std::string url, store::Options opt = {}) {
  auto ex = co_await asio::this_coro::executor;
  auto ep = store::Endpoint::parse(url);
  REQUIRE(ep);
  auto w = co_await start_watched(store::Connection::create(ex, *ep, opt));
  co_return w;
}

}  // namespace exceed::test
