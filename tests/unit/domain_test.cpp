#include "core/domain.hpp"
#include "core/refusal.hpp"

#include <catch2/catch.hpp>

using namespace exceed::core;

TEST_CASE("domain names round-trip through their wire spelling") {
  for (auto r : {Role::customer, Role::agent, Role::supervisor}) REQUIRE(parse_role(to_string(r)) == r);
  for (auto s : {AgentStatus::online, AgentStatus::away, AgentStatus::offline})
    REQUIRE(parse_agent_status(to_string(s)) == s);
  for (auto p : {Priority::low, Priority::normal, Priority::high, Priority::urgent})
    REQUIRE(parse_priority(to_string(p)) == p);
  for (auto s : {ConversationStatus::queued, ConversationStatus::offered, ConversationStatus::active,
                 ConversationStatus::resolved, ConversationStatus::ticket})
    REQUIRE(parse_conversation_status(to_string(s)) == s);
  for (auto r : {Refusal::bad_request, Refusal::unauthorized, Refusal::forbidden, Refusal::not_found,
                 Refusal::conflict, Refusal::rate_limited, Refusal::too_large})
    REQUIRE(parse_refusal(to_string(r)) == r);
  REQUIRE_FALSE(parse_agent_status("busy"));
  REQUIRE_FALSE(parse_role(""));
  REQUIRE_FALSE(parse_refusal("internal"));
}

TEST_CASE("a conversation is open until resolved, and a ticket is open but not a live chat") {
  REQUIRE(is_open(ConversationStatus::ticket));
  REQUIRE(takes_messages(ConversationStatus::ticket));
  REQUIRE_FALSE(chat_is_live(ConversationStatus::ticket));
  REQUIRE_FALSE(is_open(ConversationStatus::resolved));
  REQUIRE_FALSE(takes_messages(ConversationStatus::resolved));
  for (auto s : {ConversationStatus::queued, ConversationStatus::offered, ConversationStatus::active}) {
    REQUIRE(is_open(s));
    REQUIRE(chat_is_live(s));
  }
  REQUIRE(in_queue(ConversationStatus::queued));
  REQUIRE_FALSE(in_queue(ConversationStatus::offered));
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
