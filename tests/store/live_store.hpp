// A store on a real redis-server for the tests of the typed store modules:
// each test starts its own server, connects, and runs one operation at a
// time to completion (with a deadline) so a test reads like the steps it
// pins. Time is always passed in: the tests pick it.
#pragma once

#include "store/db.hpp"
#include "support/redis_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>

namespace exceed::test {

class LiveStore {
 public:
  LiveStore()
      : conn_(store::Connection::create(io_.get_executor(), *store::Endpoint::parse(redis_.url()))),
        db_(conn_, "exceed:") {
    conn_->on_up([this] { db_.load_scripts(); });
    conn_->start();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!conn_->connected() && std::chrono::steady_clock::now() < deadline)
      io_.run_one_for(std::chrono::milliseconds(50));
    REQUIRE(conn_->connected());
  }
  ~LiveStore() {
    conn_->stop();
    io_.run_for(std::chrono::milliseconds(200));
  }

  store::Db& db() noexcept { return db_; }
  RedisServer& redis() noexcept { return redis_; }

  // Runs one awaitable to its end.
  template <class T>
  T wait(boost::asio::awaitable<T> aw) {
    std::optional<T> result;
    boost::asio::co_spawn(io_, std::move(aw), [&result](std::exception_ptr e, T v) {
      if (e) std::rethrow_exception(e);
      result.emplace(std::move(v));
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!result && std::chrono::steady_clock::now() < deadline) io_.run_one_for(std::chrono::milliseconds(50));
    REQUIRE(result);
    return std::move(*result);
  }

  // One raw command, for setting up and inspecting what a test needs.
  template <class... A>
  store::Reply raw(A&&... a) {
    auto r = wait(db_.cmd(std::forward<A>(a)...));
    REQUIRE(r);
    return std::move(*r);
  }

 private:
  RedisServer redis_;
  boost::asio::io_context io_;
  std::shared_ptr<store::Connection> conn_;
  store::Db db_;
};

}  // namespace exceed::test
