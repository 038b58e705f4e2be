// What one WebSocket client may have the server do: which of its frames are
// admitted (by its own rate only), when it is a flood or broken enough to be
// closed, when its socket should stop being read (backpressure: its
// requests wait on the store, which is not the client's fault), and the
// order its requests run in:
// requests that may be pipelined start side by side (up to a cap), any
// other waits until those finished and then runs alone. Sans-io: the app
// tells it what arrived and what finished, with `now`; it answers what to do.
#pragma once

#include "core/domain.hpp"

#include <cstddef>
#include <cstdint>

namespace exceed::core {

struct GateLimits {
  double messages_per_s = 10;
  double burst = 30;
  int flood_rejections = 20;      // refused frames within flood_window: close (flood)
  Millis flood_window = 10'000;
  int invalid_frames = 50;        // bad_request answers within invalid_window: close (protocol violation)
  Millis invalid_window = 60'000;
  std::size_t max_pending = 64;   // frames received and not finished: past this, reading pauses
  std::uint32_t max_pipelined = 8;
};

class ClientGate {
 public:
  ClientGate(GateLimits const& limits, Millis now) noexcept;

  enum class Admission {
    accept,     // queue the frame
    slow_down,  // answer it rate_limited and drop it
    flood,      // answer rate_limited and close the connection (4429)
  };
  // A frame arrived. Only the client's own rate counts: an accepted frame
  // counts as pending until finished().
  Admission admit(Millis now) noexcept;
  // Stop reading the socket: as many frames wait as it may have.
  bool should_pause() const noexcept { return pending() >= limits_.max_pending; }
  // Read on: half of them are done.
  bool may_resume() const noexcept { return pending() <= limits_.max_pending / 2; }

  enum class Step {
    start,  // run the next queued frame now
    wait,   // wait for a running request to finish, then ask again
  };
  // May the next queued frame start? `pipelined`: it is a request that may
  // run beside others (see app/client.cpp for which).
  Step next(bool pipelined) const noexcept;
  // The next queued frame starts (after next() said start).
  void started(bool pipelined) noexcept;
  // A started frame finished.
  void finished(bool pipelined) noexcept;

  // A frame was answered bad_request; true when the client must be closed.
  bool invalid(Millis now) noexcept;

  std::size_t pending() const noexcept { return queued_ + running_; }
  std::uint32_t in_flight() const noexcept { return pipelined_; }

 private:
  GateLimits limits_;
  TokenBucket bucket_;
  FloodGuard flood_;
  FloodGuard invalid_;
  std::size_t queued_ = 0;      // admitted, not started
  std::size_t running_ = 0;     // started, not finished (pipelined or alone)
  std::uint32_t pipelined_ = 0; // of running_, the pipelined ones
};

}  // namespace exceed::core
