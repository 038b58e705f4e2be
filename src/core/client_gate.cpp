#include "core/client_gate.hpp"

namespace exceed::core {

ClientGate::ClientGate(GateLimits const& limits, Millis now) noexcept
    : limits_(limits),
      bucket_(limits.messages_per_s, limits.burst, now),
      flood_(limits.flood_rejections, limits.flood_window),
      invalid_(limits.invalid_frames, limits.invalid_window) {}

ClientGate::Admission ClientGate::admit(Millis now) noexcept {
  // Frames waiting on the store are not the client's doing: they pause its
  // socket (should_pause), they never count as flooding.
  if (bucket_.take(now)) {
    ++queued_;
    return Admission::accept;
  }
  return flood_.reject(now) ? Admission::flood : Admission::slow_down;
}

ClientGate::Step ClientGate::next(bool pipelined) const noexcept {
  if (pipelined) return pipelined_ < limits_.max_pipelined && running_ == pipelined_ ? Step::start : Step::wait;
  return running_ == 0 ? Step::start : Step::wait;
}

void ClientGate::started(bool pipelined) noexcept {
  if (queued_ > 0) --queued_;
  ++running_;
  if (pipelined) ++pipelined_;
}

void ClientGate::finished(bool pipelined) noexcept {
  if (running_ > 0) --running_;
  if (pipelined && pipelined_ > 0) --pipelined_;
}

bool ClientGate::invalid(Millis now) noexcept { return invalid_.reject(now); }

}  // namespace exceed::core
