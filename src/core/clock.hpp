// Where a process reads the time. The core never does (every rule takes
// `now`); the app reads it through a Clock (app::SystemClock, the wall
// clock), and tests pass a ManualClock.
#pragma once

#include "core/domain.hpp"

namespace exceed::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis now() const noexcept = 0;  // ms since the Unix epoch
};

// A clock that moves only when told (tests).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Millis start = 0) noexcept : now_(start) {}
  Millis now() const noexcept override { return now_; }
  void set(Millis t) noexcept { now_ = t; }
  void advance(Millis by) noexcept { now_ += by; }

 private:
  Millis now_;
};

}  // namespace exceed::core
