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
#include <string>
#include <vector>

namespace exceed::test {

class LiveStore {
 public:
  // `prefix` with a hash tag ("{exceed}:") lays the keys out as on a Redis
  // Cluster (store::Keys::split), here all on one server.
  // `redis`: the server's options; `functions`: Db::set_functions.
  explicit LiveStore(std::string prefix = "exceed:", RedisServerOptions redis = {}, bool functions = true)
      : redis_(std::move(redis)),
        conn_(store::Connection::create(io_.get_executor(), *store::Endpoint::parse(redis_.url()))),
        db_(conn_, std::move(prefix)) {
    db_.set_functions(functions);
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
  // The executor the store runs on, for a second client of the same Redis
  // (a Subscriber) driven by wait().
  boost::asio::any_io_executor executor() { return io_.get_executor(); }
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

  // Starts every awaitable in the same turn of the event loop (so grouped
  // calls meet in one group) and runs them all to their end.
  template <class T>
  std::vector<T> wait_all(std::vector<boost::asio::awaitable<T>> aws) {
    std::vector<std::optional<T>> results(aws.size());
    std::size_t left = aws.size();
    for (std::size_t i = 0; i < aws.size(); ++i)
      boost::asio::co_spawn(io_, std::move(aws[i]), [&results, &left, i](std::exception_ptr e, T v) {
        if (e) std::rethrow_exception(e);
        results[i].emplace(std::move(v));
        --left;
      });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (left > 0 && std::chrono::steady_clock::now() < deadline) io_.run_one_for(std::chrono::milliseconds(50));
    REQUIRE(left == 0);
    std::vector<T> out;
    for (auto& r : results) out.push_back(std::move(*r));
    return out;
  }

  // How many times Redis ran `command` (INFO commandstats), e.g. "evalsha".
  long long calls_of(std::string const& command) {
    auto info = raw("INFO", "commandstats").str;
    auto at = info.find("cmdstat_" + command + ":calls=");
    if (at == std::string::npos) return 0;
    return std::stoll(info.substr(at + command.size() + 15));
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
