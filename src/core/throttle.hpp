// How long a door stays shut after failed attempts (password guessing),
// and fixed-window counting of requests. Pure: counts and `now` in,
// decisions out; the store keeps the counts.
#pragma once

#include "core/domain.hpp"

namespace exceed::core {

struct Backoff {
  int free_failures = 5;  // failures allowed before any wait
  Millis first = 1000;    // the wait after the first failure past them
  Millis cap = 300'000;   // no wait is longer
};

// The wait imposed after the `failures`-th failure in a row: none while
// failures <= free_failures, then first, 2 x first, 4 x first, ... up to cap.
Millis wait_after_failure(int failures, Backoff const& b);

// One fixed window of a rate limit: `count` events so far in a window that
// ends at `window_ends`. Over `limit`, the caller waits until the window ends.
struct RateDecision {
  bool allowed = true;
  Millis retry_after = 0;  // when refused: until the window ends
};
RateDecision rate_decision(long long count, long long limit, Millis window_ends, Millis now);

// Whole seconds for a Retry-After header: at least 1.
long long retry_after_seconds(Millis wait);

}  // namespace exceed::core
