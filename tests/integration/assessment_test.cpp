// The service assessment through the real server: a late first response
// only meets the customer's needs and goes to review; the customer's own
// "exceeded" decides; supervisors mark reviews done.
#include "harness.hpp"

#include <fstream>
#include <map>
#include <thread>

using namespace exceed::test;
using namespace std::chrono_literals;

namespace {

Env config_with_fast_sla() {
  return config_env("[sla.default]\nfirst_response_s = 1\nnext_response_s = 60\nresolution_s = 3600\n");
}

auto assessment_of(std::string const& conv) {
  return [conv](Frame const& f) { return is_type(f, "assessment") && f.at("conversation_id").as_string() == conv; };
}

bool has_reason(json::value const& assessment, std::string const& code) {
  for (auto const& r : assessment.at("reasons").as_array())
    if (r.at("code").as_string() == code) return true;
  return false;
}

// One agent (ann, online), one supervisor watching (boss), and a customer
// (casey) whose chat ann has accepted.
struct Floor {
  struct People {
    Person ann, boss, casey;
  } people;
  std::string conv;
};

Floor floor_with_chat(Deployment& d, std::string const& first_message) {
  d.user("ann");
  d.user("boss", "supervisor");
  Floor f{{agent(d.port(), "ann"), agent(d.port(), "boss", false), customer(d.port())}, ""};
  f.conv = start_chat(f.people.casey, first_message);
  accept(f.people.ann, f.conv);
  return f;
}

// Ann answers and resolves the floor's chat.
void answer_and_resolve(Floor& f, std::string const& answer) {
  REQUIRE(ok(send(f.people.ann, f.conv, answer, "a-1")));
  REQUIRE(ok(f.people.ann->request(frame({{"type", "conversation.resolve"}, {"conversation_id", f.conv}}))));
}

}  // namespace

TEST_CASE("a chat answered after the first-response target only met the need, with that reason, and is reviewed") {
  Deployment d(config_with_fast_sla());
  auto floor = floor_with_chat(d, "Is the blue one in stock?");
  auto& [ann, boss, casey] = floor.people;
  auto conv = floor.conv;
  // The scenario needs the first answer to come after the 1 s target.
  std::this_thread::sleep_for(1200ms);
  REQUIRE(ok(send(ann, conv, "Yes, it is.", "a-1")));
  REQUIRE(ok(ann->request(frame({{"type", "conversation.resolve"}, {"conversation_id", conv}}))));

  auto ev = boss->expect(assessment_of(conv), 5s, "the assessment");
  REQUIRE(ev.at("level").as_string() == "met");
  REQUIRE(has_reason(ev, "first_response_breach"));
  REQUIRE(ev.at("sla_policy").as_string() == "default");
  auto const& breach = ev.at("reasons").as_array();
  bool worded = false;
  for (auto const& r : breach)
    if (r.at("code") == "first_response_breach") worded = r.at("text").as_string().find("against a 1s target") != std::string::npos;
  REQUIRE(worded);
  REQUIRE_FALSE(ev.at("would_have_exceeded").as_array().empty());

  auto list = boss->request(frame({{"type", "review.list"}}));
  REQUIRE(ok(list));
  REQUIRE(list.at("items").as_array().size() == 1);
  REQUIRE(list.at("items").at(0).at("conversation_id").as_string() == conv);
  REQUIRE(code_of(ann->request(frame({{"type", "review.list"}}))) == "forbidden");

  auto token = login(d.port(), "boss", "password123");
  auto get = http(d.port(), "GET", "/api/v1/conversations/" + conv, "", {{"Authorization", "Bearer " + token}}).json();
  REQUIRE(get.at("assessment").at("level").as_string() == "met");
  REQUIRE(get.at("response_times").at("first_response_s").as_double() >= 1.0);

  auto filtered = http(d.port(), "GET", "/api/v1/reviews?reason=first_response_breach&level=met", "",
                       {{"Authorization", "Bearer " + token}}).json();
  REQUIRE(filtered.at("items").as_array().size() == 1);
  REQUIRE(http(d.port(), "GET", "/api/v1/reviews?reason=rating_5", "", {{"Authorization", "Bearer " + token}})
              .json().at("items").as_array().empty());
  REQUIRE(http(d.port(), "GET", "/api/v1/reviews", "", {{"Authorization", "Bearer " + ann.token}}).status == 403);

  auto marked = http(d.port(), "POST", "/api/v1/reviews/" + conv, R"({"note":"Coached: greet within the minute"})",
                     {{"Authorization", "Bearer " + token}});
  REQUIRE(marked.status == 200);
  REQUIRE(boss->request(frame({{"type", "review.list"}})).at("items").as_array().empty());
  auto done = http(d.port(), "GET", "/api/v1/reviews?reviewed=true", "", {{"Authorization", "Bearer " + token}}).json();
  REQUIRE(done.at("items").at(0).at("review_note").as_string() == "Coached: greet within the minute");
  REQUIRE(http(d.port(), "POST", "/api/v1/reviews/" + conv, "{}", {{"Authorization", "Bearer " + token}}).status == 404);
}

