// The figures store against a real Redis: the live reading (metrics_live)
// and the report's pages (report_facts) run directly with the time passed
// in, the samples stream read on, the SLA counters.
// scripts: metrics_live.lua report_facts.lua
#include "live_store.hpp"
#include "store/figures.hpp"

#include <catch2/catch.hpp>

using namespace exceed;
using store::FigureStore;

namespace {

constexpr core::Millis t0 = 1'800'000'020'000;  // 20 s into a minute
constexpr core::Millis minute0 = t0 - 20'000;

// Two teams; in support a chat waiting 30 s, ann online with one chat, bob
// (of both teams) set online but without a live session; sales's queue empty.
void floor(test::LiveStore& s) {
  s.raw("SADD", "exceed:teams", "support", "sales");
  s.raw("SADD", "exceed:team:support:agents", "a_ann", "a_bob");
  s.raw("SADD", "exceed:team:sales:agents", "a_bob");
  s.raw("HSET", "exceed:agent:a_ann", "name", "Ann", "teams", "support", "status", "online", "conns", "1", "capacity",
        "3", "active", "1", "offered", "0");
  s.raw("HSET", "exceed:agent:a_bob", "name", "Bob", "teams", "support,sales", "status", "online", "conns", "0",
        "capacity", "2", "active", "0", "offered", "0");
  s.raw("HSET", "exceed:conv:c1", "id", "c1", "status", "queued", "created_at", std::to_string(t0 - 30'000));
  s.raw("ZADD", "exceed:queue:support", std::to_string(t0 - 30'000), "c1");
  s.raw("SADD", "exceed:active:support", "c9");
  s.raw("ZADD", "exceed:agent:a_ann:followups", std::to_string(t0 - 1), "f1", std::to_string(t0 + 60'000), "f2");
  s.raw("ZADD", "exceed:followups:open", std::to_string(t0 - 1), "f1", std::to_string(t0 + 60'000), "f2");
  s.raw("ZADD", "exceed:reviews", std::to_string(t0), "c5");
}

}  // namespace

TEST_CASE("the live reading: queues and their longest wait, agents' status and load, reviews and overdue follow-ups") {
  test::LiveStore s;
  floor(s);
  FigureStore f(s.db());
  auto live = s.wait(f.live(t0, 50));
  REQUIRE(live);
  REQUIRE(live->teams.size() == 2);
  REQUIRE(live->teams[0].team == "sales");
  REQUIRE(live->teams[0].queue_length == 0);
  REQUIRE(live->teams[0].oldest_created_at == 0);
  auto const& support = live->teams[1];
  REQUIRE(support.team == "support");
  REQUIRE(support.queue_length == 1);
  REQUIRE(support.oldest_created_at == t0 - 30'000);
  REQUIRE(support.agents_online == 1);
  REQUIRE(support.agents_available == 1);
  REQUIRE(support.active_conversations == 1);

  REQUIRE(live->agents.size() == 2);  // bob once, though in two teams
  auto const& bob = live->agents[0];
  REQUIRE(bob.id == "a_bob");
  REQUIRE(bob.status == "offline");  // no live session
  REQUIRE(bob.teams_csv == "support,sales");
  REQUIRE_FALSE(bob.available);
  auto const& ann = live->agents[1];
  REQUIRE(ann.name == "Ann");
  REQUIRE(ann.status == "online");
  REQUIRE(ann.active == 1);
  REQUIRE(ann.capacity == 3);
  REQUIRE(ann.available);
  REQUIRE(ann.followups_open == 2);
  REQUIRE(ann.followups_overdue == 1);
  REQUIRE(live->met_only_open == 1);
  REQUIRE(live->followups_overdue == 1);

  // The first reading of a minute records the queue's point of it.
  REQUIRE(live->series.size() == 1);
  REQUIRE(live->series[0].minute == minute0);
  REQUIRE(live->series[0].queue_length == 1);
  REQUIRE(live->series[0].longest_wait == 30'000);
  s.raw("ZADD", "exceed:queue:support", std::to_string(t0), "c2");
  REQUIRE(s.wait(f.live(t0 + 10'000, 50))->series.at(0).queue_length == 1);  // the same minute: kept
  auto next = s.wait(f.live(t0 + 60'000, 50));
  REQUIRE(next->series.size() == 2);
  REQUIRE(next->series[1].minute == minute0 + 60'000);
  REQUIRE(next->series[1].queue_length == 2);
}

TEST_CASE("samples are read on from the last one read, and kinds this version does not know are passed over") {
  test::LiveStore s;
  auto add = [&](std::string kind, std::string value, core::Millis at) {
    s.raw("XADD", "exceed:metrics:samples", "*", "k", kind, "c", "c1", "t", "support", "a", "a_ann", "v", value, "at",
          std::to_string(at));
  };
  add("fr", "1500", t0);
  add("breach", "first_response", t0 + 1);
  add("later_kind", "x", t0 + 2);
  add("assess", "met", t0 + 3);
  FigureStore f(s.db());
  auto page = s.wait(f.samples("", 0, 10));
  REQUIRE(page);
  REQUIRE(page->entries == 4);
  REQUIRE(page->samples.size() == 3);
  REQUIRE(page->samples[0].kind == core::Sample::Kind::first_response);
  REQUIRE(page->samples[0].value == 1500);
  REQUIRE(page->samples[0].at == t0);
  REQUIRE(page->samples[0].team == "support");
  REQUIRE(page->samples[0].agent == "a_ann");
  REQUIRE(page->samples[1].kind == core::Sample::Kind::sla_breach);
  REQUIRE(page->samples[1].metric == "first_response");
  REQUIRE(page->samples[2].kind == core::Sample::Kind::assessed);
  REQUIRE(page->samples[2].level == "met");

  add("qw", "4000", t0 + 4);
  auto more = s.wait(f.samples(page->last_id, 0, 10));
  REQUIRE(more->entries == 1);
  REQUIRE(more->samples.at(0).kind == core::Sample::Kind::queue_wait);
  REQUIRE(more->samples.at(0).value == 4000);
  REQUIRE(s.wait(f.samples(more->last_id, 0, 10))->entries == 0);
  REQUIRE(s.wait(f.samples("", 0, 2))->entries == 2);
}

TEST_CASE("a page of the conversations started in a period, filtered by team and agent") {
  test::LiveStore s;
  s.raw("HSET", "exceed:conv:c1", "id", "c1", "team", "support", "agent", "a_ann", "created_at", std::to_string(t0),
        "first_customer_at", std::to_string(t0), "assigned_at", std::to_string(t0 + 5'000), "first_response_at",
        std::to_string(t0 + 20'000), "resolved_at", std::to_string(t0 + 300'000), "status", "resolved", "csat_rating",
        "5", "assessment_level", "exceeded", "out_first_response_met", "1", "out_resolution_breached", "1",
        "assessment_confidence", "low");
  s.raw("HSET", "exceed:conv:c2", "id", "c2", "team", "sales", "created_at", std::to_string(t0 + 1), "status", "ticket",
        "ticketed_at_start", std::to_string(t0 + 1));
  s.raw("HSET", "exceed:conv:c3", "id", "c3", "team", "support", "created_at", std::to_string(t0 + 100'000));
  s.raw("ZADD", "exceed:convs", std::to_string(t0), "c1", std::to_string(t0 + 1), "c2", std::to_string(t0 + 100'000),
        "c3");
  FigureStore f(s.db());
  auto page = s.wait(f.report_facts({t0, t0 + 10, 0, 1000, "", "", ""}));
  REQUIRE(page);
  REQUIRE(page->scanned == 2);
  REQUIRE(page->facts.size() == 2);
  auto const& c1 = page->facts[0];
  REQUIRE(c1.id == "c1");
  REQUIRE(c1.team == "support");
  REQUIRE(c1.agent == "a_ann");
  REQUIRE(c1.started == t0);
  REQUIRE(c1.assigned == t0 + 5'000);
  REQUIRE(c1.first_response == t0 + 20'000);
  REQUIRE(c1.resolved == t0 + 300'000);
  REQUIRE(c1.ended);
  REQUIRE_FALSE(c1.ticketed_at_start);
  REQUIRE(c1.csat == 5);
  REQUIRE(c1.level == "exceeded");
  REQUIRE(c1.low_confidence);
  REQUIRE(c1.sla.at("first_response").met == 1);
  REQUIRE(c1.sla.at("resolution").breached == 1);
  REQUIRE(c1.sla.count("next_response") == 0);
  REQUIRE(page->facts[1].ticketed_at_start);
  REQUIRE(page->facts[1].ended);
  REQUIRE(c1.stage.empty());

  // A stage read with the facts, and the filter on it.
  s.raw("HSET", "exceed:conv:c2", "stage", "pre_purchase");
  auto staged = s.wait(f.report_facts({t0, t0 + 10, 0, 1000, "", "", "pre_purchase"}));
  REQUIRE(staged->facts.size() == 1);
  REQUIRE(staged->facts[0].id == "c2");
  REQUIRE(staged->facts[0].stage == "pre_purchase");
  REQUIRE(s.wait(f.report_facts({t0, t0 + 10, 0, 1000, "", "", "none"}))->facts.at(0).id == "c1");

  auto support = s.wait(f.report_facts({t0, t0 + 200'000, 0, 1000, "support", "", ""}));
  REQUIRE(support->scanned == 3);
  REQUIRE(support->facts.size() == 2);
  REQUIRE(s.wait(f.report_facts({t0, t0 + 200'000, 0, 1000, "", "a_ann", ""}))->facts.size() == 1);
  auto second = s.wait(f.report_facts({t0, t0 + 200'000, 2, 2, "", "", ""}));
  REQUIRE(second->scanned == 1);
  REQUIRE(second->facts.at(0).id == "c3");
}

TEST_CASE("SLA answers in time and late, per team and per agent, every metric there") {
  test::LiveStore s;
  s.raw("HSET", "exceed:sla:team:support", "first_response.met", "3", "first_response.breached", "1");
  s.raw("HSET", "exceed:sla:agent:a_ann", "resolution.met", "2");
  FigureStore f(s.db());
  auto team = s.wait(f.sla_of_team("support"));
  REQUIRE(team->size() == 3);
  REQUIRE(team->at("first_response").met == 3);
  REQUIRE(team->at("first_response").breached == 1);
  REQUIRE(team->at("resolution").met == 0);
  auto agent = s.wait(f.sla_of_agent("a_ann"));
  REQUIRE(agent->at("resolution").met == 2);
  REQUIRE(s.wait(f.sla_of_agent("a_nobody"))->at("next_response").breached == 0);
}
