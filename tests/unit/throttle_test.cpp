// Password guessing is slowed down, not rewarded: the wait after failures
// grows, and it is bounded so a real user is never shut out for long.
#include "core/throttle.hpp"

#include <catch2/catch.hpp>

using namespace exceed::core;

TEST_CASE("no wait for the first failures, then a doubling wait up to the cap") {
  Backoff b{3, 1000, 8000};
  REQUIRE(wait_after_failure(0, b) == 0);
  REQUIRE(wait_after_failure(3, b) == 0);
  REQUIRE(wait_after_failure(4, b) == 1000);
  REQUIRE(wait_after_failure(5, b) == 2000);
  REQUIRE(wait_after_failure(6, b) == 4000);
  REQUIRE(wait_after_failure(7, b) == 8000);
  REQUIRE(wait_after_failure(8, b) == 8000);
  SECTION("a huge count neither overflows nor passes the cap") { REQUIRE(wait_after_failure(1'000'000, b) == 8000); }
}

TEST_CASE("a rate limit refuses past its count until the window ends") {
  REQUIRE(rate_decision(10, 10, 60'000, 1'000).allowed);
  auto refused = rate_decision(11, 10, 60'000, 45'000);
  REQUIRE_FALSE(refused.allowed);
  REQUIRE(refused.retry_after == 15'000);
  REQUIRE(rate_decision(11, 10, 60'000, 70'000).retry_after == 0);  // a stale window: no negative wait
}

TEST_CASE("Retry-After is whole seconds, at least one") {
  REQUIRE(retry_after_seconds(0) == 1);
  REQUIRE(retry_after_seconds(1) == 1);
  REQUIRE(retry_after_seconds(1000) == 1);
  REQUIRE(retry_after_seconds(1001) == 2);
}