TEST_CASE("the customer's own verdict decides, also when it comes late, and leaves the review list") {
  Deployment d;
  auto floor = floor_with_chat(d, "Can I return this?");
  auto& [ann, boss, casey] = floor.people;
  auto conv = floor.conv;
  answer_and_resolve(floor, "Of course, here is the label.");
  auto first = boss->expect(assessment_of(conv), 5s);
  REQUIRE(first.at("level").as_string() == "met");  // correct, nothing more, as far as signals tell
  REQUIRE(boss->request(frame({{"type", "review.list"}})).at("items").as_array().size() == 1);

  REQUIRE(ok(casey->request(frame({{"type", "csat.submit"}, {"conversation_id", conv}, {"rating", 5},
                                   {"expectation", "exceeded"}, {"comment", "Lovely!"}}))));
  auto second = boss->expect(assessment_of(conv), 5s, "the assessment after the CSAT");
  REQUIRE(second.at("level").as_string() == "exceeded");
  REQUIRE(second.at("by_customer").as_bool());
  REQUIRE(second.at("trigger").as_string() == "csat");
  REQUIRE(second.at("reasons").at(0).at("code").as_string() == "customer_verdict");
  REQUIRE(boss->request(frame({{"type", "review.list"}})).at("items").as_array().empty());
  REQUIRE(redis_cli(d.redis.port(), "XLEN exceed:conv:" + conv + ":assessments") == "2");  // the history of levels

  // Consistency: one conversation in the window, exceeded, in one day.
  auto token = login(d.port(), "boss", "password123");
  auto report = http(d.port(), "GET", "/api/v1/reports/consistency?team=support", "", {{"Authorization", "Bearer " + token}});
  REQUIRE(report.status == 200);
  REQUIRE(report.json().at("conversations").as_int64() == 1);
  REQUIRE(report.json().at("exceeded_share").as_double() == 1.0);
  REQUIRE(report.json().at("buckets").as_array().size() == 1);
  REQUIRE(report.json().at("first_response_p50_s").is_number());
  REQUIRE(http(d.port(), "GET", "/api/v1/reports/consistency?team=support&bucket=month", "", {{"Authorization", "Bearer " + token}}).status == 400);
  REQUIRE(http(d.port(), "GET", "/api/v1/reports/consistency?team=support", "", {{"Authorization", "Bearer " + casey.token}}).status == 403);
  REQUIRE(http(d.port(), "GET", "/api/v1/reports/consistency?agent=" + ann.id, "", {{"Authorization", "Bearer " + ann.token}}).status == 200);

  SECTION("bad CSAT answers") {
    auto mallory = customer(d.port(), "Mallory");
    REQUIRE(code_of(casey->request(frame({{"type", "csat.submit"}, {"conversation_id", conv}, {"rating", 6}, {"expectation", "met"}}))) == "bad_request");
    REQUIRE(code_of(casey->request(frame({{"type", "csat.submit"}, {"conversation_id", conv}, {"rating", 0}, {"expectation", "met"}}))) == "bad_request");
    REQUIRE(code_of(casey->request(frame({{"type", "csat.submit"}, {"conversation_id", conv}, {"rating", 4}, {"expectation", "fine"}}))) == "bad_request");
    REQUIRE(code_of(mallory->request(frame({{"type", "csat.submit"}, {"conversation_id", conv}, {"rating", 4}, {"expectation", "met"}}))) == "forbidden");
    REQUIRE(code_of(casey->request(frame({{"type", "csat.submit"}, {"conversation_id", conv}, {"rating", 4}, {"expectation", "met"}}))) == "conflict");
  }
}

