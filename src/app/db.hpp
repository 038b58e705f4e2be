// The app's view of Redis: the key prefix, the Lua scripts, and replies
// turned into the contract's error codes.
#pragma once

#include "core/prometheus.hpp"
#include "protocol/errors.hpp"
#include "store/redis.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::app {

// A finished store call: either a reply, or the contract error to answer
// (a Lua `err('conflict', '...')` arrives as code conflict with its text;
// a lost link as unavailable).
struct Outcome {
  std::optional<protocol::error> error;
  std::string message;
  store::Reply reply;

  explicit operator bool() const noexcept { return !error; }
};

struct Scripts;  // app/scripts.cpp

class Db {
 public:
  Db(std::shared_ptr<store::Connection> conn, std::string prefix);
  ~Db();

  std::string const& prefix() const noexcept { return prefix_; }
  std::string key(std::string_view suffix) const { return prefix_ + std::string(suffix); }
  store::Connection& connection() noexcept { return *conn_; }
  bool connected() const noexcept { return conn_->connected(); }
  Scripts const& scripts() const noexcept { return *scripts_; }

  // Runs a script with ARGV = {prefix, args...}.
  boost::asio::awaitable<Outcome> run(store::Script const& script, std::vector<std::string> args);
  // Runs one plain command.
  boost::asio::awaitable<Outcome> exec(store::Args args);
  // The same with the arguments listed: g++ 12 cannot compile a braced list
  // inside a co_await expression, so call sites use these instead.
  template <class... A>
  boost::asio::awaitable<Outcome> cmd(A&&... a) {
    return exec(store::Args{std::string(std::forward<A>(a))...});
  }
  template <class... A>
  boost::asio::awaitable<Outcome> call(store::Script const& script, A&&... a) {
    return run(script, std::vector<std::string>{std::string(std::forward<A>(a))...});
  }
  // Runs `script` once per argument list, every call written before the
  // first reply is awaited (one round trip for the lot, executed by Redis in
  // list order); the outcomes come back in the same order.
  boost::asio::awaitable<std::vector<Outcome>> run_all(store::Script const& script,
                                                       std::vector<std::vector<std::string>> calls);
  // Writes SCRIPT LOAD for every script (see db.cpp): call as the link comes up.
  void load_scripts();
  // Fire-and-forget (PUBLISH and the like): failures are only logged.
  void post(store::Args const& args);

  // Where run() and exec() record how long each round trip took (seconds).
  void time_commands(core::prom::Histogram* h) noexcept { latency_ = h; }

 private:
  void record(std::chrono::steady_clock::time_point started);

  std::shared_ptr<store::Connection> conn_;
  std::string prefix_;
  std::unique_ptr<Scripts> scripts_;
  core::prom::Histogram* latency_ = nullptr;
};

Outcome to_outcome(std::error_code ec, store::Reply reply);

// Reply helpers: a string view of element i of an array reply ("" if absent).
std::string const& str_at(store::Reply const& r, std::size_t i);
long long int_at(store::Reply const& r, std::size_t i);
// The leading integer of a stored field ("" and text without one: 0).
std::int64_t to_int(std::string_view s);
// HGETALL-shaped reply (flat field, value list) to a lookup.
std::string_view field(store::Reply const& flat, std::string_view name);

}  // namespace exceed::app
