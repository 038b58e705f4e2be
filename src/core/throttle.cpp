#include "core/throttle.hpp"

#include <algorithm>

namespace exceed::core {

Millis wait_after_failure(int failures, Backoff const& b) {
  if (failures <= b.free_failures) return 0;
  int doublings = failures - b.free_failures - 1;
  Millis wait = b.first;
  for (int i = 0; i < doublings && wait < b.cap; ++i) wait *= 2;
  return std::min(wait, b.cap);
}

RateDecision rate_decision(long long count, long long limit, Millis window_ends, Millis now) {
  if (count <= limit) return {};
  return {false, std::max<Millis>(window_ends - now, 0)};
}

long long retry_after_seconds(Millis wait) { return std::max<long long>(1, (wait + 999) / 1000); }

}  // namespace exceed::core
