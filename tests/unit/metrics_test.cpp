// The metrics aggregator driven through a scripted day with a fake clock:
// every live figure at several moments, and every report figure, checked
// against what the day's events imply. Also the Prometheus text format.
#include "core/metrics.hpp"
#include "core/prometheus.hpp"
#include "core/schedule.hpp"

#include <catch2/catch.hpp>

#include <map>

#include <algorithm>
#include <fstream>
#include <sstream>

using namespace exceed::core;

namespace {

Millis at(std::string const& hhmmss) { return parse_rfc3339("2026-03-10T" + hhmmss + "Z").value(); }
constexpr Millis s = 1000;
constexpr Millis hour = 3600 * s;

// One conversation of the day, as its events happen.
struct Script {
  ConversationFacts facts;
  std::vector<Sample> samples;
};

// The day: seven conversations over two teams and two agents.
std::vector<Script> scripted_day() {
  std::vector<Script> day;
  auto conv = [&](std::string id, std::string team, std::string start) -> Script& {
    auto& c = day.emplace_back();
    c.facts.id = std::move(id);
    c.facts.team = std::move(team);
    c.facts.started = at(start);
    return c;
  };
  auto customer_writes = [](Script& c, std::string when) { c.facts.first_customer = at(when); };
  auto assigned = [](Script& c, std::string agent, std::string when) {
    c.facts.agent = agent;
    c.facts.assigned = at(when);
    c.samples.push_back({Sample::Kind::queue_wait, at(when), c.facts.id, c.facts.team, agent,
                         c.facts.assigned - c.facts.started, "", ""});
  };
  auto replied = [](Script& c, std::string when) {
    c.facts.first_response = at(when);
    c.samples.push_back({Sample::Kind::first_response, at(when), c.facts.id, c.facts.team, c.facts.agent,
                         c.facts.first_response - c.facts.first_customer, "", ""});
  };
  auto breach = [](Script& c, std::string metric, std::string when) {
    ++c.facts.sla[metric].breached;
    c.samples.push_back({Sample::Kind::sla_breach, at(when), c.facts.id, c.facts.team, c.facts.agent, 0, metric, ""});
  };
  auto met = [](Script& c, std::string metric, int n = 1) { c.facts.sla[metric].met += n; };
  auto resolved = [](Script& c, std::string when) {
    c.facts.resolved = at(when);
    c.facts.ended = true;
  };
  auto assessed = [](Script& c, std::string level, std::string when) {
    c.facts.level = level;
    c.samples.push_back({Sample::Kind::assessed, at(when), c.facts.id, c.facts.team, c.facts.agent, 0, "", level});
  };

  auto& c1 = conv("c1", "sales", "09:00:00");
  customer_writes(c1, "09:00:00");
  assigned(c1, "a1", "09:00:30");
  replied(c1, "09:01:00");
  met(c1, "first_response");
  resolved(c1, "09:10:00");
  c1.facts.csat = 5;
  assessed(c1, "exceeded", "09:10:00");

  auto& c2 = conv("c2", "sales", "09:20:00");
  customer_writes(c2, "09:20:00");
  breach(c2, "first_response", "09:22:00");  // the 2-minute target ran out before anybody took it
  assigned(c2, "a1", "09:22:00");
  replied(c2, "09:25:00");
  resolved(c2, "10:00:00");
  c2.facts.csat = 3;
  assessed(c2, "met", "10:00:00");
  assessed(c2, "exceeded", "12:00:00");  // the promised follow-up was done: re-assessed

  auto& c3 = conv("c3", "support", "10:05:00");
  customer_writes(c3, "10:05:00");
  assigned(c3, "a2", "10:05:10");
  replied(c3, "10:05:40");
  met(c3, "first_response");
  met(c3, "next_response", 2);
  breach(c3, "next_response", "10:15:00");
  resolved(c3, "10:30:00");
  c3.facts.csat = 4;
  assessed(c3, "exceeded", "10:30:00");

  auto& c4 = conv("c4", "support", "11:00:00");  // waited, gave up: missed
  customer_writes(c4, "11:00:00");
  c4.facts.ended = true;

  auto& c6 = conv("c6", "support", "14:00:00");  // taken, not answered yet
  customer_writes(c6, "14:00:00");
  assigned(c6, "a2", "14:01:00");

  auto& c7 = conv("c7", "sales", "15:00:00");
  customer_writes(c7, "15:00:00");
  assigned(c7, "a1", "15:00:20");
  replied(c7, "15:00:50");
  met(c7, "first_response");
  resolved(c7, "15:20:00");
  c7.facts.csat = 1;
  assessed(c7, "below", "15:20:00");

  auto& c5 = conv("c5", "sales", "23:30:00");  // nobody online: kept as a ticket
  customer_writes(c5, "23:30:00");
  c5.facts.ticketed_at_start = true;
  c5.facts.ended = true;
  return day;
}

// The live window as it stands at `now`, fed everything that happened by then.
LiveWindow window_at(Millis now) {
  std::vector<Sample> all;
  for (auto const& c : scripted_day())
    for (auto const& sm : c.samples)
      if (sm.at <= now) all.push_back(sm);
  std::stable_sort(all.begin(), all.end(), [](auto const& a, auto const& b) { return a.at < b.at; });
  LiveWindow w;
  for (auto& sm : all) w.add(sm);
  return w;
}

std::vector<ConversationFacts> facts() {
  std::vector<ConversationFacts> out;
  for (auto const& c : scripted_day()) out.push_back(c.facts);
  return out;
}

}  // namespace

