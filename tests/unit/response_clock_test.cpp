// The response clock and SLA timers with a fake clock.
#include "core/response_clock.hpp"
#include "core/schedule.hpp"
#include "zone_file.hpp"

#include <catch2/catch.hpp>


using namespace exceed::core;
using K = ClockEvent::Kind;

namespace {
constexpr Millis t0 = 1'795'428'000'000;  // Monday 2026-11-23 10:00 UTC
constexpr Millis s = 1000;
}  // namespace

TEST_CASE("queue wait, first and next responses, handle time and resolution") {
  std::vector<ClockEvent> ev{{K::started, t0},
                             {K::customer_message, t0},
                             {K::assigned, t0 + 30 * s},
                             {K::customer_message, t0 + 35 * s},  // still waiting: the clock runs from t0
                             {K::agent_reply, t0 + 50 * s},
                             {K::customer_message, t0 + 60 * s},
                             {K::customer_message, t0 + 70 * s},
                             {K::agent_reply, t0 + 100 * s},
                             {K::agent_reply, t0 + 110 * s},  // no customer waiting: no next response
                             {K::customer_message, t0 + 200 * s},
                             {K::agent_reply, t0 + 215 * s},
                             {K::resolved, t0 + 300 * s}};
  auto r = measure(ev);
  REQUIRE(r.queue_wait == 30 * s);
  REQUIRE(r.first_response == 50 * s);
  REQUIRE(r.next_responses == std::vector<Millis>{40 * s, 15 * s});
  REQUIRE(r.handle_time == 270 * s);
  REQUIRE(r.resolution == 300 * s);
  REQUIRE_FALSE(r.waiting_since);
  REQUIRE_FALSE(r.first_reply_pending);
  SECTION("without business hours the business figures equal the wall-clock ones") {
    REQUIRE(r.first_response_business == r.first_response);
    REQUIRE(r.resolution_business == r.resolution);
  }
}

TEST_CASE("a reopened ticket keeps its history of times") {
  std::vector<ClockEvent> ev{{K::started, t0},          {K::customer_message, t0}, {K::assigned, t0 + 10 * s},
                             {K::agent_reply, t0 + 20 * s}, {K::resolved, t0 + 60 * s}, {K::reopened, t0 + 3600 * s},
                             {K::customer_message, t0 + 3600 * s}, {K::agent_reply, t0 + 3660 * s},
                             {K::resolved, t0 + 4000 * s}};
  auto r = measure(ev);
  REQUIRE(r.first_response == 20 * s);
  REQUIRE(r.next_responses == std::vector<Millis>{60 * s});
  REQUIRE(r.reopens == 1);
  REQUIRE(r.resolution == 4000 * s);
}

TEST_CASE("business-hours figures count only open minutes") {
  BusinessHours h;
  REQUIRE(h.add_rule("mon-fri 09:00-17:00"));
  // Friday 16:50 UTC to Monday 09:10 UTC: 10 + 10 open minutes.
  auto fri = parse_rfc3339("2026-11-27T16:50:00Z").value();
  auto mon = parse_rfc3339("2026-11-30T09:10:00Z").value();
  REQUIRE(business_duration(h, TimeZone::utc(), fri, mon) == 20 * 60 * s);
  std::vector<ClockEvent> ev{{K::started, fri}, {K::customer_message, fri}, {K::agent_reply, mon}};
  auto r = measure(ev, h, TimeZone::utc());
  REQUIRE(r.first_response == mon - fri);
  REQUIRE(r.first_response_business == 20 * 60 * s);
}

