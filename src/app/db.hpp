// The app's view of Redis: the key prefix, the Lua scripts, and replies
// turned into the contract's error codes.
#pragma once

#include "core/prometheus.hpp"
#include "protocol/errors.hpp"
#include "store/db.hpp"
#include "store/redis.hpp"
#include "store/scripts.hpp"

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

// The app's handle on the store: store::Db with its results turned into
// Outcomes (the contract's error codes). The features use the typed store
// modules; these calls remain for the tests that run a script by hand
// (tests/integration/scripts_test.cpp).
class Db {
 public:
  Db(std::shared_ptr<store::Connection> conn, std::string prefix);
  ~Db();

  store::Db& store() noexcept { return store_; }
  store::Keys const& keys() const noexcept { return store_.keys(); }
  std::string const& prefix() const noexcept { return store_.keys().prefix(); }
  store::Connection& connection() noexcept { return store_.connection(); }
  bool connected() const noexcept { return store_.connected(); }
  store::Scripts const& scripts() const noexcept { return store_.scripts(); }

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
  // See store::Db::run_all.
  boost::asio::awaitable<std::vector<Outcome>> run_all(store::Script const& script,
                                                       std::vector<std::vector<std::string>> calls);
  void load_scripts() { store_.load_scripts(); }
  void post(store::Args const& args) { store_.post(args); }

  // Where each round trip's time is recorded (seconds).
  void time_commands(core::prom::Histogram* h);

 private:
  store::Db store_;
};

// A store failure as the contract's error: a refusal keeps its code and
// text, an unreachable store is unavailable, an unreadable reply internal
// (logged here, never shown).
Outcome to_outcome(store::Failure const& f);
// The other way round, for the features not yet on typed store calls.
store::Failure to_failure(Outcome const& o);
// A store result as the contract's outcome.
Outcome to_outcome(store::Result<store::Reply> r);

// Reply helpers for the features not yet on typed store calls (replies are
// read by position only in the typed store functions, src/store).
// The leading integer of a stored field ("" and text without one: 0).
std::int64_t to_int(std::string_view s);

}  // namespace exceed::app
