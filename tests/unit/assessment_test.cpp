// The service assessment, rule by rule and in combination. Times are plain
// milliseconds (the fake clock): nothing here reads the wall clock.
#include "core/assessment.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace exceed::core;

namespace {

// A plain conversation: answered within target but not fast, one contact,
// no transfer, a medium queue wait, no CSAT, and the customer's polite
// "ok thanks" (content, nothing more) after the answer.
Signals plain() {
  Signals s;
  s.first_response = 40'000;
  s.first_response_target = 60'000;
  s.queue_wait = 120'000;
  s.agents_seen = 1;
  s.voice.messages = 2;
  s.voice.spoke_after_answer = true;
  s.voice.has_closing = true;
  s.voice.closing = 0.4;
  s.voice.closing_sum = 2;
  s.voice.closing_warmth = 0.5;
  s.voice.closing_words = "thanks";
  s.voice.mood = 0.2;
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
  REQUIRE(a.confidence == Confidence::medium);
  REQUIRE(has(a.reasons, "one_contact"));
  REQUIRE(has(a.reasons, "warm_words"));
  REQUIRE(find(a.reasons, "warm_words").text == "the customer ended content: customer: \"thanks\"");
  REQUIRE(find(a.would_have_exceeded, "fast_first_response").text ==
          "first response took 40s against a 1m00s target: within 30s would have been fast (10s slower)");
  REQUIRE(has(a.would_have_exceeded, "followup_done"));
  REQUIRE(has(a.would_have_exceeded, "went_beyond"));
  REQUIRE(has(a.would_have_exceeded, "score_gap"));
}

TEST_CASE("speed is scored on a slope, not a cliff") {
  AssessmentRules rules;
  auto points = [&](Millis fr) {
    auto s = plain();
    s.first_response = fr;
    auto a = assess(s, rules);
    auto it = std::find_if(a.reasons.begin(), a.reasons.end(), [](Reason const& r) {
      return r.code == "fast_first_response" || r.code == "first_response_breach";
    });
    return it->points;
  };
  SECTION("full points up to the fast share, then less and less up to the target") {
    REQUIRE(points(10'000) == Approx(rules.w_fast_first_response));
    REQUIRE(points(30'000) == Approx(rules.w_fast_first_response));
    REQUIRE(points(30'001) == Approx(rules.w_fast_first_response).margin(0.001));  // no cliff a millisecond later
    REQUIRE(points(45'000) == Approx(rules.w_fast_first_response / 2));
    REQUIRE(points(60'000) == Approx(0));
  }
  SECTION("past the target, a growing penalty up to far_first_response_ratio") {
    REQUIRE(points(120'000) == Approx(rules.w_first_response_breach / 2));
    REQUIRE(points(180'000) == Approx(rules.w_first_response_breach));
  }
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
      {"short queue wait", [](Signals& s) { s.queue_wait = 30'000; }, "short_queue_wait",
       // from a quarter of the way down the slope (120 s of 60..300 s) to the top
       (rules.w_short_queue_wait - rules.w_long_queue_wait) * 0.25},
      {"one transfer", [](Signals& s) { s.transfers = 1; }, "transferred", rules.w_transfer - rules.w_no_transfer},
      {"pushy wait", [](Signals& s) { s.customer_messages_before_reply = 4; }, "unanswered_messages", rules.w_unanswered_messages},
      {"repeated question", [](Signals& s) { s.repeated_questions = 1; }, "repeated_question", rules.w_repeated_question},
      {"asked again in other words", [](Signals& s) { s.voice.rephrased = 2; }, "repeated_question", 2 * rules.w_repeated_question},
      {"repeat complaint", [](Signals& s) { s.voice.repeat_complaint = "third person"; }, "repeat_complaint", rules.w_repeat_complaint},
      {"follow-up done", [](Signals& s) { s.followup_done = true; }, "followup_done", rules.w_followup_done},
      {"went beyond (recorded)", [](Signals& s) { s.went_beyond = "a free month"; }, "went_beyond", rules.w_went_beyond},
      {"went beyond (in the chat)", [](Signals& s) { s.voice.agent_beyond = "I've also"; }, "beyond_in_chat", rules.w_beyond_in_chat},
      {"customer says solved", [](Signals& s) { s.customer_solved = true; }, "customer_solved", rules.w_customer_solved},
      {"agent says solved", [](Signals& s) { s.outcome = Outcome::solved; }, "outcome_solved", rules.w_outcome_solved},
      {"works now", [](Signals& s) { s.voice.works_now = "works now"; }, "works_now", rules.w_works_now},
      {"praise", [](Signals& s) { s.voice.praise = "you're a star"; }, "praise", rules.w_praise},
      {"rating 5", [](Signals& s) { s.rating = 5; }, "rating_5", rules.w_rating_5},
      {"rating 3", [](Signals& s) { s.rating = 3; }, "rating_3", rules.w_rating_3},
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

TEST_CASE("the customer's words decide between content and delighted") {
  AssessmentRules rules;
  SECTION("delight in their own words, beyond courtesy, lifts a plain chat to exceeded") {
    auto s = plain();
    s.voice.closing = 0.8;
    s.voice.closing_warmth = 3;
    s.voice.closing_words = "you rescued my weekend";
    s.voice.praise = "you rescued";
    auto a = assess(s, rules);
    REQUIRE(a.level == Level::exceeded);
    REQUIRE(find(a.reasons, "delighted_words").text == "the customer was delighted: customer: \"you rescued my weekend\"");
    REQUIRE(find(a.reasons, "delighted_words").evidence == "you rescued my weekend");
  }
  SECTION("an agent who gave more than was asked, and a content customer: exceeded") {
    auto s = plain();
    s.first_response = 20'000;
    s.voice.closing_warmth = 1.5;  // "oh nice, thanks!"
    s.voice.agent_beyond = "I've also refunded the delivery";
    REQUIRE(assess(s, rules).level == Level::exceeded);
  }
  SECTION("a frustrated customer is rated below one who wrote \"ok\"") {
    auto ok = plain();
    ok.voice.closing = 0.07;
    ok.voice.closing_warmth = 0.3;
    auto cold = plain();
    cold.voice.closing = -0.5;
    cold.voice.closing_sum = -2.8;
    cold.voice.closing_words = "took forever";
    auto a = assess(cold, rules);
    REQUIRE(a.score < assess(ok, rules).score);
    REQUIRE(a.level == Level::below);
    REQUIRE(find(a.reasons, "dissatisfied").text == "the customer ended dissatisfied: customer: \"took forever\"");
  }
}

TEST_CASE("hard failures cap the level: routine points never lift them to met") {
  AssessmentRules rules;
  auto fast_and_routine = [] {
    auto s = plain();
    s.first_response = 10'000;
    s.queue_wait = 5'000;
    return s;
  };
  SECTION("giving up") {
    auto s = fast_and_routine();
    s.voice.gave_up = "I'll buy it elsewhere";
    auto a = assess(s, rules);
    REQUIRE(a.level == Level::below);
    REQUIRE(find(a.hard_failures, "gave_up").text == "the customer gave up: customer: \"I'll buy it elsewhere\"");
  }
  SECTION("still not working") {
    auto s = fast_and_routine();
    s.voice.still_broken = "still not working";
    REQUIRE(assess(s, rules).level == Level::below);
  }
  SECTION("not solved, by the customer's tap or the agent's record") {
    auto s = fast_and_routine();
    s.customer_solved = false;
    REQUIRE(assess(s, rules).level == Level::below);
    s.customer_solved.reset();
    s.outcome = Outcome::not_solved;
    REQUIRE(assess(s, rules).level == Level::below);
  }
  SECTION("sarcasm at the close") {
    auto s = fast_and_routine();
    s.voice.closing = -0.4;
    s.voice.sarcasm = "Brilliant service, really.";
    REQUIRE(find(assess(s, rules).hard_failures, "sarcasm").evidence == "Brilliant service, really.");
  }
  SECTION("a rating of 1 or 2") {
    auto s = fast_and_routine();
    s.rating = 2;
    REQUIRE(assess(s, rules).level == Level::below);
  }
  SECTION("a first reply far past its target, and two transfers, unless the close is warm") {
    auto s = fast_and_routine();
    s.first_response = 200'000;
    s.followup_done = true;
    s.voice.agent_beyond = "I've also";
    REQUIRE(assess(s, rules).level == Level::below);
    s.first_response = 10'000;
    s.transfers = 2;
    REQUIRE(assess(s, rules).level == Level::below);
    s.voice.closing = 0.8;  // "oh lovely, thank you for calling them!"
    REQUIRE(assess(s, rules).level == Level::met);
  }
  SECTION("a workaround or a 3-4 rating cannot pass met") {
    auto s = fast_and_routine();
    s.voice.agent_beyond = "I've also";
    s.voice.closing_warmth = 4;
    REQUIRE(assess(s, rules).level == Level::exceeded);
    s.outcome = Outcome::workaround;
    REQUIRE(assess(s, rules).level == Level::met);
    s.outcome.reset();
    s.rating = 4;
    REQUIRE(assess(s, rules).level == Level::met);
  }
}

TEST_CASE("a rough start that ends warm is a recovery, and a cold message on the way that does not is frustration") {
  AssessmentRules rules;
  auto s = plain();
  s.voice.lowest = -0.6;
  s.voice.lowest_words = "ridiculous";
  auto frustrated = assess(s, rules);
  REQUIRE(find(frustrated.reasons, "frustrated").points == rules.w_frustration);
  s.voice.recovered = true;
  s.voice.closing_words = "that's a relief";
  auto recovered = assess(s, rules);
  REQUIRE(find(recovered.reasons, "recovered").text ==
          "a rough start that ended warm: customer: \"ridiculous\" then customer: \"that's a relief\"");
}

TEST_CASE("an agent who could not give what was asked counts against, unless the customer ends warm") {
  AssessmentRules rules;
  auto s = plain();
  s.voice.agent_refusal = "unfortunately";
  REQUIRE(has(assess(s, rules).reasons, "could_not_help"));
  s.voice.closing = 0.7;
  REQUIRE_FALSE(has(assess(s, rules).reasons, "could_not_help"));
}

TEST_CASE("confidence says how much there was to go on") {
  AssessmentRules rules;
  SECTION("nothing after the answer and no CSAT: low, and a check-in candidate") {
    auto s = plain();
    s.voice = Voice{};
    s.voice.messages = 1;
    auto a = assess(s, rules);
    REQUIRE(a.confidence == Confidence::low);
    REQUIRE(a.check_in);
    REQUIRE(a.level == Level::met);
  }
  SECTION("words after the answer, or the solved tap: medium") {
    auto s = plain();
    REQUIRE(assess(s, rules).confidence == Confidence::medium);
    s.voice = Voice{};
    s.customer_solved = true;
    REQUIRE(assess(s, rules).confidence == Confidence::medium);
  }
  SECTION("a rating or a verdict: high") {
    auto s = plain();
    s.rating = 4;
    REQUIRE(assess(s, rules).confidence == Confidence::high);
    REQUIRE_FALSE(assess(s, rules).check_in);
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
  SECTION("a chat with every hard failure the customer calls exceeded is exceeded") {
    auto s = plain();
    s.first_response = 300'000;
    s.transfers = 3;
    s.voice.gave_up = "never mind";
    s.expectation = Level::exceeded;
    REQUIRE(assess(s, rules).level == Level::exceeded);
  }
  SECTION("a delighted chat the customer calls below is below") {
    auto s = plain();
    s.voice.closing_warmth = 5;
    s.voice.agent_beyond = "I've also";
    s.expectation = Level::below;
    REQUIRE(assess(s, rules).level == Level::below);
  }
}

TEST_CASE("a chat record turns into signals: response times, transfers, repeats and the facts people gave") {
  ChatRecord c;
  c.created_at = 1'000'000;
  c.assigned_at = 1'010'000;
  c.resolved_at = 1'200'000;
  c.lines = {{true, "", 1'000'000, "Where is my parcel 5512?"},
             {false, "ann", 1'030'000, "Let me check."},
             {true, "", 1'040'000, "Where is my parcel 5512?"},
             {false, "bob", 1'100'000, "It arrives today."}};
  c.rating = 4;
  c.customer_solved = true;
  c.outcome = Outcome::workaround;
  c.went_beyond = "sent a voucher";
  SlaPolicy policy{"default", 60'000, 30'000, 0, 0.8};
  AssessmentRules rules;
  auto times = measure(clock_events(c));
  auto s = observe(c, times, policy, rules);
  REQUIRE(*s.first_response == 30'000);
  REQUIRE(*s.queue_wait == 10'000);
  REQUIRE(s.next_response_breaches == 1);  // 60 s against a 30 s target
  REQUIRE(s.repeated_questions == 1);
  REQUIRE(s.agents_seen == 2);
  REQUIRE(s.transfers == 1);  // a second agent answered: at least one transfer
  REQUIRE(s.customer_messages_before_reply == 1);
  REQUIRE(*s.rating == 4);
  REQUIRE(*s.customer_solved);
  REQUIRE(*s.outcome == Outcome::workaround);
  REQUIRE(s.went_beyond == "sent a voucher");
  REQUIRE(s.voice.messages == 0);  // no language without a lexicon
}

TEST_CASE("durations and names read like a person writes them") {
  REQUIRE(human_duration(45'000) == "45s");
  REQUIRE(human_duration(252'000) == "4m12s");
  REQUIRE(human_duration(60'000) == "1m00s");
  REQUIRE(human_duration(3'780'000) == "1h03m");
  REQUIRE(parse_level("met") == Level::met);
  REQUIRE_FALSE(parse_level("great"));
  REQUIRE(parse_outcome("not_solved") == Outcome::not_solved);
  REQUIRE_FALSE(parse_outcome("fixed"));
  REQUIRE(to_string(Confidence::low) == "low");
}
