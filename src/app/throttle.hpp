// Limits on what the internet may ask for: password guesses (per username
// and per address, with a growing wait) and fixed-window rates (visitors,
// logins, tickets). The counts live in Redis, so every process of a
// deployment sees the same ones; the rules are core/throttle.hpp's.
#pragma once

#include "app/config.hpp"
#include "core/throttle.hpp"
#include "store/accounts.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace exceed::app {

// A limit's answer: the store could not be asked (`failure`, an error to
// pass on), or a wait (0: go ahead).
struct Verdict {
  std::optional<store::Failure> failure;
  core::Millis wait = 0;
  bool refused() const noexcept { return failure.has_value() || wait > 0; }
};

class Throttle {
 public:
  Throttle(store::AccountStore& store, Config::Auth const& config) : store_(store), config_(config) {}

  // Counts one `kind` event of `who` (an address, a customer) against
  // `limit` per `window_ms`.
  boost::asio::awaitable<Verdict> take(std::string kind, std::string who, long long limit, core::Millis window_ms,
                                       core::Millis now);

  // Is a login for `username` from `address` to wait (after earlier failures)?
  boost::asio::awaitable<Verdict> login_wait(std::string username, std::string address);
  // A wrong password (or an unknown user): both counts grow, and past their
  // free failures a wait is set for the next try.
  boost::asio::awaitable<void> login_failed(std::string username, std::string address);
  // A right one: the username's failures are forgotten (the address's are not,
  // or one account of an attacker's own would wipe its guesses at others).
  boost::asio::awaitable<void> login_succeeded(std::string username);

 private:
  boost::asio::awaitable<void> fail_one(std::string subject, core::Backoff b);

  store::AccountStore& store_;
  Config::Auth const& config_;
};

}  // namespace exceed::app
