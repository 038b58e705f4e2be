#include "core/schedule.hpp"

#include <catch2/catch.hpp>

using namespace exceed::core;

TEST_CASE("RFC 3339 timestamps, with offsets and fractions") {
  REQUIRE(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  REQUIRE(parse_rfc3339("2026-11-23T10:00:00Z") == 1'795'428'000'000);
  REQUIRE(parse_rfc3339("2026-11-23T11:00:00+01:00") == 1'795'428'000'000);
  REQUIRE(parse_rfc3339("2026-11-23T05:30:00-04:30") == 1'795'428'000'000);
  REQUIRE(parse_rfc3339("2026-11-23T10:00:00.25Z") == 1'795'428'000'250);
  REQUIRE(parse_rfc3339("2024-02-29T00:00:00Z").has_value());
}

TEST_CASE("malformed or impossible dates are refused") {
  for (auto bad : {"", "tomorrow", "2026-11-23", "2026-11-23T10:00:00", "2026-13-01T00:00:00Z",
                   "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T10:00:00+1:00",
                   "2026-11-23T10:00:00Zjunk", "2026-11-23T10:00:00.Z", "1795428000000"})
    REQUIRE_FALSE(parse_rfc3339(bad));
}

TEST_CASE("a due time may be a little late for clock skew, not in the past or years ahead") {
  constexpr Millis now = 1'795'428'000'000;
  REQUIRE(check_due(now + 2000, now) == DueProblem::none);
  REQUIRE(check_due(now - 30'000, now) == DueProblem::none);
  REQUIRE(check_due(now - 61'000, now) == DueProblem::in_the_past);
  REQUIRE(check_due(now + 4 * 366LL * 86'400'000, now) == DueProblem::too_far);
}
