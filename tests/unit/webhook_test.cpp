// The rules of webhook delivery: retries, giving up, and the signature's
// header, with the time passed in.
#include "core/webhook.hpp"

#include <catch2/catch.hpp>

using namespace exceed::core;
namespace wh = exceed::core::webhook;

TEST_CASE("a failed delivery is tried again after a wait that doubles up to a cap") {
  wh::Backoff b{1'000, 60'000, 0.2};
  SECTION("without jitter (spread 0.5)") {
    CHECK(wh::retry_delay(b, 1, 0.5) == 1'000);
    CHECK(wh::retry_delay(b, 2, 0.5) == 2'000);
    CHECK(wh::retry_delay(b, 3, 0.5) == 4'000);
    CHECK(wh::retry_delay(b, 6, 0.5) == 32'000);
    CHECK(wh::retry_delay(b, 7, 0.5) == 60'000);
    CHECK(wh::retry_delay(b, 1000, 0.5) == 60'000);
  }
  SECTION("jitter spreads the wait within 20% either side, never past the cap") {
    CHECK(wh::retry_delay(b, 1, 0.0) == 800);
    CHECK(wh::retry_delay(b, 1, 1.0) == 1'200);
    CHECK(wh::retry_delay(b, 10, 1.0) == 60'000);
    CHECK(wh::retry_delay(b, 10, 0.0) == 48'000);
  }
  SECTION("nonsense counts still give a wait") {
    CHECK(wh::retry_delay(b, 0, 0.5) == 1'000);
    CHECK(wh::retry_delay(b, -3, 0.5) == 1'000);
  }
}

TEST_CASE("a receiver failing for the whole grace period is given up on, not sooner") {
  Millis day = 86'400'000;
  CHECK_FALSE(wh::give_up(0, 10 * day, 3 * day));  // not failing
  CHECK_FALSE(wh::give_up(day, 4 * day - 1, 3 * day));
  CHECK(wh::give_up(day, 4 * day, 3 * day));
  CHECK(wh::disabled_reason(1'800'000'000'000, 1'800'000'000'000 + 3 * day, "HTTP 500") ==
        "every delivery failed since 2027-01-15T08:00:00Z (72 h); last error: HTTP 500");
}

TEST_CASE("the signature covers the attempt's time and the body, and its header reads back") {
  CHECK(wh::signed_text(1'800'000'000, R"({"a":1})") == R"(1800000000.{"a":1})");
  std::string mac(64, 'a');
  auto header = wh::signature_header(1'800'000'000, mac);
  CHECK(header == "t=1800000000,v1=" + mac);
  auto parts = wh::parse_signature_header(header);
  REQUIRE(parts);
  CHECK(parts->unix_seconds == 1'800'000'000);
  CHECK(parts->macs == std::vector<std::string>{mac});
  SECTION("malformed headers are refused") {
    CHECK_FALSE(wh::parse_signature_header(""));
    CHECK_FALSE(wh::parse_signature_header("t=1800000000"));
    CHECK_FALSE(wh::parse_signature_header("v1=" + mac));
    CHECK_FALSE(wh::parse_signature_header("t=18x,v1=" + mac));
    CHECK_FALSE(wh::parse_signature_header("t=1,v1=abc"));
  }
  SECTION("a receiver takes a signature only within its tolerance") {
    Millis now = 1'800'000'000'000;
    CHECK(wh::fresh(1'800'000'000, now));
    CHECK(wh::fresh(1'800'000'000 - 300, now));
    CHECK_FALSE(wh::fresh(1'800'000'000 - 301, now));  // a replay
    CHECK_FALSE(wh::fresh(1'800'000'000 + 301, now));
  }
}

TEST_CASE("subscriptions name event types, or all of them") {
  CHECK(wh::known_event_type("message"));
  CHECK(wh::known_event_type("ticket.commented"));
  CHECK_FALSE(wh::known_event_type("typing"));
  CHECK(wh::wants({"message", "csat"}, "csat"));
  CHECK_FALSE(wh::wants({"message"}, "csat"));
  CHECK(wh::wants({"*"}, "followup.due"));
}
