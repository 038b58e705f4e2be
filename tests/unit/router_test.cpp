// Routing decisions, without a socket, a store or a real clock.
#include "core/router.hpp"

#include <catch2/catch.hpp>

using namespace exceed::core;

namespace {

constexpr Millis t0 = 1'700'000'000'000;

AgentSlot agent(std::string id, int capacity = 2, int active = 0, Millis last = 0) {
  AgentSlot a;
  a.id = std::move(id);
  a.status = AgentStatus::online;
  a.capacity = capacity;
  a.active = active;
  a.connections = 1;
  a.last_assigned_at = last;
  return a;
}

QueuedChat chat(std::string id, Priority p, Millis since, bool returned = false) {
  return QueuedChat{std::move(id), queue_score(p, since, returned), {}};
}

std::vector<std::string> ids(std::vector<Offer> const& offers) {
  std::vector<std::string> out;
  for (auto const& o : offers) out.push_back(o.conversation_id + ">" + o.agent_id);
  return out;
}

}  // namespace

TEST_CASE("chats wait by priority, then longest waiting first") {
  std::vector<QueuedChat> queue{chat("late-normal", Priority::normal, t0 + 500), chat("early-low", Priority::low, t0),
                                chat("early-normal", Priority::normal, t0 + 100),
                                chat("urgent", Priority::urgent, t0 + 900)};
  auto offers = plan_offers(queue, {agent("ann", 4)}, {}, t0 + 1000);
  REQUIRE(ids(offers) ==
          std::vector<std::string>{"urgent>ann", "early-normal>ann", "late-normal>ann", "early-low>ann"});
}

TEST_CASE("a chat handed back because its agent left goes to the head of the queue") {
  std::vector<QueuedChat> queue{chat("urgent-new", Priority::urgent, t0), chat("returned", Priority::low, t0 + 5000, true)};
  auto offers = plan_offers(queue, {agent("ann", 1)}, {}, t0 + 6000);
  REQUIRE(ids(offers) == std::vector<std::string>{"returned>ann"});
  SECTION("the score of a returned chat is its waiting time, below every priority band") {
    REQUIRE(queue_score(Priority::urgent, t0, true) == static_cast<double>(t0));
    REQUIRE(queue_score(Priority::urgent, 0) > queue_score(Priority::low, t0 * 2, true));
  }
}

TEST_CASE("nobody is offered more chats than their capacity") {
  std::vector<QueuedChat> queue;
  for (int i = 0; i < 10; ++i) queue.push_back(chat("c" + std::to_string(i), Priority::normal, t0 + i));
  auto offers = plan_offers(queue, {agent("ann", 3, 1), agent("bob", 2)}, {}, t0 + 100);
  REQUIRE(offers.size() == 4);  // ann has 2 free slots, bob 2
  int ann = 0, bob = 0;
  for (auto const& o : offers) (o.agent_id == "ann" ? ann : bob)++;
  REQUIRE(ann == 2);
  REQUIRE(bob == 2);
  SECTION("pending offers count against capacity") {
    auto busy = agent("cy", 2);
    busy.offered = 2;
    REQUIRE(plan_offers(queue, {busy}, {}, t0).empty());
  }
}

TEST_CASE("agents who are away, offline or disconnected get no offers") {
  auto away = agent("away");
  away.status = AgentStatus::away;
  auto offline = agent("offline");
  offline.status = AgentStatus::offline;
  auto gone = agent("gone");
  gone.connections = 0;  // online, but in the grace period after a drop
  REQUIRE(plan_offers({chat("c", Priority::normal, t0)}, {away, offline, gone}, {}, t0).empty());
}

TEST_CASE("least-busy gives the chat to the agent with the most room") {
  RoutingRules rules;
  rules.strategy = Strategy::least_busy;
  SECTION("by share of capacity") {
    auto offers = plan_offers({chat("c", Priority::normal, t0)}, {agent("half", 4, 2), agent("third", 3, 1)}, rules, t0);
    REQUIRE(ids(offers) == std::vector<std::string>{"c>third"});
  }
  SECTION("ties go to who waited longest since their last chat") {
    auto offers = plan_offers({chat("c", Priority::normal, t0)},
                              {agent("recent", 2, 0, t0 - 10), agent("idle", 2, 0, t0 - 9000)}, rules, t0);
    REQUIRE(ids(offers) == std::vector<std::string>{"c>idle"});
  }
}

TEST_CASE("round-robin takes turns whatever the load") {
  RoutingRules rules;
  rules.strategy = Strategy::round_robin;
  std::vector<QueuedChat> queue{chat("c1", Priority::normal, t0), chat("c2", Priority::normal, t0 + 1),
                                chat("c3", Priority::normal, t0 + 2)};
  auto offers = plan_offers(queue, {agent("ann", 6, 4, t0 - 100), agent("bob", 6, 0, t0 - 50)}, rules, t0);
  REQUIRE(ids(offers) == std::vector<std::string>{"c1>ann", "c2>bob", "c3>ann"});
}

