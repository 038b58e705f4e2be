#include "core/consistency.hpp"

#include <catch2/catch.hpp>

using namespace exceed::core;

namespace {
constexpr Millis day = 86'400'000;
constexpr Millis d0 = 20'000 * day;  // a midnight UTC

std::vector<AssessedConversation> week(std::vector<int> exceeded_per_day, int per_day = 10) {
  std::vector<AssessedConversation> out;
  for (std::size_t d = 0; d < exceeded_per_day.size(); ++d)
    for (int i = 0; i < per_day; ++i)
      out.push_back({d0 + static_cast<Millis>(d) * day + i * 60'000, i < exceeded_per_day[d] ? Level::exceeded : Level::met,
                     (i + 1) * 10'000});
  return out;
}
}  // namespace

TEST_CASE("a steady 70% is more consistent than 95% then 40%") {
  auto steady = consistency(week({7, 7, 7, 7}), day);
  auto swinging = consistency(week({10, 4, 10, 4}), day);
  REQUIRE(steady.exceeded_share == Approx(0.7));
  REQUIRE(swinging.exceeded_share == Approx(0.7));
  REQUIRE(steady.spread_stddev == Approx(0.0));
  REQUIRE(swinging.spread_stddev == Approx(0.3));
  REQUIRE(swinging.spread_min == Approx(0.4));
  REQUIRE(swinging.spread_max == Approx(1.0));
  REQUIRE(steady.buckets.size() == 4);
  REQUIRE(steady.buckets[1].start == d0 + day);
}

TEST_CASE("shares, buckets by local day, and first response percentiles") {
  std::vector<AssessedConversation> items{{d0 + 1000, Level::exceeded, 5'000},
                                          {d0 + 2000, Level::met, 15'000},
                                          {d0 + 3000, Level::below, std::nullopt},
                                          {d0 + 23 * 3'600'000, Level::met, 30'000}};
  auto c = consistency(items, day);
  REQUIRE(c.conversations == 4);
  REQUIRE(c.met_share == Approx(0.5));
  REQUIRE(c.below_share == Approx(0.25));
  REQUIRE(c.buckets.size() == 1);
  REQUIRE(c.first_response_p50 == 15'000);
  REQUIRE(c.first_response_p90 == 30'000);
  SECTION("in UTC+2 the 23:00 UTC chat falls on the next local day") {
    REQUIRE(consistency(items, day, 2 * 3'600'000).buckets.size() == 2);
  }
  REQUIRE(consistency({}, day).conversations == 0);
  REQUIRE_FALSE(percentile({}, 50));
  REQUIRE(percentile({3, 1, 2}, 100) == 3);
}
