#include "app/throttle.hpp"

#include "store/scripts.hpp"

#include <algorithm>

namespace exceed::app {
// Login subjects: "user:<name>" or "addr:<ip>" (store::Keys::login_*).

boost::asio::awaitable<Verdict> Throttle::take(std::string kind, std::string who, long long limit,
                                               core::Millis window_ms, core::Millis now) {
  Verdict v;
  auto o = co_await count(db_.keys().throttle(kind, who), window_ms, false);
  if (!o) {
    v.failure = std::move(o);
    co_return v;
  }
  auto d = core::rate_decision(int_at(o.reply, 0), limit, now + int_at(o.reply, 1), now);
  if (!d.allowed) v.wait = std::max<core::Millis>(d.retry_after, 1);
  co_return v;
}

boost::asio::awaitable<Verdict> Throttle::login_wait(std::string username, std::string address) {
  Verdict v;
  // (No range-for over strings here: g++ 12 mishandles one in a coroutine.)
  std::string const subjects[] = {"user:" + username, "addr:" + address};
  for (std::size_t i = 0; i < 2; ++i) {
    auto o = co_await db_.cmd("PTTL", db_.keys().login_wait(subjects[i]));
    if (!o) {
      v.failure = std::move(o);
      co_return v;
    }
    v.wait = std::max<core::Millis>(v.wait, o.reply.integer);  // -2: no wait set
  }
  co_return v;
}

boost::asio::awaitable<void> Throttle::fail_one(std::string subject, core::Backoff b) {
  auto o = co_await count(db_.keys().login_failures(subject), config_.auth.login_window_s * 1000LL, true);
  if (!o) co_return;
  auto wait = core::wait_after_failure(static_cast<int>(int_at(o.reply, 0)), b);
  if (wait > 0) co_await db_.cmd("SET", db_.keys().login_wait(subject), "1", "PX", std::to_string(wait));
}

boost::asio::awaitable<void> Throttle::login_failed(std::string username, std::string address) {
  core::Millis cap = config_.auth.login_backoff_max_s * 1000LL;
  co_await fail_one("user:" + username, core::Backoff{config_.auth.login_free_failures_per_user, 1000, cap});
  co_await fail_one("addr:" + address, core::Backoff{config_.auth.login_free_failures_per_address, 1000, cap});
}

boost::asio::awaitable<void> Throttle::login_succeeded(std::string username) {
  co_await db_.cmd("DEL", db_.keys().login_failures("user:" + username), db_.keys().login_wait("user:" + username));
}

boost::asio::awaitable<Outcome> Throttle::count(std::string key, core::Millis window_ms, bool restart) {
  std::vector<std::string> keys{std::move(key)};
  std::vector<std::string> args{std::to_string(window_ms), restart ? "1" : "0"};
  co_return to_outcome(co_await db_.store().run_keys(db_.scripts().count, std::move(keys), std::move(args)));
}

}  // namespace exceed::app
