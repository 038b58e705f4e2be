// The assessment store against a real Redis: its scripts (assessment_save,
// review_mark) run directly, with the time passed in, and its reads.
// scripts: assessment_save.lua review_mark.lua
#include "live_store.hpp"
#include "store/assessments.hpp"

#include <catch2/catch.hpp>

using namespace exceed;
using store::AssessmentStore;
using Level = core::Level;

namespace {

// In the past: the samples stream is trimmed to the last day by entry ids,
// which are Redis's own clock.
constexpr core::Millis t0 = 1'700'000'000'000;

// A conversation of ann's in "support", resolved at `resolved_at`.
void resolved(test::LiveStore& s, std::string const& id, core::Millis resolved_at = t0) {
  s.raw("HSET", "exceed:conv:" + id, "id", id, "status", "resolved", "team", "support", "agent", "a_ann", "agent_name",
        "Ann", "created_at", std::to_string(resolved_at - 600'000), "resolved_at", std::to_string(resolved_at));
}

store::Judgement judged(std::string id, Level level, core::Millis now, std::string trigger = "resolved") {
  store::Judgement j;
  j.conversation_id = std::move(id);
  j.team = "support";
  j.agent = "a_ann";
  j.assessment_json = R"({"level":")" + std::string(core::to_string(level)) + R"("})";
  j.times_json = R"({"first_response_s":40})";
  j.sla_policy = "default";
  j.level = level;
  j.confidence = core::Confidence::medium;
  j.score = 1.5;
  j.trigger = std::move(trigger);
  j.resolved_at = t0;
  j.now = now;
  return j;
}

std::int64_t stream_length(test::LiveStore& s, std::string const& key) { return s.raw("XLEN", key).integer; }

}  // namespace

TEST_CASE("a judgement is kept on the record with its history, and an only-met chat waits for review until marked") {
  test::LiveStore s;
  resolved(s, "c1");
  AssessmentStore a(s.db());
  auto listed = s.wait(a.save(judged("c1", Level::met, t0 + 1'000)));
  REQUIRE(listed);
  REQUIRE(*listed);
  REQUIRE(s.raw("HGET", "exceed:conv:c1", "assessment_level").str == "met");
  REQUIRE(s.raw("HGET", "exceed:conv:c1", "assessment_confidence").str == "medium");
  REQUIRE(s.raw("HGET", "exceed:conv:c1", "times").str == R"({"first_response_s":40})");
  REQUIRE(s.raw("HGET", "exceed:conv:c1", "sla_policy").str == "default");
  REQUIRE(stream_length(s, "exceed:conv:c1:assessments") == 1);
  REQUIRE(s.raw("ZSCORE", "exceed:assessed", "c1").str == std::to_string(t0));
  // The live figures' sample of it.
  auto samples = s.raw("XRANGE", "exceed:metrics:samples", "-", "+");
  REQUIRE(samples.elements.size() == 1);

  auto rec = s.wait(a.record("c1"))->value();
  REQUIRE(rec.level == Level::met);
  REQUIRE(rec.assessment_json == R"({"level":"met"})");
  REQUIRE_FALSE(rec.reviewed_at);
  REQUIRE(rec.conversation.agent_name == "Ann");
  REQUIRE(*s.wait(a.reviews({})) == std::vector<std::string>{"c1"});

  REQUIRE(s.wait(a.mark_reviewed("c1", "s_boss", "Coached", t0 + 5'000)));
  REQUIRE(s.wait(a.reviews({}))->empty());
  AssessmentStore::ReviewRange done;
  done.reviewed = true;
  REQUIRE(*s.wait(a.reviews(done)) == std::vector<std::string>{"c1"});
  REQUIRE(s.raw("ZSCORE", "exceed:reviews:done", "c1").str == std::to_string(t0));
  rec = s.wait(a.record("c1"))->value();
  REQUIRE(rec.reviewed_at == t0 + 5'000);
  REQUIRE(rec.reviewed_by == "s_boss");
  REQUIRE(rec.review_note == "Coached");

  SECTION("once: a conversation not waiting is refused") {
    auto again = s.wait(a.mark_reviewed("c1", "s_boss", "", t0 + 6'000));
    REQUIRE_FALSE(again);
    REQUIRE(again.failure().refusal == core::Refusal::not_found);
    REQUIRE(s.wait(a.mark_reviewed("c_none", "s_boss", "", t0)).failure().refusal == core::Refusal::not_found);
  }
  SECTION("a reviewed chat assessed again stays off the list") {
    REQUIRE_FALSE(*s.wait(a.save(judged("c1", Level::below, t0 + 9'000, "csat"))));
    REQUIRE(s.wait(a.reviews({}))->empty());
    REQUIRE(stream_length(s, "exceed:conv:c1:assessments") == 2);
  }
}

TEST_CASE("an exceeded judgement leaves the review list, and the list reads newest first within a period") {
  test::LiveStore s;
  resolved(s, "c1", t0);
  resolved(s, "c2", t0 + 60'000);
  resolved(s, "c3", t0 + 120'000);
  AssessmentStore a(s.db());
  for (auto const* id : {"c1", "c2", "c3"}) {
    auto j = judged(id, Level::below, t0 + 200'000);
    j.resolved_at = std::stoll(s.raw("HGET", std::string("exceed:conv:") + id, "resolved_at").str);
    REQUIRE(*s.wait(a.save(j)));
  }
  REQUIRE(*s.wait(a.reviews({})) == std::vector<std::string>{"c3", "c2", "c1"});
  AssessmentStore::ReviewRange range;
  range.from = std::to_string(t0 + 30'000);
  range.to = std::to_string(t0 + 90'000);
  REQUIRE(*s.wait(a.reviews(range)) == std::vector<std::string>{"c2"});
  range = {};
  range.max = 1;
  REQUIRE(*s.wait(a.reviews(range)) == std::vector<std::string>{"c3"});

  auto exceeded = judged("c2", Level::exceeded, t0 + 300'000, "csat");
  exceeded.resolved_at = t0 + 60'000;
  REQUIRE_FALSE(*s.wait(a.save(exceeded)));
  REQUIRE(*s.wait(a.reviews({})) == std::vector<std::string>{"c3", "c1"});
}

TEST_CASE("the assessed conversations of a period, as the consistency report reads them") {
  test::LiveStore s;
  resolved(s, "c1", t0);
  resolved(s, "c2", t0 + 86'400'000);
  AssessmentStore a(s.db());
  auto first = judged("c1", Level::exceeded, t0 + 1'000);
  REQUIRE(s.wait(a.save(first)));
  auto second = judged("c2", Level::met, t0 + 86'401'000);
  second.resolved_at = t0 + 86'400'000;
  REQUIRE(s.wait(a.save(second)));
  auto lines = s.wait(a.assessed(t0, t0 + 86'400'000, 100));
  REQUIRE(lines->size() == 2);
  REQUIRE(lines->at(0).conversation_id == "c1");
  REQUIRE(lines->at(0).level == Level::exceeded);
  REQUIRE(lines->at(0).team == "support");
  REQUIRE(lines->at(0).agent == "a_ann");
  REQUIRE(lines->at(0).resolved_at == t0);
  REQUIRE(lines->at(0).times_json == R"({"first_response_s":40})");
  REQUIRE(lines->at(1).level == Level::met);
  REQUIRE(s.wait(a.assessed(t0 + 1, t0 + 86'400'000, 100))->size() == 1);
  REQUIRE(s.wait(a.assessed(t0, t0 + 86'400'000, 1))->size() == 1);
}

TEST_CASE("a customer back with the same need is marked on the conversation that did not hold") {
  test::LiveStore s;
  resolved(s, "c1");
  AssessmentStore a(s.db());
  REQUIRE_FALSE(s.wait(a.record("c1"))->value().returned);
  REQUIRE(s.wait(a.mark_returned("c1", "c2", t0 + 3'600'000)));
  REQUIRE(s.wait(a.record("c1"))->value().returned);
  REQUIRE(s.raw("HGET", "exceed:conv:c1", "returned_with").str == "c2");
  REQUIRE(s.raw("HGET", "exceed:conv:c1", "returned_at").str == std::to_string(t0 + 3'600'000));
  REQUIRE_FALSE(*s.wait(a.record("c_none")));
}

TEST_CASE("a solved ticket's story is its record, its comments and its changes, and its judgement is kept") {
  test::LiveStore s;
  s.raw("HSET", "exceed:ticket:t_1", "id", "t_1", "status", "solved", "team", "support", "priority", "high", "via",
        "chat", "conversation", "c1", "created_at", std::to_string(t0));
  s.raw("XADD", "exceed:ticket:t_1:comments", "*", "ts", std::to_string(t0), "role", "customer", "uid", "v_casey",
        "public", "1", "text", "It is broken");
  s.raw("XADD", "exceed:ticket:t_1:comments", "*", "ts", std::to_string(t0 + 60'000), "role", "agent", "uid", "a_ann",
        "public", "0", "text", "checking with the warehouse");
  s.raw("XADD", "exceed:ticket:t_1:events", "*", "ts", std::to_string(t0 + 1'000), "what", "assignee", "from", "",
        "to", "a_ann");
  s.raw("XADD", "exceed:ticket:t_1:events", "*", "ts", std::to_string(t0 + 90'000), "what", "status", "from", "open",
        "to", "solved");
  AssessmentStore a(s.db());
  auto story = s.wait(a.ticket_story("t_1", 5000))->value();
  REQUIRE(story.status == "solved");
  REQUIRE(story.team == "support");
  REQUIRE(story.priority == "high");
  REQUIRE(story.via == "chat");
  REQUIRE(story.conversation_id == "c1");
  REQUIRE(story.created_at == t0);
  REQUIRE(story.comments.size() == 2);
  REQUIRE(story.comments[0].customer);
  REQUIRE(story.comments[0].is_public);
  REQUIRE(story.comments[0].text == "It is broken");
  REQUIRE_FALSE(story.comments[1].is_public);
  REQUIRE(story.comments[1].author_id == "a_ann");
  REQUIRE(story.changes.size() == 2);
  REQUIRE(story.changes[0].what == "assignee");
  REQUIRE(story.changes[0].to == "a_ann");
  REQUIRE(story.changes[1].from == "open");
  REQUIRE(story.changes[1].ts == t0 + 90'000);
  REQUIRE_FALSE(*s.wait(a.ticket_story("t_none", 5000)));

  store::TicketJudgement j{"t_1", R"({"level":"met"})", "{}", "default", Level::met, "solved", t0 + 100'000};
  REQUIRE(s.wait(a.save_ticket(j)));
  REQUIRE(s.raw("HGET", "exceed:ticket:t_1", "assessment_level").str == "met");
  REQUIRE(s.raw("HGET", "exceed:ticket:t_1", "assessment").str == R"({"level":"met"})");
  REQUIRE(stream_length(s, "exceed:ticket:t_1:assessments") == 1);
}

TEST_CASE("a conversation record of the wrong shape is a protocol failure, not an empty judgement") {
  test::LiveStore s;
  s.raw("HSET", "exceed:conv:c_odd", "id", "c_odd", "status", "archived");
  AssessmentStore a(s.db());
  auto odd = s.wait(a.record("c_odd"));
  REQUIRE_FALSE(odd);
  REQUIRE(odd.failure().kind == store::Failure::Kind::protocol);
}