TEST_CASE("an SLA warning reaches the agent before the breach, and attainment is reported") {
  Deployment d(config_env("[sla.default]\nfirst_response_s = 2\nwarning_ratio = 0.5\n"));
  auto floor = floor_with_chat(d, "Hello, anyone?");
  auto& [ann, boss, casey] = floor.people;
  auto conv = floor.conv;
  auto sla = [&](bool breached) {
    return [&conv, breached](Frame const& f) {
      return is_type(f, "sla.warning") && f.at("conversation_id").as_string() == conv &&
             f.at("metric").as_string() == "first_response" && f.at("breached").as_bool() == breached;
    };
  };
  auto warning = ann->expect(sla(false), 5s, "the warning");
  REQUIRE(warning.at("due_in_s").as_int64() >= 0);
  REQUIRE(warning.at("due_in_s").as_int64() <= 2);
  auto breach = ann->expect(sla(true), 5s, "the breach");
  REQUIRE(breach.at("due_in_s").as_int64() == 0);
  boss->expect(sla(true), 5s, "the breach, for the supervisors");
  REQUIRE(ok(send(ann, conv, "Sorry, here now", "a-1")));
  REQUIRE(ann->none(sla(true), 600ms));  // once
  auto token = login(d.port(), "boss", "password123");
  auto report = http(d.port(), "GET", "/api/v1/reports/sla?team=support", "", {{"Authorization", "Bearer " + token}}).json();
  REQUIRE(report.at("first_response").at("breached").as_int64() == 1);
  REQUIRE(report.at("first_response").at("attainment_pct").as_double() == 0.0);
  auto by_agent = http(d.port(), "GET", "/api/v1/reports/sla?agent=" + ann.id, "", {{"Authorization", "Bearer " + token}}).json();
  REQUIRE(by_agent.at("first_response").at("breached").as_int64() == 1);
  REQUIRE(http(d.port(), "GET", "/api/v1/reports/sla", "", {{"Authorization", "Bearer " + token}}).status == 400);
}

TEST_CASE("a CSAT answer through the signed link, within the window, and forged links and late answers refused") {
  Deployment d;
  auto floor = floor_with_chat(d, "Hello");
  auto& [ann, boss, casey] = floor.people;
  auto conv = floor.conv;
  REQUIRE(ok(ann->request(frame({{"type", "conversation.resolve"}, {"conversation_id", conv}}))));
  auto request = casey->expect_type("csat.request");
  auto link = str(request, "link");
  REQUIRE(link.rfind("/api/v1/csat/", 0) == 0);
  REQUIRE(request.at("expires_at").as_int64() > 0);

  REQUIRE(http(d.port(), "POST", link + "x", R"({"rating":5,"expectation":"exceeded"})").status == 401);
  REQUIRE(http(d.port(), "POST", link, R"({"rating":9,"expectation":"exceeded"})").status == 400);
  REQUIRE(http(d.port(), "POST", link, R"({"rating":5,"expectation":"wow"})").status == 400);
  auto answered = http(d.port(), "POST", link, R"({"rating":5,"expectation":"exceeded","comment":"Thanks!"})");
  REQUIRE(answered.status == 200);
  auto again = boss->expect([&](Frame const& f) {
    return is_type(f, "assessment") && f.at("conversation_id").as_string() == conv && f.at("trigger") == "csat";
  });
  REQUIRE(again.at("level").as_string() == "exceeded");
  REQUIRE(http(d.port(), "POST", link, R"({"rating":1,"expectation":"below"})").status == 409);
}

TEST_CASE("past the CSAT window an answer is refused") {
  Deployment d(Env{{"EXCEED_ASSESSMENT_CSAT_WINDOW_S", "0"}});
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey, "Hello");
  accept(ann, conv);
  REQUIRE(ok(ann->request(frame({{"type", "conversation.resolve"}, {"conversation_id", conv}}))));
  auto late = casey->request(frame({{"type", "csat.submit"}, {"conversation_id", conv}, {"rating", 4}, {"expectation", "met"}}));
  REQUIRE(code_of(late) == "conflict");
  REQUIRE(str(late, "message").find("time to answer has passed") != std::string::npos);
}

