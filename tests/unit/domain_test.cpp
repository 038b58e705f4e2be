#include "core/domain.hpp"

#include <catch2/catch.hpp>

using namespace exceed::core;

TEST_CASE("domain names round-trip through their wire spelling") {
  for (auto r : {Role::customer, Role::agent, Role::supervisor}) REQUIRE(parse_role(to_string(r)) == r);
  for (auto s : {AgentStatus::online, AgentStatus::away, AgentStatus::offline})
    REQUIRE(parse_agent_status(to_string(s)) == s);
  for (auto p : {Priority::low, Priority::normal, Priority::high, Priority::urgent})
    REQUIRE(parse_priority(to_string(p)) == p);
  for (auto s : {ConversationStatus::queued, ConversationStatus::offered, ConversationStatus::active,
                 ConversationStatus::resolved})
    REQUIRE(parse_conversation_status(to_string(s)) == s);
  REQUIRE_FALSE(parse_agent_status("busy"));
  REQUIRE_FALSE(parse_role(""));
}

TEST_CASE("a token bucket allows a burst, then the rate") {
  TokenBucket b(10, 3, 0);  // 10 a second, burst of 3
  REQUIRE(b.take(0));
  REQUIRE(b.take(0));
  REQUIRE(b.take(0));
  REQUIRE_FALSE(b.take(0));
  REQUIRE_FALSE(b.take(50));  // half a token back
  REQUIRE(b.take(100));       // one whole token
  REQUIRE_FALSE(b.take(100));
  REQUIRE(b.take(10'000));    // refilled, but never past the burst
  REQUIRE(b.take(10'000));
  REQUIRE(b.take(10'000));
  REQUIRE_FALSE(b.take(10'000));
}

TEST_CASE("a flood is sustained refusals within the window") {
  FloodGuard g(3, 10'000);
  REQUIRE_FALSE(g.reject(0));
  REQUIRE_FALSE(g.reject(100));
  SECTION("the third refusal inside the window closes") { REQUIRE(g.reject(200)); }
  SECTION("refusals spread past the window do not") { REQUIRE_FALSE(g.reject(20'000)); }
}