TEST_CASE("SLA timers: a warning before the breach, nothing once answered") {
  SlaPolicy p;
  p.first_response = 60 * s;
  p.next_response = 120 * s;
  p.resolution = 3600 * s;
  p.warning_ratio = 0.75;
  std::vector<ClockEvent> ev{{K::started, t0}, {K::customer_message, t0}};
  auto at = [&](Millis now) { return sla_pending(p, ev, now); };
  auto first = at(t0 + 10 * s).at(0);
  REQUIRE(first.metric == SlaMetric::first_response);
  REQUIRE(first.due_at == t0 + 60 * s);
  REQUIRE(first.warn_at == t0 + 45 * s);
  REQUIRE_FALSE(first.warned);
  REQUIRE(at(t0 + 45 * s).at(0).warned);
  REQUIRE_FALSE(at(t0 + 45 * s).at(0).breached);
  REQUIRE(at(t0 + 60 * s).at(0).breached);
  REQUIRE(at(t0 + 10 * s).at(1).metric == SlaMetric::resolution);

  ev.push_back({K::agent_reply, t0 + 30 * s});
  REQUIRE(at(t0 + 40 * s).size() == 1);  // only the resolution target runs
  ev.push_back({K::customer_message, t0 + 100 * s});
  auto next = at(t0 + 200 * s).at(0);
  REQUIRE(next.metric == SlaMetric::next_response);
  REQUIRE(next.due_at == t0 + 220 * s);
  ev.push_back({K::resolved, t0 + 300 * s});
  REQUIRE(at(t0 + 400 * s).empty());
}

TEST_CASE("SLA timers fall due in the team's business hours when it keeps them") {
  // Open mon-fri 09:00-17:00 UTC; a 30-minute first-response target from
  // Friday 16:50: 10 minutes on Friday, 20 on Monday; warned half way.
  BusinessHours h;
  REQUIRE(h.add_rule("mon-fri 09:00-17:00"));
  SlaPolicy p;
  p.first_response = 30 * 60 * s;
  p.warning_ratio = 0.5;
  auto fri = parse_rfc3339("2026-11-27T16:50:00Z").value();
  std::vector<ClockEvent> ev{{K::started, fri}, {K::customer_message, fri}};
  auto during = sla_pending(p, ev, fri + 60 * s, h, TimeZone::utc());
  REQUIRE(during.size() == 1);
  REQUIRE(during[0].due_at == parse_rfc3339("2026-11-30T09:20:00Z").value());
  REQUIRE(during[0].warn_at == parse_rfc3339("2026-11-30T09:05:00Z").value());
  REQUIRE_FALSE(during[0].warned);
  REQUIRE(sla_pending(p, ev, parse_rfc3339("2026-11-30T09:20:00Z").value(), h, TimeZone::utc())[0].breached);
  // Without hours, the wall clock.
  REQUIRE(sla_pending(p, ev, fri)[0].due_at == fri + 30 * 60 * s);
}

TEST_CASE("an SLA warning says the seconds left, a breach how late it is") {
  auto warn = sla_countdown(t0 + 10 * s, false, t0 + 1);
  REQUIRE(warn.due_in_s == 10);
  REQUIRE_FALSE(warn.late_s);
  REQUIRE(sla_countdown(t0, false, t0 + 5 * s).due_in_s == 0);  // a warning that fires late says 0, never less
  auto breach = sla_countdown(t0, true, t0 + 2500);
  REQUIRE(breach.due_in_s == 0);
  REQUIRE(breach.late_s == 2);
}

namespace {
constexpr Millis minute = 60 * s;

TimeZone berlin() { return exceed::test::zone_file("Europe/Berlin"); }

BusinessHours weekdays() {
  BusinessHours h;
  REQUIRE(h.add_rule("mon-fri 09:00-17:00"));
  return h;
}

// The deadline is the first instant at which the business time since `from`
// reaches the target: exactly the target by then, less a moment before.
void require_earliest(BusinessHours const& h, TimeZone const& tz, Millis from, Millis target, Millis due) {
  REQUIRE(business_duration(h, tz, from, due) == target);
  REQUIRE(business_duration(h, tz, from, due - 1) < target);
}
}  // namespace