TEST_CASE("a customer back with a new chat within the reopen window: the last one was not resolved in one contact") {
  Deployment d;
  auto floor = floor_with_chat(d, "My discount code fails");
  auto& [ann, boss, casey] = floor.people;
  auto first = floor.conv;
  REQUIRE(ok(send(ann, first, "Try it again now.", "a-1")));
  REQUIRE(ok(ann->request(frame({{"type", "conversation.resolve"}, {"conversation_id", first}}))));
  auto before = boss->expect(assessment_of(first), 5s);
  bool one_contact = false;
  for (auto const& r : before.at("reasons").as_array()) one_contact = one_contact || r.at("code") == "one_contact";
  REQUIRE(one_contact);
  auto second = start_chat(casey, "It still fails");
  auto after = boss->expect([&](Frame const& f) {
    return is_type(f, "assessment") && f.at("conversation_id").as_string() == first && f.at("trigger") == "reopened";
  }, 5s, "the re-assessment");
  bool reopened = false;
  for (auto const& r : after.at("reasons").as_array()) reopened = reopened || r.at("code") == "reopened";
  REQUIRE(reopened);
  REQUIRE(after.at("score").as_double() < before.at("score").as_double());
  REQUIRE(second != first);
}

TEST_CASE("any part of the CSAT answer counts on its own, each part once, over WebSocket and the link") {
  Deployment d;
  auto floor = floor_with_chat(d, "Can I swap my order to size L?");
  auto& [ann, boss, casey] = floor.people;
  auto conv = floor.conv;
  answer_and_resolve(floor, "Done, it's now an L.");
  auto link = str(casey->expect_type("csat.request"), "link");
  boss->expect(assessment_of(conv), 5s, "the first assessment");
  auto csat = [&](std::initializer_list<std::pair<json::string_view, json::value_ref>> parts) {
    auto f = frame({{"type", "csat.submit"}, {"conversation_id", conv}});
    for (auto const& [k, v] : parts) f[k] = json::value(v);
    return casey->request(f);
  };

  SECTION("the tap, then the stars alone, then a comment alone through the link") {
    auto tap = csat({{"solved", true}});
    REQUIRE(ok(tap));
    REQUIRE(tap.at("solved").as_bool());
    REQUIRE(tap.at("rating").is_null());
    auto after_tap = boss->expect(assessment_of(conv), 5s, "the assessment after the tap");
    REQUIRE(after_tap.at("facts").at("customer_solved").as_bool());
    REQUIRE(after_tap.at("confidence").as_string() == "medium");

    auto stars = csat({{"rating", 5}});
    REQUIRE(ok(stars));
    REQUIRE(stars.at("rating").as_int64() == 5);
    auto rated = boss->expect(assessment_of(conv), 5s, "the assessment after the stars");
    REQUIRE(has_reason(rated, "rating_5"));
    REQUIRE(rated.at("confidence").as_string() == "high");
    REQUIRE_FALSE(rated.at("by_customer").as_bool());  // a rating is evidence, not the verdict

    auto comment = http(d.port(), "POST", link, R"({"comment":"Quick and kind, thank you!"})");
    REQUIRE(comment.status == 200);
    REQUIRE(comment.json().at("comment").as_string() == "Quick and kind, thank you!");
    REQUIRE(comment.json().at("rating").as_int64() == 5);

    REQUIRE(code_of(csat({{"rating", 4}})) == "conflict");  // each part once
    REQUIRE(http(d.port(), "POST", link, R"({"solved":false})").status == 409);
    REQUIRE(ok(csat({{"expectation", "exceeded"}})));  // the verdict may still come
    auto decided = boss->expect([&](Frame const& f) {
      return is_type(f, "assessment") && f.at("conversation_id").as_string() == conv && f.at("by_customer").as_bool();
    }, 5s, "the customer's verdict");
    REQUIRE(decided.at("level").as_string() == "exceeded");
  }
  SECTION("a rating alone through the link") {
    auto r = http(d.port(), "POST", link, R"({"rating":2})");
    REQUIRE(r.status == 200);
    auto judged = boss->expect(assessment_of(conv), 5s, "the assessment after the rating");
    REQUIRE(judged.at("level").as_string() == "below");  // a 1-2 is a hard failure
    REQUIRE(judged.at("hard_failures").at(0).as_string() == "rating_1_2");
  }
  SECTION("bad answers: nothing given, wrong types, wrong values") {
    REQUIRE(code_of(csat({})) == "bad_request");
    REQUIRE(code_of(csat({{"solved", "yes"}})) == "bad_request");
    REQUIRE(code_of(csat({{"rating", 0}})) == "bad_request");
    REQUIRE(code_of(csat({{"expectation", "fine"}})) == "bad_request");
    REQUIRE(http(d.port(), "POST", link, "{}").status == 400);
    REQUIRE(http(d.port(), "POST", link, R"({"rating":"5"})").status == 400);
    REQUIRE(http(d.port(), "POST", link, R"({"comment":""})").status == 400);
  }
}

