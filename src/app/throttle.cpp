#include "app/throttle.hpp"

#include <algorithm>

namespace exceed::app {
// Login subjects: "user:<name>" or "addr:<ip>" (store::Keys::login_*).

boost::asio::awaitable<Verdict> Throttle::take(std::string kind, std::string who, long long limit,
                                               core::Millis window_ms, core::Millis now) {
  Verdict v;
  auto counted = co_await store_.count(kind, who, window_ms);
  if (!counted) {
    v.failure = counted.failure();
    co_return v;
  }
  auto d = core::rate_decision(counted->count, limit, now + counted->left, now);
  if (!d.allowed) v.wait = std::max<core::Millis>(d.retry_after, 1);
  co_return v;
}

boost::asio::awaitable<Verdict> Throttle::login_wait(std::string username, std::string address) {
  Verdict v;
  // (No range-for over strings here: g++ 12 mishandles one in a coroutine.)
  std::string const subjects[] = {"user:" + username, "addr:" + address};
  for (std::size_t i = 0; i < 2; ++i) {
    auto wait = co_await store_.login_wait(subjects[i]);
    if (!wait) {
      v.failure = wait.failure();
      co_return v;
    }
    v.wait = std::max<core::Millis>(v.wait, *wait);
  }
  co_return v;
}

boost::asio::awaitable<void> Throttle::fail_one(std::string subject, core::Backoff b) {
  auto counted = co_await store_.count_login_failure(subject, config_.login_window_s * 1000LL);
  if (!counted) co_return;
  auto wait = core::wait_after_failure(static_cast<int>(counted->count), b);
  if (wait > 0) co_await store_.set_login_wait(subject, wait);
}

boost::asio::awaitable<void> Throttle::login_failed(std::string username, std::string address) {
  core::Millis cap = config_.login_backoff_max_s * 1000LL;
  co_await fail_one("user:" + username, core::Backoff{config_.login_free_failures_per_user, 1000, cap});
  co_await fail_one("addr:" + address, core::Backoff{config_.login_free_failures_per_address, 1000, cap});
}

boost::asio::awaitable<void> Throttle::login_succeeded(std::string username) {
  co_await store_.clear_login("user:" + username);
}

}  // namespace exceed::app
