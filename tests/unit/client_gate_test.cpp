// One client's frames: admitted at its own rate, refused then closed when
// it floods, and run in an order that keeps its requests' meaning:
// pipelined ones side by side up to a cap, any other alone.
#include "core/client_gate.hpp"

#include <catch2/catch.hpp>

using namespace exceed::core;
using Admission = ClientGate::Admission;
using Step = ClientGate::Step;

namespace {
GateLimits limits() {
  GateLimits l;
  l.messages_per_s = 1;
  l.burst = 3;
  l.flood_rejections = 2;
  l.flood_window = 10'000;
  l.invalid_frames = 3;
  l.invalid_window = 60'000;
  l.max_pending = 4;
  l.max_pipelined = 2;
  return l;
}
}  // namespace

TEST_CASE("a client's frames are admitted at its rate, refused past it, and it is closed when it keeps flooding") {
  ClientGate g(limits(), 0);
  for (int i = 0; i < 3; ++i) REQUIRE(g.admit(0) == Admission::accept);  // the burst
  REQUIRE(g.admit(0) == Admission::slow_down);
  SECTION("a second refusal within the window is a flood") { REQUIRE(g.admit(10) == Admission::flood); }
  SECTION("the rate refills the bucket") { REQUIRE(g.admit(1'000) == Admission::accept); }
}

TEST_CASE("frames waiting past the bound pause the socket instead of being refused, and reading resumes at half") {
  auto l = limits();
  l.burst = 100;
  l.messages_per_s = 100;
  ClientGate g(l, 0);
  for (int i = 0; i < 4; ++i) REQUIRE(g.admit(0) == Admission::accept);
  REQUIRE(g.pending() == 4);
  REQUIRE(g.should_pause());
  REQUIRE(g.admit(0) == Admission::accept);  // one already read is still taken: never refused for the store's delay
  REQUIRE_FALSE(g.may_resume());
  for (int i = 0; i < 3; ++i) {
    g.started(false);
    g.finished(false);
  }
  REQUIRE(g.pending() == 2);
  REQUIRE(g.may_resume());
  REQUIRE_FALSE(g.should_pause());
}

TEST_CASE("pipelined requests start side by side up to the cap, any other request waits and runs alone") {
  auto l = limits();
  l.burst = 100;
  ClientGate g(l, 0);
  for (int i = 0; i < 4; ++i) g.admit(0);

  REQUIRE(g.next(true) == Step::start);
  g.started(true);
  REQUIRE(g.next(true) == Step::start);
  g.started(true);
  REQUIRE(g.in_flight() == 2);
  REQUIRE(g.next(true) == Step::wait);   // the cap
  REQUIRE(g.next(false) == Step::wait);  // not before the pipelined ones finished
  g.finished(true);
  REQUIRE(g.next(true) == Step::start);
  REQUIRE(g.next(false) == Step::wait);
  g.finished(true);
  REQUIRE(g.next(false) == Step::start);
  g.started(false);
  SECTION("nothing starts beside a request that runs alone") {
    REQUIRE(g.next(true) == Step::wait);
    REQUIRE(g.next(false) == Step::wait);
    g.finished(false);
    REQUIRE(g.next(true) == Step::start);
  }
}

TEST_CASE("malformed frames past their budget close the client") {
  ClientGate g(limits(), 0);
  REQUIRE_FALSE(g.invalid(0));
  REQUIRE_FALSE(g.invalid(1));
  REQUIRE(g.invalid(2));
  SECTION("the budget is per window") {
    ClientGate h(limits(), 0);
    REQUIRE_FALSE(h.invalid(0));
    REQUIRE_FALSE(h.invalid(1));
    REQUIRE_FALSE(h.invalid(70'000));
  }
}