TEST_CASE("the agent records the outcome and what went beyond, and the review list shows them with confidence and quoted words") {
  Deployment d;
  auto floor = floor_with_chat(d, "My blender jug arrived cracked");
  auto& [ann, boss, casey] = floor.people;
  auto conv = floor.conv;
  REQUIRE(ok(send(ann, conv, "Sorry! A new jug is on its way.", "a-1")));
  REQUIRE(ok(send(casey, conv, "That took forever to sort out.", "c-1")));
  auto outcome = [&](Person& who, std::initializer_list<std::pair<json::string_view, json::value_ref>> parts) {
    auto f = frame({{"type", "conversation.outcome"}, {"conversation_id", conv}});
    for (auto const& [k, v] : parts) f[k] = json::value(v);
    return who->request(f);
  };
  auto recorded = outcome(ann, {{"outcome", "workaround"}});
  REQUIRE(ok(recorded));
  REQUIRE(recorded.at("outcome").as_string() == "workaround");
  REQUIRE(recorded.at("went_beyond").is_null());
  REQUIRE(code_of(outcome(ann, {})) == "bad_request");
  REQUIRE(code_of(outcome(ann, {{"outcome", "fixed"}})) == "bad_request");
  REQUIRE(code_of(outcome(casey, {{"outcome", "solved"}})) == "forbidden");
  REQUIRE(ok(ann->request(frame({{"type", "conversation.resolve"}, {"conversation_id", conv}}))));
  auto first = boss->expect(assessment_of(conv), 5s, "the assessment");
  REQUIRE(first.at("level").as_string() == "below");
  bool quoted = false;
  for (auto const& r : first.at("reasons").as_array())
    if (r.at("code") == "dissatisfied") quoted = r.at("evidence").as_string() == "took forever";
  REQUIRE(quoted);

  REQUIRE(ok(outcome(ann, {{"outcome", "solved"}, {"went_beyond", "Refunded the delivery fee"}})));
  auto again = boss->expect([&](Frame const& f) {
    return is_type(f, "assessment") && f.at("conversation_id").as_string() == conv && f.at("trigger") == "outcome";
  }, 5s, "the assessment after the outcome");
  REQUIRE(has_reason(again, "went_beyond"));
  REQUIRE(again.at("facts").at("went_beyond").as_string() == "Refunded the delivery fee");

  auto list = boss->request(frame({{"type", "review.list"}}));
  REQUIRE(ok(list));
  auto const& item = list.at("items").at(0);
  REQUIRE(item.at("facts").at("outcome").as_string() == "solved");
  REQUIRE(item.at("facts").at("went_beyond").as_string() == "Refunded the delivery fee");
  REQUIRE(item.at("confidence").as_string() == "medium");
}

TEST_CASE("a chat with nothing to go on is assessed with low confidence and gets a check-in follow-up") {
  Deployment d;
  auto floor = floor_with_chat(d, "Do you deliver to Ireland?");
  auto& [ann, boss, casey] = floor.people;
  auto conv = floor.conv;
  answer_and_resolve(floor, "We do, 3-5 working days.");
  auto judged = boss->expect(assessment_of(conv), 5s, "the assessment");
  REQUIRE(judged.at("confidence").as_string() == "low");
  REQUIRE(judged.at("check_in").as_bool());
  auto list = boss->request(frame({{"type", "review.list"}}));
  REQUIRE(list.at("items").at(0).at("confidence").as_string() == "low");
  auto followups = http(d.port(), "GET", "/api/v1/followups?conversation_id=" + conv, "",
                        {{"Authorization", "Bearer " + ann.token}});
  REQUIRE(followups.status == 200);
  bool check_in = false;
  auto items = followups.json().at("items").as_array();
  for (auto const& f : items)
    check_in = check_in || (f.at("kind") == "check_in" && f.at("note").as_string().find("exceeding your needs") != std::string::npos);
  REQUIRE(check_in);
  // Reports count them apart.
  auto token = login(d.port(), "boss", "password123");
  auto summary = http(d.port(), "GET", "/api/v1/reports/summary", "", {{"Authorization", "Bearer " + token}});
  REQUIRE(summary.status == 200);
  REQUIRE(summary.json().at("totals").at("assessments").at("low_confidence").as_int64() == 1);
}