TEST_CASE("percentiles are nearest-rank: always a value that was observed") {
  CHECK_FALSE(percentile({}, 50));
  CHECK(percentile({7}, 50) == 7);
  CHECK(percentile({7}, 90) == 7);
  CHECK(percentile({40, 300, 60, 50}, 50) == 50);
  CHECK(percentile({40, 300, 60, 50}, 90) == 300);
  CHECK(percentile({10, 20, 30, 60, 120}, 50) == 30);
  CHECK(percentile({10, 20, 30, 60, 120}, 90) == 120);
  std::vector<Millis> hundred;
  for (Millis i = 1; i <= 100; ++i) hundred.push_back(101 - i);
  CHECK(percentile(hundred, 50) == 50);
  CHECK(percentile(hundred, 90) == 90);
  CHECK(percentile(hundred, 100) == 100);
}

TEST_CASE("the day starts at local midnight") {
  CHECK(start_of_day(at("15:30:12"), TimeZone::utc()) == at("00:00:00"));
  CHECK(start_of_day(at("00:00:00"), TimeZone::utc()) == at("00:00:00"));
  std::ifstream in("/usr/share/zoneinfo/Europe/Berlin", std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  auto berlin = TimeZone::from_tzif(ss.str());
  REQUIRE(berlin);
  // 23:30 UTC on 10 March is 00:30 on the 11th in Berlin (UTC+1 in March).
  CHECK(start_of_day(at("23:30:00"), *berlin) == at("23:00:00"));
}

TEST_CASE("scripted day: the live window at 09:30, the last hour") {
  auto f = window_at(at("09:30:00")).figures(at("09:30:00"), hour, at("00:00:00"));
  CHECK(f.window == hour);
  CHECK(f.first_response_p50 == 60 * s);   // c1 60 s, c2 300 s
  CHECK(f.first_response_p90 == 300 * s);
  CHECK(f.queue_wait_p50 == 30 * s);       // c1 30 s, c2 120 s
  CHECK(f.queue_wait_p90 == 120 * s);
  CHECK(f.sla_breaches == 1);
  CHECK(f.assessed == 1);
  CHECK(f.exceeded == 1);
  CHECK(f.exceeded_rate == Approx(1.0));
}

TEST_CASE("scripted day: at 10:30 the window has slid past c1") {
  auto f = window_at(at("10:30:00")).figures(at("10:30:00"), hour, at("00:00:00"));
  CHECK(f.first_response_p50 == 40 * s);  // only c3
  CHECK(f.first_response_p90 == 40 * s);
  CHECK(f.queue_wait_p50 == 10 * s);
  CHECK(f.sla_breaches == 1);             // c3's next response; c2's was at 09:22
  CHECK(f.assessed == 2);                 // c2 met at 10:00, c3 exceeded at 10:30
  CHECK(f.exceeded == 1);
  CHECK(f.exceeded_rate == Approx(0.5));
}

TEST_CASE("scripted day: a re-assessment replaces the earlier level") {
  auto w = window_at(at("12:30:00"));
  auto last_hour = w.figures(at("12:30:00"), hour, at("00:00:00"));
  CHECK_FALSE(last_hour.first_response_p50);
  CHECK_FALSE(last_hour.first_response_p90);
  CHECK_FALSE(last_hour.queue_wait_p50);
  CHECK(last_hour.sla_breaches == 0);
  CHECK(last_hour.assessed == 1);
  CHECK(last_hour.exceeded_rate == Approx(1.0));
  auto four_hours = w.figures(at("12:30:00"), 4 * hour, at("00:00:00"));
  CHECK(four_hours.assessed == 3);  // c1, c2 (now exceeded), c3: c2's "met" no longer counts
  CHECK(four_hours.exceeded == 3);
  CHECK(four_hours.sla_breaches == 2);

  // A level that arrives late, older than the one held, is ignored.
  w.add({Sample::Kind::assessed, at("11:00:00"), "c2", "sales", "a1", 0, "", "below"});
  auto again = w.figures(at("12:30:00"), 4 * hour, at("00:00:00"));
  CHECK(again.assessed == 3);
  CHECK(again.exceeded == 3);
}

TEST_CASE("scripted day: at 15:30, the last hour and each agent's day") {
  auto f = window_at(at("15:30:00")).figures(at("15:30:00"), hour, at("00:00:00"));
  CHECK(f.first_response_p50 == 50 * s);  // c7
  CHECK(f.queue_wait_p50 == 20 * s);      // c7; c6 was taken at 14:01
  CHECK(f.queue_wait_p90 == 20 * s);
  CHECK(f.sla_breaches == 0);
  CHECK(f.assessed == 1);
  CHECK(f.exceeded == 0);
  CHECK(f.exceeded_rate == Approx(0.0));

  REQUIRE(f.agents_today.size() == 2);
  auto const& a1 = f.agents_today.at("a1");
  CHECK(a1.first_response_p50 == 60 * s);  // 50, 60, 300
  CHECK(a1.assessed == 3);                 // c1 exceeded, c2 exceeded (re-assessed), c7 below
  CHECK(a1.exceeded == 2);
  CHECK(a1.exceeded_rate == Approx(2.0 / 3.0));
  auto const& a2 = f.agents_today.at("a2");
  CHECK(a2.first_response_p50 == 40 * s);  // c3; c6 not answered
  CHECK(a2.exceeded_rate == Approx(1.0));
}

TEST_CASE("the live window forgets what is older than it keeps") {
  LiveWindow w(2 * hour);
  w.add({Sample::Kind::first_response, at("09:00:00"), "x", "t", "a", 5 * s, "", ""});
  w.add({Sample::Kind::first_response, at("10:00:00"), "y", "t", "a", 7 * s, "", ""});
  CHECK(w.size() == 2);
  w.add({Sample::Kind::first_response, at("11:30:00"), "z", "t", "a", 9 * s, "", ""});
  CHECK(w.size() == 2);  // 09:00 is more than two hours before 11:30
  // Out of order arrival keeps time order: a sample at 10:30 sits between.
  w.add({Sample::Kind::queue_wait, at("10:30:00"), "q", "t", "a", 1 * s, "", ""});
  auto f = w.figures(at("10:45:00"), hour, at("00:00:00"));
  CHECK(f.first_response_p50 == 7 * s);  // 11:30 is after `now`, 09:00 is gone
  CHECK(f.queue_wait_p50 == 1 * s);
}

TEST_CASE("scripted day: the summary report") {
  auto t = summarize(facts());
  CHECK(t.started == 7);
  CHECK(t.answered == 4);  // c1 c2 c3 c7
  CHECK(t.missed == 1);    // c4
  CHECK(t.ticketed == 1);  // c5
  CHECK(t.queue_wait_p50 == 30 * s);  // 10 20 30 60 120
  CHECK(t.queue_wait_p90 == 120 * s);
  CHECK(t.first_response_p50 == 50 * s);  // 40 50 60 300
  CHECK(t.first_response_p90 == 300 * s);
  CHECK(t.resolution_p50 == 1200 * s);  // 600 1200 1500 2400
  CHECK(t.resolution_p90 == 2400 * s);
  CHECK(t.sla.at("first_response").met == 3);
  CHECK(t.sla.at("first_response").breached == 1);
  CHECK(t.sla.at("first_response").rate == Approx(0.75));
  CHECK(t.sla.at("next_response").met == 2);
  CHECK(t.sla.at("next_response").breached == 1);
  CHECK(t.sla.at("next_response").rate == Approx(2.0 / 3.0));
  CHECK(t.sla.at("resolution").met == 0);
  CHECK_FALSE(t.sla.at("resolution").rate);
  CHECK(t.csat_count == 4);
  CHECK(t.csat_average == Approx(3.25));
  CHECK(t.csat_distribution == std::array<long long, 5>{1, 0, 1, 1, 1});
  CHECK(t.exceeded == 3);
  CHECK(t.met == 0);
  CHECK(t.below == 1);
}

TEST_CASE("scripted day: the summary grouped by team, agent and hour") {
  auto teams = summarize_by(facts(), GroupBy::team);
  REQUIRE(teams.size() == 2);
  CHECK(teams[0].key == "sales");
  CHECK(teams[0].figures.started == 4);
  CHECK(teams[0].figures.answered == 3);
  CHECK(teams[0].figures.ticketed == 1);
  CHECK(teams[0].figures.missed == 0);
  CHECK(teams[1].key == "support");
  CHECK(teams[1].figures.started == 3);
  CHECK(teams[1].figures.answered == 1);
  CHECK(teams[1].figures.missed == 1);
  CHECK(teams[1].figures.first_response_p50 == 40 * s);

  auto agents = summarize_by(facts(), GroupBy::agent);
  REQUIRE(agents.size() == 3);
  CHECK(agents[0].key.empty());  // never assigned: c4, c5
  CHECK(agents[0].figures.started == 2);
  CHECK(agents[1].key == "a1");
  CHECK(agents[1].figures.started == 3);
  CHECK(agents[1].figures.first_response_p50 == 60 * s);
  CHECK(agents[1].figures.csat_average == Approx(3.0));
  CHECK(agents[2].key == "a2");
  CHECK(agents[2].figures.queue_wait_p90 == 60 * s);

  auto hours = summarize_by(facts(), GroupBy::hour);
  std::vector<std::string> keys;
  for (auto const& g : hours) keys.push_back(g.key);
  CHECK(keys == std::vector<std::string>{"2026-03-10T09:00", "2026-03-10T10:00", "2026-03-10T11:00",
                                         "2026-03-10T14:00", "2026-03-10T15:00", "2026-03-10T23:00"});
  CHECK(hours[0].figures.started == 2);

  auto days = summarize_by(facts(), GroupBy::day);
  REQUIRE(days.size() == 1);
  CHECK(days[0].key == "2026-03-10");
  CHECK(days[0].figures.started == 7);
  CHECK(parse_group_by("week") == std::nullopt);
  CHECK(parse_group_by("") == GroupBy::none);

  // By stage: before, during and after a purchase; without one, "none".
  auto staged = facts();
  staged[0].stage = "pre_purchase";
  staged[1].stage = "pre_purchase";
  staged[2].stage = "post_purchase";
  REQUIRE(parse_group_by("stage") == GroupBy::stage);
  auto stages = summarize_by(staged, GroupBy::stage);
  std::map<std::string, long long> started;
  for (auto const& g : stages) started[g.key] = g.figures.started;
  CHECK(started == std::map<std::string, long long>{{"none", 4}, {"post_purchase", 1}, {"pre_purchase", 2}});
}

TEST_CASE("Prometheus text: counters with labels, gauges and cumulative histograms") {
  prom::Registry r;
  r.describe("exceed_messages_total", prom::Registry::Type::counter, "Chat messages.");
  r.describe("exceed_queue_length", prom::Registry::Type::gauge, "Queued chats.");
  r.describe("exceed_wait_seconds", prom::Registry::Type::histogram, "Waits.", {1, 5});
  r.counter("exceed_messages_total", {{"direction", "in"}}) += 3;
  r.gauge("exceed_queue_length", {{"team", "a\"b\\c\nd"}}) = 2;
  auto& h = r.histogram("exceed_wait_seconds");
  h.observe(0.5);
  h.observe(1);
  h.observe(3);
  h.observe(10);
  auto text = r.render();
  CHECK(text.find("# TYPE exceed_messages_total counter\nexceed_messages_total{direction=\"in\"} 3\n") !=
        std::string::npos);
  CHECK(text.find("exceed_queue_length{team=\"a\\\"b\\\\c\\nd\"} 2\n") != std::string::npos);
  CHECK(text.find("exceed_wait_seconds_bucket{le=\"1\"} 2\n"
                  "exceed_wait_seconds_bucket{le=\"5\"} 3\n"
                  "exceed_wait_seconds_bucket{le=\"+Inf\"} 4\n"
                  "exceed_wait_seconds_sum 14.5\n"
                  "exceed_wait_seconds_count 4\n") != std::string::npos);
  r.clear("exceed_queue_length");
  CHECK(r.render().find("exceed_queue_length{") == std::string::npos);
  CHECK_THROWS(r.counter("exceed_unknown_total"));
  CHECK(prom::format_value(0.005) == "0.005");
}
