// The routing store against a real Redis: each of its scripts and commands
// run directly, with the time passed in, so offers, grace periods, dead
// processes and SLA timers are pinned to the millisecond.
// scripts: accept.lua agent_status.lua assign.lua decline.lua expire_offers.lua grace_done.lua grace_due.lua
// scripts: offer.lua positions.lua presence.lua reap_procs.lua requeue.lua sla_due.lua snapshot.lua
#include "core/schedule.hpp"
#include "live_store.hpp"
#include "store/conversations.hpp"
#include "store/routing.hpp"

#include <catch2/catch.hpp>

using namespace exceed;
using store::RoutingStore;
using Status = core::ConversationStatus;

namespace {

constexpr core::Millis t0 = 1'800'000'000'000;
constexpr core::Millis grace = 60'000;

// A member of the team "support": online and connected unless told otherwise.
void agent(test::LiveStore& s, std::string const& id, std::string const& name, int capacity = 2,
           std::string const& status = "online", int conns = 1) {
  s.raw("SADD", "exceed:teams", "support");
  s.raw("SADD", "exceed:team:support:agents", id);
  s.raw("HSET", "exceed:user:" + id, "role", "agent", "name", name);
  s.raw("HSET", "exceed:agent:" + id, "status", status, "capacity", std::to_string(capacity), "active", "0", "offered",
        "0", "conns", std::to_string(conns), "last_assigned_at", "0");
}

// A chat waiting in "support" since `at` (its customer "v_<id>"), through the start script.
void waiting_chat(test::LiveStore& s, std::string const& id, core::Millis at) {
  store::StartChat c;
  c.id = id;
  c.visitor = "v_" + id;
  c.visitor_name = "Casey";
  c.team = "support";
  c.priority = "normal";
  c.context_json = R"({"page":"/cart"})";
  c.now = at;
  c.score = core::queue_score(core::Priority::normal, at);
  c.text = "Where is my parcel?";
  c.ticket_id = "t_" + id;
  c.ticket_when_offline = false;  // wait in the queue whoever is online
  c.sla.first_response = 60'000;
  c.sla.warning_ratio = 0.8;
  store::ConversationStore conversations(s.db());
  auto started = s.wait(conversations.start(c));
  REQUIRE(started);
  REQUIRE(started->status == Status::queued);
}

std::string field(test::LiveStore& s, std::string const& key, std::string const& name) {
  return s.raw("HGET", key, name).str;
}

store::Assignment give(std::string conv, std::string to, bool force, std::string expected, core::Millis now) {
  return store::Assignment{std::move(conv), std::move(to), force, std::move(expected), now};
}

}  // namespace

TEST_CASE("a plan reads a team's waiting chats in order, and only its members online and connected") {
  test::LiveStore s;
  agent(s, "a_ann", "Ann", 3);
  agent(s, "a_bob", "Bob", 2, "away");
  agent(s, "a_cy", "Cy", 2, "online", 0);
  RoutingStore r(s.db());
  REQUIRE(s.wait(r.snapshot("support", 10))->agents.empty());  // nothing waits: the agents are not read
  waiting_chat(s, "c2", t0 + 1);
  waiting_chat(s, "c1", t0);
  auto snap = s.wait(r.snapshot("support", 10));
  REQUIRE(snap);
  REQUIRE(snap->queue.size() == 2);
  REQUIRE(snap->queue[0].id == "c1");
  REQUIRE(snap->queue[0].score == core::queue_score(core::Priority::normal, t0));
  REQUIRE(snap->queue[1].id == "c2");
  REQUIRE(snap->agents.size() == 1);
  REQUIRE(snap->agents[0].id == "a_ann");
  REQUIRE(snap->agents[0].status == core::AgentStatus::online);
  REQUIRE(snap->agents[0].capacity == 3);
  REQUIRE(snap->agents[0].connections == 1);
  REQUIRE(s.wait(r.snapshot("support", 1))->queue.size() == 1);
}