TEST_CASE("two transfers are a hard failure, whatever the routine points") {
  Deployment d;
  auto floor = floor_with_chat(d, "I need my tax certificate");
  auto& [ann, boss, casey] = floor.people;
  auto conv = floor.conv;
  d.user("bob");
  d.user("cat");
  auto bob = agent(d.port(), "bob");
  auto cat = agent(d.port(), "cat");
  REQUIRE(ok(ann->request(frame({{"type", "conversation.transfer"}, {"conversation_id", conv}, {"to_agent_id", bob.id}}))));
  REQUIRE(ok(bob->request(frame({{"type", "conversation.transfer"}, {"conversation_id", conv}, {"to_agent_id", cat.id}}))));
  REQUIRE(ok(send(cat, conv, "Here it is, attached.", "c-1")));
  REQUIRE(ok(cat->request(frame({{"type", "conversation.resolve"}, {"conversation_id", conv}}))));
  auto judged = boss->expect(assessment_of(conv), 5s, "the assessment");
  REQUIRE(judged.at("level").as_string() == "below");
  REQUIRE(has_reason(judged, "transferred"));
  REQUIRE(redis_cli(d.redis.port(), "HGET exceed:conv:" + conv + " transfers") == "2");
}

TEST_CASE("the review list carries each chat's stage of purchase and narrows to one, over WebSocket and REST") {
  Deployment d;
  d.user("ann");
  d.user("boss", "supervisor");
  auto ann = agent(d.port(), "ann");
  auto boss = agent(d.port(), "boss", false);
  // One chat asked before buying (the page named the stage), one with no stage.
  auto shopper = customer(d.port());
  auto started = shopper->request(frame({{"type", "conversation.start"},
                                         {"text", "Does the jug fit the older base?"},
                                         {"context", {{"stage", "pre_purchase"}}}}));
  REQUIRE(ok(started));
  auto before = str(started, "conversation_id");
  accept(ann, before);
  auto other = customer(d.port());
  auto none = start_chat(other, "Where is my parcel?");
  accept(ann, none);
  // Both end with the customer unhappy, so both are on the list.
  for (auto [who, conv] : {std::pair{&shopper, before}, std::pair{&other, none}}) {
    REQUIRE(ok(send(ann, conv, "Let me check that for you.", "a-" + conv)));
    REQUIRE(ok(send(*who, conv, "That took forever to sort out.", "c-" + conv)));
    REQUIRE(ok(ann->request(frame({{"type", "conversation.resolve"}, {"conversation_id", conv}}))));
    boss->expect(assessment_of(conv), 5s, "the assessment");
  }

  auto ids = [](json::value const& list) {
    std::map<std::string, json::value> out;
    for (auto const& it : list.at("items").as_array()) out[std::string(it.at("conversation_id").as_string())] = it.at("stage");
    return out;
  };
  auto all = ids(boss->request(frame({{"type", "review.list"}})));
  REQUIRE(all.size() == 2);
  REQUIRE(all.at(before).as_string() == "pre_purchase");
  REQUIRE(all.at(none).is_null());

  auto pre = ids(boss->request(frame({{"type", "review.list"}, {"stage", "pre_purchase"}})));
  REQUIRE(pre.size() == 1);
  REQUIRE(pre.count(before) == 1);
  REQUIRE(code_of(boss->request(frame({{"type", "review.list"}, {"stage", "browsing"}}))) == "bad_request");

  auto token = login(d.port(), "boss", "password123");
  std::vector<std::pair<std::string, std::string>> auth{{"Authorization", "Bearer " + token}};
  auto rest_none = http(d.port(), "GET", "/api/v1/reviews?stage=none", "", auth);
  REQUIRE(rest_none.status == 200);
  auto without = ids(rest_none.json());
  REQUIRE(without.size() == 1);
  REQUIRE(without.count(none) == 1);
  REQUIRE(ids(http(d.port(), "GET", "/api/v1/reviews?stage=post_purchase", "", auth).json()).empty());
  REQUIRE(http(d.port(), "GET", "/api/v1/reviews?stage=browsing", "", auth).status == 400);

  // The consistency view splits the same way.
  auto consistency = http(d.port(), "GET", "/api/v1/reports/consistency?stage=pre_purchase", "", auth);
  REQUIRE(consistency.status == 200);
  REQUIRE(consistency.json().at("stage").as_string() == "pre_purchase");
  REQUIRE(consistency.json().at("conversations").as_int64() == 1);
  REQUIRE(consistency.json().at("below_share").as_double() == 1.0);
}
