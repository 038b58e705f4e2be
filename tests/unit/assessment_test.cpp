// The service assessment, rule by rule and in combination.
#include "core/assessment.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace exceed::core;

namespace {

// A plain conversation: answered within target but not fast, one contact,
// no transfer, a medium queue wait, no rating, no closing words.
Signals plain() {
  Signals s;
  s.first_response = 40'000;
  s.first_response_target = 60'000;
  s.queue_wait = 120'000;
  s.agents_seen = 1;
  return s;
}

bool has(std::vector<Reason> const& rs, std::string const& code) {
  return std::any_of(rs.begin(), rs.end(), [&](Reason const& r) { return r.code == code; });
}

Reason const& find(std::vector<Reason> const& rs, std::string const& code) {
  return *std::find_if(rs.begin(), rs.end(), [&](Reason const& r) { return r.code == code; });
}

}  // namespace

TEST_CASE("a plain, correct conversation only meets the customer's needs, and says what would have exceeded") {
  AssessmentRules rules;
  auto a = assess(plain(), rules);
  REQUIRE(a.level == Level::met);
  REQUIRE_FALSE(a.by_customer);
  REQUIRE(has(a.reasons, "one_contact"));
  REQUIRE(has(a.reasons, "no_transfer"));
  REQUIRE(has(a.would_have_exceeded, "fast_first_response"));
  REQUIRE(find(a.would_have_exceeded, "fast_first_response").text ==
          "first response took 40s against a 1m00s target: within 30s would have been fast (10s slower)");
  REQUIRE(has(a.would_have_exceeded, "followup_done"));
  REQUIRE(has(a.would_have_exceeded, "score_gap"));
}

TEST_CASE("each rule moves the score as configured") {
  AssessmentRules rules;
  auto base = assess(plain(), rules).score;
  struct Row {
    char const* name;
    void (*change)(Signals&);
    char const* code;
    double points;
  };
  Row const rows[] = {
      {"fast first response", [](Signals& s) { s.first_response = 20'000; }, "fast_first_response", rules.w_fast_first_response},
      {"first response breach", [](Signals& s) { s.first_response = 250'000; }, "first_response_breach", rules.w_first_response_breach},
      {"reopened", [](Signals& s) { s.reopened = true; }, "reopened", rules.w_reopened - rules.w_one_contact},
      {"two transfers", [](Signals& s) { s.transfers = 2; }, "transferred", 2 * rules.w_transfer - rules.w_no_transfer},
      {"short queue wait", [](Signals& s) { s.queue_wait = 30'000; }, "short_queue_wait", rules.w_short_queue_wait},
      {"long queue wait", [](Signals& s) { s.queue_wait = 600'000; }, "long_queue_wait", rules.w_long_queue_wait},
      {"pushy wait", [](Signals& s) { s.customer_messages_before_reply = 4; }, "unanswered_messages", rules.w_unanswered_messages},
      {"repeated question", [](Signals& s) { s.repeated_questions = 1; }, "repeated_question", rules.w_repeated_question},
      {"two agents", [](Signals& s) { s.agents_seen = 2; }, "many_agents", rules.w_many_agents},
      {"follow-up done", [](Signals& s) { s.followup_done = true; }, "followup_done", rules.w_followup_done},
      {"delighted words", [](Signals& s) { s.closing_words = "Thank you so much!"; }, "delighted_words", rules.w_delighted},
      {"flat words", [](Signals& s) { s.closing_words = "ok."; }, "flat_words", rules.w_flat},
      {"rating 5", [](Signals& s) { s.rating = 5; }, "rating_5", rules.w_rating_5},
      {"rating 4", [](Signals& s) { s.rating = 4; }, "rating_3_4", rules.w_rating_3_4},
      {"rating 1", [](Signals& s) { s.rating = 1; }, "rating_1_2", rules.w_rating_1_2},
      {"next response breaches", [](Signals& s) { s.next_response_breaches = 2; }, "next_response_breach",
       2 * rules.w_next_response_breach - rules.w_no_next_response_breach},
  };
  for (auto const& row : rows) {
    INFO(row.name);
    auto s = plain();
    row.change(s);
    auto a = assess(s, rules);
    REQUIRE(has(a.reasons, row.code));
    REQUIRE(a.score == Approx(base + row.points));
  }
}

TEST_CASE("levels follow the score") {
  AssessmentRules rules;
  SECTION("fast, followed up, delighted and rated 5: exceeded") {
    auto s = plain();
    s.first_response = 10'000;
    s.followup_done = true;
    s.closing_words = "amazing, thanks";
    s.rating = 5;
    auto a = assess(s, rules);
    REQUIRE(a.level == Level::exceeded);
    REQUIRE(a.would_have_exceeded.empty());
    REQUIRE(a.reasons.front().code == "rating_5");  // most weighty first
  }
  SECTION("slow, transferred and reopened: below") {
    auto s = plain();
    s.first_response = 300'000;
    s.transfers = 1;
    s.reopened = true;
    REQUIRE(assess(s, rules).level == Level::below);
  }
  SECTION("thresholds come from the rules") {
    rules.exceeded_at = 100;
    auto s = plain();
    s.rating = 5;
    REQUIRE(assess(s, rules).level == Level::met);
  }
}

TEST_CASE("the customer's own verdict outranks everything inferred") {
  AssessmentRules rules;
  SECTION("a fast, rated-5 chat the customer calls only met is met") {
    auto s = plain();
    s.first_response = 5'000;
    s.rating = 5;
    s.expectation = Level::met;
    auto a = assess(s, rules);
    REQUIRE(a.level == Level::met);
    REQUIRE(a.by_customer);
    REQUIRE(a.reasons.front().code == "customer_verdict");
    REQUIRE(a.reasons.front().text == "the customer said their needs were met, not exceeded");
    REQUIRE_FALSE(a.would_have_exceeded.empty());
  }
  SECTION("a slow chat the customer calls exceeded is exceeded") {
    auto s = plain();
    s.first_response = 300'000;
    s.expectation = Level::exceeded;
    REQUIRE(assess(s, rules).level == Level::exceeded);
  }
  SECTION("a late answer changes the level: met before, exceeded with the customer's word") {
    auto s = plain();
    REQUIRE(assess(s, rules).level == Level::met);
    s.rating = 5;
    s.expectation = Level::exceeded;
    REQUIRE(assess(s, rules).level == Level::exceeded);
  }
}

TEST_CASE("a follow-up done lifts met to exceeded when configured so") {
  AssessmentRules rules;
  rules.exceeded_at = 5;  // a plain chat scores 1.5, a fast first response adds 2
  auto s = plain();
  s.first_response = 10'000;  // fast
  REQUIRE(assess(s, rules).level == Level::met);
  s.followup_done = true;
  REQUIRE(assess(s, rules).level == Level::exceeded);
  rules.w_followup_done = 0;
  REQUIRE(assess(s, rules).level == Level::met);
}

TEST_CASE("durations read like a person writes them") {
  REQUIRE(human_duration(45'000) == "45s");
  REQUIRE(human_duration(252'000) == "4m12s");
  REQUIRE(human_duration(60'000) == "1m00s");
  REQUIRE(human_duration(3'780'000) == "1h03m");
  REQUIRE(parse_level("met") == Level::met);
  REQUIRE_FALSE(parse_level("great"));
}