TEST_CASE("an SLA deadline counts only business hours") {
  auto const h = weekdays();
  auto const utc = TimeZone::utc();
  Millis const target = 30 * minute;

  SECTION("a team without hours: the wall clock") {
    REQUIRE(business_deadline(BusinessHours{}, utc, t0 + 123, target) == t0 + 123 + target);
    REQUIRE(business_deadline(BusinessHours{}, utc, t0, 0) == t0);
  }
  SECTION("a wait inside hours ends after the target, even off the minute") {
    REQUIRE(business_deadline(h, utc, t0, target) == t0 + target);
    Millis from = t0 + 30 * s + 250;  // Monday 10:00:30.250
    REQUIRE(business_deadline(h, utc, from, target) == from + target);
    require_earliest(h, utc, from, target, from + target);
  }
  SECTION("a wait that starts after closing counts from the next opening") {
    auto mon_evening = parse_rfc3339("2026-11-23T18:00:00Z").value();
    auto due = parse_rfc3339("2026-11-24T09:30:00Z").value();
    REQUIRE(business_deadline(h, utc, mon_evening, target) == due);
    require_earliest(h, utc, mon_evening, target, due);
  }
  SECTION("10 minutes before closing: 20 minutes after the next opening") {
    auto mon = parse_rfc3339("2026-11-23T16:50:00Z").value();
    auto due = parse_rfc3339("2026-11-24T09:20:00Z").value();
    REQUIRE(business_deadline(h, utc, mon, target) == due);
    require_earliest(h, utc, mon, target, due);
  }
  SECTION("a wait spanning a night and a weekend") {
    // From Thursday 16:00: 2 hours are 1 on Thursday and 1 on Friday; 10
    // hours are 1 on Thursday, 8 on Friday and 1 on Monday.
    auto thu = parse_rfc3339("2026-11-26T16:00:00Z").value();
    REQUIRE(business_deadline(h, utc, thu, 2 * 60 * minute) == parse_rfc3339("2026-11-27T10:00:00Z").value());
    auto due = parse_rfc3339("2026-11-30T10:00:00Z").value();
    REQUIRE(business_deadline(h, utc, thu, 10 * 60 * minute) == due);
    require_earliest(h, utc, thu, 10 * 60 * minute, due);
  }
  SECTION("a day off does not count") {
    auto with_holiday = h;
    with_holiday.days_off.push_back("2026-11-24");
    auto mon = parse_rfc3339("2026-11-23T16:50:00Z").value();
    REQUIRE(business_deadline(with_holiday, utc, mon, target) == parse_rfc3339("2026-11-25T09:20:00Z").value());
  }
  SECTION("the hours are local: a weekend over the end of summer time") {
    // Berlin: Friday 2026-10-23 16:50 CEST (14:50Z); clocks go back on
    // Sunday; Monday opens at 09:00 CET (08:00Z).
    auto const tz = berlin();
    auto fri = parse_rfc3339("2026-10-23T14:50:00Z").value();
    auto due = parse_rfc3339("2026-10-26T08:20:00Z").value();
    REQUIRE(business_deadline(h, tz, fri, target) == due);
    require_earliest(h, tz, fri, target, due);
  }
}

TEST_CASE("an SLA target warns and falls due in business time") {
  SlaPolicy p;
  p.first_response = 30 * minute;
  p.next_response = 0;
  p.resolution = 8 * 60 * minute;
  p.warning_ratio = 0.5;
  auto const h = weekdays();
  auto const utc = TimeZone::utc();
  auto mon = parse_rfc3339("2026-11-23T16:50:00Z").value();

  auto first = sla_deadline(p, SlaMetric::first_response, h, utc, mon);
  REQUIRE(first);
  REQUIRE(first->warn_at == parse_rfc3339("2026-11-24T09:05:00Z").value());  // 10 + 5 open minutes
  REQUIRE(first->due_at == parse_rfc3339("2026-11-24T09:20:00Z").value());
  REQUIRE_FALSE(sla_deadline(p, SlaMetric::next_response, h, utc, mon));  // no target, nothing armed
  auto resolution = sla_deadline(p, SlaMetric::resolution, h, utc, mon);
  REQUIRE(resolution->due_at == parse_rfc3339("2026-11-24T16:50:00Z").value());

  SECTION("without hours, the wall-clock instants the store always armed") {
    auto plain = sla_deadline(p, SlaMetric::first_response, BusinessHours{}, utc, t0);
    REQUIRE(plain->due_at == t0 + 30 * minute);
    REQUIRE(plain->warn_at == t0 + 15 * minute);
  }
}