TEST_CASE("an offer expires after the configured time") {
  RoutingRules rules;
  rules.offer_timeout = 15'000;
  auto offers = plan_offers({chat("c", Priority::normal, t0)}, {agent("ann")}, rules, t0 + 7);
  REQUIRE(offers.at(0).expires_at == t0 + 7 + 15'000);
}

TEST_CASE("a declined or expired chat goes to the next agent, not back to the one who let it go") {
  RoutingRules rules;
  rules.decline_cooldown = 60'000;
  auto c = chat("c", Priority::normal, t0);
  c.declines.push_back({"ann", t0 + 1000});
  SECTION("within the cooldown the other agent gets it") {
    auto offers = plan_offers({c}, {agent("ann", 2, 0, 0), agent("bob", 2, 1, t0)}, rules, t0 + 2000);
    REQUIRE(ids(offers) == std::vector<std::string>{"c>bob"});
  }
  SECTION("with nobody else, the chat waits") {
    REQUIRE(plan_offers({c}, {agent("ann")}, rules, t0 + 2000).empty());
  }
  SECTION("after the cooldown the agent may be offered it again") {
    auto offers = plan_offers({c}, {agent("ann")}, rules, t0 + 1000 + 60'000);
    REQUIRE(ids(offers) == std::vector<std::string>{"c>ann"});
  }
  SECTION("a later chat still reaches the agent who declined an earlier one") {
    auto offers = plan_offers({c, chat("d", Priority::normal, t0 + 5)}, {agent("ann")}, rules, t0 + 2000);
    REQUIRE(ids(offers) == std::vector<std::string>{"d>ann"});
  }
}

TEST_CASE("no chat is planned for two agents in one plan") {
  std::vector<QueuedChat> queue{chat("only", Priority::normal, t0)};
  auto offers = plan_offers(queue, {agent("ann"), agent("bob"), agent("cy")}, {}, t0);
  REQUIRE(offers.size() == 1);
}

TEST_CASE("estimated wait grows with the position") {
  REQUIRE(estimate_wait_s(0, 10) == 0);
  REQUIRE(estimate_wait_s(1, 12.5) == 13);
  REQUIRE(estimate_wait_s(3, 10) == 30);
  REQUIRE(estimate_wait_s(2, 0, 30) == 60);  // no history yet: the fallback per position
}

TEST_CASE("queue positions are sent less often the longer the queue, between 100 ms and a second") {
  REQUIRE(positions_interval_ms(0) == 100);
  REQUIRE(positions_interval_ms(99) == 100);
  REQUIRE(positions_interval_ms(100) == 100);
  REQUIRE(positions_interval_ms(500) == 500);
  REQUIRE(positions_interval_ms(1000) == 1000);
  REQUIRE(positions_interval_ms(250'000) == 1000);
}

TEST_CASE("the pace of assignments is the recent mean interval between them") {
  AssignmentPace pace;
  REQUIRE(pace.mean_interval_s() == 0);
  pace.assigned(t0);
  REQUIRE(pace.mean_interval_s() == 0);  // one assignment: no interval yet
  pace.assigned(t0 + 10'000);
  REQUIRE(pace.mean_interval_s() == Approx(10.0));
  pace.assigned(t0 + 30'000);  // a slower one moves the mean a tenth of the way
  REQUIRE(pace.mean_interval_s() == Approx(11.0));
}

TEST_CASE("an agent is shown the whole seconds an offer still stands, rounded up") {
  REQUIRE(offer_seconds_left(t0 + 30'000, t0) == 30);
  REQUIRE(offer_seconds_left(t0 + 30'000, t0 + 1) == 30);
  REQUIRE(offer_seconds_left(t0 + 30'000, t0 + 29'001) == 1);
  REQUIRE(offer_seconds_left(t0 + 30'000, t0 + 30'000) <= 0);
}

TEST_CASE("only an active chat goes back to a queue, and only by its agent or a supervisor") {
  Actor ann{Role::agent, "ann", "support"};
  Actor bob{Role::agent, "bob", "support"};
  Actor sue{Role::supervisor, "sue", ""};
  REQUIRE_FALSE(transfer_to_team_denied(ConversationStatus::active, "ann", ann));
  REQUIRE_FALSE(transfer_to_team_denied(ConversationStatus::active, "ann", sue));
  auto not_yours = transfer_to_team_denied(ConversationStatus::active, "ann", bob);
  REQUIRE(not_yours);
  REQUIRE(not_yours->refusal == Refusal::forbidden);
  for (auto s : {ConversationStatus::queued, ConversationStatus::offered, ConversationStatus::resolved,
                 ConversationStatus::ticket}) {
    auto d = transfer_to_team_denied(s, "ann", sue);
    REQUIRE(d);
    REQUIRE(d->refusal == Refusal::conflict);
  }
}

TEST_CASE("who had a chat hears of its new agent: a withdrawn offer, or the chat taken with the reason") {
  using N = Handover::Notice;
  SECTION("an open offer lapses for the agent it was made to") {
    auto h = handover(ConversationStatus::offered, "ann", "bob", true);
    REQUIRE(h.notice == N::offer_withdrawn);
    REQUIRE_FALSE(h.queue_moved);
  }
  SECTION("an agent's transfer and a supervisor's reassignment say so") {
    REQUIRE(handover(ConversationStatus::active, "ann", "bob", false).reason == "transferred");
    REQUIRE(handover(ConversationStatus::active, "ann", "bob", true).reason == "reassigned");
    REQUIRE(handover(ConversationStatus::active, "ann", "bob", true).notice == N::unassigned);
  }
  SECTION("a chat taken from the queue had nobody, and moves the queue") {
    auto h = handover(ConversationStatus::queued, "", "bob", true);
    REQUIRE(h.notice == N::none);
    REQUIRE(h.queue_moved);
  }
  SECTION("nothing to tell when it stays with the same agent") {
    REQUIRE(handover(ConversationStatus::offered, "bob", "bob", true).notice == N::none);
  }
}