TEST_CASE("an offer holds only while the chat waits and the agent has room, and accepted, the chat is theirs") {
  test::LiveStore s;
  agent(s, "a_ann", "Ann", 1);
  waiting_chat(s, "c1", t0);
  waiting_chat(s, "c2", t0 + 1);
  RoutingStore r(s.db());
  std::vector<core::Offer> plan{{"c1", "a_ann", t0 + 30'000}, {"c1", "a_ann", t0 + 30'000}, {"c2", "a_ann", t0 + 30'000}};
  auto made = s.wait(r.offer(plan, t0 + 10));
  REQUIRE(made.size() == 3);
  REQUIRE(made[0]->made);
  REQUIRE(made[0]->team == "support");
  REQUIRE(made[0]->visitor == "v_c1");
  REQUIRE(made[0]->visitor_name == "Casey");
  REQUIRE(made[0]->priority == "normal");
  REQUIRE(made[0]->context_json == R"({"page":"/cart"})");
  REQUIRE(made[0]->preview == "Where is my parcel?");
  REQUIRE_FALSE(made[1]->made);  // the chat was offered a moment ago
  REQUIRE(made[1]->lost_on == "chat");
  REQUIRE_FALSE(made[2]->made);  // ann is full
  REQUIRE(made[2]->lost_on == "agent");
  REQUIRE(field(s, "exceed:agent:a_ann", "offered") == "1");
  REQUIRE(field(s, "exceed:agent:a_ann", "last_assigned_at") == std::to_string(t0 + 10));
  REQUIRE(field(s, "exceed:conv:c2", "status") == "queued");

  auto open = s.wait(r.open_offers("a_ann"));
  REQUIRE(open->size() == 1);
  REQUIRE(open->at(0).conversation_id == "c1");
  REQUIRE(open->at(0).expires_at == t0 + 30'000);
  REQUIRE(open->at(0).visitor == "v_c1");

  auto accepted = s.wait(r.accept("c1", "a_ann", "Ann", t0 + 5'000));
  REQUIRE(accepted);
  REQUIRE(accepted->team == "support");
  REQUIRE(accepted->visitor == "v_c1");
  REQUIRE(accepted->queue_wait == 5'000);
  REQUIRE(field(s, "exceed:conv:c1", "status") == "active");
  REQUIRE(field(s, "exceed:conv:c1", "agent") == "a_ann");
  REQUIRE(field(s, "exceed:conv:c1", "assigned_at") == std::to_string(t0 + 5'000));
  REQUIRE(field(s, "exceed:agent:a_ann", "active") == "1");
  REQUIRE(field(s, "exceed:agent:a_ann", "offered") == "0");
  REQUIRE(s.wait(r.open_offers("a_ann"))->empty());
  REQUIRE(s.wait(r.accept("c1", "a_ann", "Ann", t0 + 6'000)).failure().refusal == core::Refusal::conflict);
  REQUIRE(s.wait(r.accept("c_none", "a_ann", "Ann", t0)).failure().refusal == core::Refusal::not_found);
}

TEST_CASE("an offer of a chat another request took out of its queue writes nothing") {
  // The record still says queued, but the chat is no longer in its queue
  // (taken by another process's request between its read and its write):
  // taking it out of the queue is the offer's last check.
  test::LiveStore s;
  agent(s, "a_ann", "Ann", 2);
  waiting_chat(s, "c1", t0);
  s.raw("ZREM", "exceed:queue:support", "c1");
  RoutingStore r(s.db());
  auto made = s.wait(r.offer({{"c1", "a_ann", t0 + 30'000}}, t0 + 10));
  REQUIRE(made.size() == 1);
  REQUIRE_FALSE(made[0]->made);
  REQUIRE(made[0]->lost_on == "chat");
  REQUIRE(field(s, "exceed:conv:c1", "status") == "queued");
  REQUIRE(field(s, "exceed:conv:c1", "offered_to").empty());
  REQUIRE(field(s, "exceed:agent:a_ann", "offered") == "0");
  REQUIRE(field(s, "exceed:agent:a_ann", "last_assigned_at") == "0");
  REQUIRE(s.wait(r.open_offers("a_ann"))->empty());
}

TEST_CASE("a declined offer and a lapsed one hand the chat back, each once") {
  test::LiveStore s;
  agent(s, "a_ann", "Ann");
  waiting_chat(s, "c1", t0);
  RoutingStore r(s.db());
  std::vector<core::Offer> first{{"c1", "a_ann", t0 + 30'000}};
  REQUIRE(s.wait(r.offer(first, t0)).at(0)->made);
  auto team = s.wait(r.decline("c1", "a_ann", t0 + 1'000));
  REQUIRE(*team == "support");
  REQUIRE(s.wait(r.decline("c1", "a_ann", t0 + 1'001)).failure().refusal == core::Refusal::conflict);
  auto snap = s.wait(r.snapshot("support", 10));
  REQUIRE(snap->queue.at(0).id == "c1");
  REQUIRE(snap->queue.at(0).declines.size() == 1);
  REQUIRE(snap->queue.at(0).declines[0].agent_id == "a_ann");
  REQUIRE(snap->queue.at(0).declines[0].at == t0 + 1'000);

  std::vector<core::Offer> second{{"c1", "a_ann", t0 + 2'000}};
  REQUIRE(s.wait(r.offer(second, t0 + 1'500)).at(0)->made);
  REQUIRE(s.wait(r.expire_offers(t0 + 1'999, 10))->empty());
  auto lapsed = s.wait(r.expire_offers(t0 + 2'000, 10));
  REQUIRE(lapsed->size() == 1);
  REQUIRE(lapsed->at(0).conversation_id == "c1");
  REQUIRE(lapsed->at(0).agent == "a_ann");
  REQUIRE(lapsed->at(0).team == "support");
  REQUIRE(s.wait(r.expire_offers(t0 + 9'000, 10))->empty());  // once
  REQUIRE(field(s, "exceed:conv:c1", "status") == "queued");
}

TEST_CASE("an assignment: a transfer needs the chat with its agent and the target online, a supervisor's does not") {
  test::LiveStore s;
  agent(s, "a_ann", "Ann");
  agent(s, "a_bob", "Bob");
  agent(s, "a_cy", "Cy", 2, "away", 0);
  waiting_chat(s, "c1", t0);
  RoutingStore r(s.db());

  auto taken = s.wait(r.assign(give("c1", "a_bob", true, "", t0 + 4'000)));
  REQUIRE(taken);
  REQUIRE(taken->previous == Status::queued);
  REQUIRE(taken->previous_agent.empty());
  REQUIRE(taken->visitor == "v_c1");
  REQUIRE(taken->team == "support");
  REQUIRE(taken->agent_name == "Bob");
  REQUIRE(taken->queue_wait == 4'000);

  SECTION("a transfer from its agent to one online") {
    auto moved = s.wait(r.assign(give("c1", "a_ann", false, "a_bob", t0 + 9'000)));
    REQUIRE(moved->previous == Status::active);
    REQUIRE(moved->previous_agent == "a_bob");
    REQUIRE_FALSE(moved->queue_wait);  // waited once, measured once
    REQUIRE(field(s, "exceed:conv:c1", "transfers") == "1");
  }
  SECTION("refused") {
    auto not_theirs = s.wait(r.assign(give("c1", "a_ann", false, "a_ann", t0)));
    REQUIRE(not_theirs.failure().refusal == core::Refusal::conflict);
    auto away = s.wait(r.assign(give("c1", "a_cy", false, "a_bob", t0)));
    REQUIRE(away.failure().refusal == core::Refusal::conflict);
    REQUIRE(s.wait(r.assign(give("c1", "a_bob", true, "", t0))).failure().refusal == core::Refusal::conflict);
    REQUIRE(s.wait(r.assign(give("c1", "a_nobody", true, "", t0))).failure().refusal == core::Refusal::not_found);
  }
  SECTION("a supervisor's reaches an agent who is away") {
    REQUIRE(s.wait(r.assign(give("c1", "a_cy", true, "", t0)))->previous_agent == "a_bob");
  }
}

TEST_CASE("a chat goes back to a queue only while it is still its agent's, and only to a known team") {
  test::LiveStore s;
  agent(s, "a_ann", "Ann");
  waiting_chat(s, "c1", t0);
  RoutingStore r(s.db());
  REQUIRE(s.wait(r.assign(give("c1", "a_ann", true, "", t0))));
  auto score = core::queue_score(core::Priority::normal, t0, true);
  store::Requeue unknown{"c1", "a_ann", "nowhere", score, t0 + 1};
  REQUIRE(s.wait(r.requeue(unknown)).failure().refusal == core::Refusal::bad_request);
  store::Requeue back{"c1", "a_ann", "support", score, t0 + 1};
  REQUIRE(*s.wait(r.requeue(back)) == "v_c1");
  REQUIRE(field(s, "exceed:conv:c1", "status") == "queued");
  REQUIRE(field(s, "exceed:agent:a_ann", "active") == "0");
  REQUIRE(s.wait(r.snapshot("support", 10))->queue.at(0).score == score);
  REQUIRE(s.wait(r.requeue(back)).failure().refusal == core::Refusal::conflict);  // once
}

TEST_CASE("an agent's connections are counted across processes, and the last one gone starts the grace period") {
  test::LiveStore s;
  agent(s, "a_ann", "Ann", 2, "online", 0);
  waiting_chat(s, "c1", t0);
  RoutingStore r(s.db());
  REQUIRE(*s.wait(r.presence("a_ann", "p1", 1, t0, grace)) == 1);
  REQUIRE(*s.wait(r.presence("a_ann", "p2", 1, t0, grace)) == 2);
  REQUIRE(s.wait(r.assign(give("c1", "a_ann", true, "", t0))));
  REQUIRE(*s.wait(r.presence("a_ann", "p1", -1, t0 + 500, grace)) == 1);
  REQUIRE(s.raw("ZSCORE", "exceed:grace", "a_ann").is_nil());
  REQUIRE(*s.wait(r.presence("a_ann", "p2", -1, t0 + 1'000, grace)) == 0);
  REQUIRE(s.raw("ZSCORE", "exceed:grace", "a_ann").str == std::to_string(t0 + 1'000 + grace));

  SECTION("past the grace period the chats are handed back, and the agent is offline") {
    REQUIRE(s.wait(r.grace_due(t0 + grace, 10))->empty());
    auto due = s.wait(r.grace_due(t0 + 1'000 + grace, 10));
    REQUIRE(due->size() == 1);
    REQUIRE(due->at(0).agent == "a_ann");
    REQUIRE(due->at(0).chats.size() == 1);
    auto const& chat = due->at(0).chats[0];
    REQUIRE(chat.conversation_id == "c1");
    REQUIRE(chat.priority == core::Priority::normal);
    REQUIRE(chat.created_at == t0);
    REQUIRE(chat.team == "support");
    REQUIRE(*s.wait(r.grace_done("a_ann")));
    REQUIRE(field(s, "exceed:agent:a_ann", "status") == "offline");
    REQUIRE(s.wait(r.grace_due(t0 + 9'000'000, 10))->empty());
  }
  SECTION("back within it, the agent keeps everything") {
    REQUIRE(*s.wait(r.presence("a_ann", "p1", 1, t0 + 2'000, grace)) == 1);
    REQUIRE(s.wait(r.grace_due(t0 + 9'000'000, 10))->empty());
    REQUIRE_FALSE(*s.wait(r.grace_done("a_ann")));  // connected: not ended
    REQUIRE(field(s, "exceed:agent:a_ann", "status") == "online");
  }
}

TEST_CASE("a process that stops beating is reaped once, and the live ones are those that beat since") {
  test::LiveStore s;
  agent(s, "a_ann", "Ann", 2, "online", 0);
  RoutingStore r(s.db());
  REQUIRE(s.wait(r.beat("p1", t0)));
  REQUIRE(s.wait(r.beat("p2", t0 + 50'000)));
  REQUIRE(*s.wait(r.presence("a_ann", "p1", 1, t0, grace)) == 1);
  REQUIRE(*s.wait(r.live_processes(t0 - 1)) == 2);
  REQUIRE(*s.wait(r.reap(t0 + 60'000, t0 + 45'000, grace)) == 1);
  REQUIRE(field(s, "exceed:agent:a_ann", "conns") == "0");
  REQUIRE(s.raw("ZSCORE", "exceed:grace", "a_ann").str == std::to_string(t0 + 60'000 + grace));
  REQUIRE(*s.wait(r.reap(t0 + 60'000, t0 + 45'000, grace)) == 0);
  REQUIRE(*s.wait(r.live_processes(t0 + 45'000)) == 1);
  REQUIRE(s.wait(r.leave("p2")));
  REQUIRE(*s.wait(r.live_processes(0)) == 0);
  r.arrive("p3", "sales", t0 + 70'000);
  REQUIRE(*s.wait(r.live_processes(t0 + 70'000)) == 1);
  auto teams = *s.wait(r.teams());
  REQUIRE(std::find(teams.begin(), teams.end(), "sales") != teams.end());
}

TEST_CASE("an agent sets their status, and their capacity when given") {
  test::LiveStore s;
  agent(s, "a_ann", "Ann", 2);
  RoutingStore r(s.db());
  auto away = s.wait(r.set_status("a_ann", core::AgentStatus::away, 5));
  REQUIRE(away->status == core::AgentStatus::away);
  REQUIRE(away->capacity == 5);
  auto back = s.wait(r.set_status("a_ann", core::AgentStatus::online, std::nullopt));
  REQUIRE(back->status == core::AgentStatus::online);
  REQUIRE(back->capacity == 5);
  REQUIRE(s.wait(r.set_status("a_nobody", core::AgentStatus::online, 1)).failure().refusal ==
          core::Refusal::not_found);
}

TEST_CASE("the waiting customers of a team, in queue order") {
  test::LiveStore s;
  agent(s, "a_ann", "Ann");
  waiting_chat(s, "c2", t0 + 5);
  waiting_chat(s, "c1", t0);
  RoutingStore r(s.db());
  auto waiting = s.wait(r.waiting("support", 10));
  REQUIRE(waiting->size() == 2);
  REQUIRE(waiting->at(0).conversation_id == "c1");
  REQUIRE(waiting->at(0).visitor == "v_c1");
  REQUIRE(waiting->at(1).conversation_id == "c2");
  REQUIRE(s.wait(r.waiting("support", 1))->size() == 1);
}

TEST_CASE("SLA timers fire once each: the warning at its share of the target, then the breach") {
  test::LiveStore s;
  agent(s, "a_ann", "Ann");
  waiting_chat(s, "c1", t0);  // first response in 60 s, warned at 80%
  RoutingStore r(s.db());
  REQUIRE(s.wait(r.sla_due(t0 + 47'999, 10))->empty());
  auto warn = s.wait(r.sla_due(t0 + 48'000, 10));
  REQUIRE(warn->size() == 1);
  REQUIRE(warn->at(0).id == "c1");
  REQUIRE_FALSE(warn->at(0).ticket);
  REQUIRE(warn->at(0).metric == "first_response");
  REQUIRE_FALSE(warn->at(0).breach);
  REQUIRE(warn->at(0).due_at == t0 + 60'000);
  REQUIRE(warn->at(0).agent.empty());
  REQUIRE(warn->at(0).team == "support");
  REQUIRE(s.wait(r.sla_due(t0 + 59'999, 10))->empty());  // once
  auto breach = s.wait(r.sla_due(t0 + 61'000, 10));
  REQUIRE(breach->at(0).breach);
  REQUIRE(field(s, "exceed:sla:team:support", "first_response.breached") == "1");
}

TEST_CASE("a snapshot of the wrong shape fails as a protocol error, not as an agent with no room") {
  test::LiveStore s;
  agent(s, "a_ann", "Ann");
  waiting_chat(s, "c1", t0);
  s.raw("HSET", "exceed:agent:a_ann", "capacity", "lots");
  RoutingStore r(s.db());
  auto snap = s.wait(r.snapshot("support", 10));
  REQUIRE_FALSE(snap);
  REQUIRE(snap.failure().kind == store::Failure::Kind::protocol);
}

TEST_CASE("a team with business hours: SLA timers fire in business time, not on the wall clock") {
  // Open mon-fri 09:00-17:00 UTC. Casey writes on Monday at 16:50, ten
  // minutes before closing, with a 30-minute first-response target: ten
  // minutes count tonight, twenty from Tuesday's opening.
  core::BusinessHours hours;
  REQUIRE(hours.add_rule("mon-fri 09:00-17:00"));
  auto const monday = core::parse_rfc3339("2026-11-23T16:50:00Z").value();
  auto const due = core::parse_rfc3339("2026-11-24T09:20:00Z").value();
  auto const warn_at = core::parse_rfc3339("2026-11-24T09:14:00Z").value();  // 80 %: 24 open minutes
  test::LiveStore s;
  agent(s, "a_ann", "Ann");
  store::StartChat c;
  c.id = "c1";
  c.visitor = "v_c1";
  c.visitor_name = "Casey";
  c.team = "support";
  c.priority = "normal";
  c.context_json = "{}";
  c.now = monday;
  c.score = core::queue_score(core::Priority::normal, monday);
  c.text = "Where is my parcel?";
  c.ticket_id = "t_c1";
  c.ticket_when_offline = false;
  c.sla.first_response = 30 * 60'000;
  c.sla.warning_ratio = 0.8;
  // What the app passes (Config::sla_deadlines): core's count in the team's hours.
  c.deadlines = core::sla_deadlines(c.sla, hours, core::TimeZone::utc(), monday);
  store::ConversationStore conversations(s.db());
  REQUIRE(s.wait(conversations.start(c)));
  REQUIRE(field(s, "exceed:conv:c1", "sla_due_first_response") == std::to_string(due));
  REQUIRE(field(s, "exceed:conv:c1", "sla_first_response") == "1800000");  // the target as reports read it

  RoutingStore r(s.db());
  // Nothing at the wall-clock warning (17:14) or deadline (17:20), nor all night.
  REQUIRE(s.wait(r.sla_due(monday + 30 * 60'000, 10))->empty());
  REQUIRE(s.wait(r.sla_due(warn_at - 1, 10))->empty());
  auto warn = s.wait(r.sla_due(warn_at, 10));
  REQUIRE(warn->size() == 1);
  REQUIRE_FALSE(warn->at(0).breach);
  REQUIRE(warn->at(0).due_at == due);
  REQUIRE(s.wait(r.sla_due(due - 1, 10))->empty());
  auto breach = s.wait(r.sla_due(due, 10));
  REQUIRE(breach->size() == 1);
  REQUIRE(breach->at(0).breach);
  REQUIRE(breach->at(0).metric == "first_response");
  REQUIRE(field(s, "exceed:sla:team:support", "first_response.breached") == "1");
}
