// Business hours in a team's time zone, and ticket status rules.
#include "core/hours.hpp"
#include "core/schedule.hpp"
#include "core/ticket.hpp"
#include "zone_file.hpp"

#include <catch2/catch.hpp>


using namespace exceed::core;

namespace {

TimeZone zone(std::string const& name) { return exceed::test::zone_file(name); }

Millis at(char const* rfc3339) { return parse_rfc3339(rfc3339).value(); }

BusinessHours office() {
  BusinessHours h;
  REQUIRE(h.add_rule("mon-fri 09:00-17:00"));
  REQUIRE(h.add_rule("sat 10:00-14:00"));
  return h;
}

}  // namespace

TEST_CASE("time zones: offsets follow daylight saving time") {
  auto berlin = zone("Europe/Berlin");
  REQUIRE(berlin.offset_at(at("2026-01-15T12:00:00Z")) == 3600);
  REQUIRE(berlin.offset_at(at("2026-07-15T12:00:00Z")) == 7200);
  // The switch on 2026-03-29 at 01:00 UTC.
  REQUIRE(berlin.offset_at(at("2026-03-29T00:59:59Z")) == 3600);
  REQUIRE(berlin.offset_at(at("2026-03-29T01:00:00Z")) == 7200);
  auto ny = zone("America/New_York");
  REQUIRE(ny.offset_at(at("2026-01-15T12:00:00Z")) == -5 * 3600);
  REQUIRE_FALSE(TimeZone::from_tzif("not a zone file"));
  auto lt = local_time(at("2026-11-23T23:30:00Z"), berlin);  // Tuesday 00:30 in Berlin
  REQUIRE(lt.date() == "2026-11-24");
  REQUIRE(lt.weekday == 1);
  REQUIRE(lt.minute_of_day == 30);
}

TEST_CASE("business hours in the team's own time zone") {
  auto berlin = zone("Europe/Berlin");
  auto h = office();
  // Monday 2026-11-23: 09:00 Berlin is 08:00 UTC in winter.
  REQUIRE_FALSE(is_open(h, berlin, at("2026-11-23T07:59:00Z")));
  REQUIRE(is_open(h, berlin, at("2026-11-23T08:00:00Z")));
  SECTION("a conversation started a minute before closing is inside the hours") {
    REQUIRE(is_open(h, berlin, at("2026-11-23T15:59:00Z")));
    REQUIRE_FALSE(is_open(h, berlin, at("2026-11-23T16:00:00Z")));
  }
  SECTION("the same rule in summer moves with the clock") {
    REQUIRE(is_open(h, berlin, at("2026-07-06T07:00:00Z")));  // Monday 09:00 CEST
    REQUIRE_FALSE(is_open(h, berlin, at("2026-07-06T06:59:00Z")));
  }
  SECTION("weekends and days off") {
    REQUIRE(is_open(h, berlin, at("2026-11-28T10:30:00Z")));        // Saturday 11:30
    REQUIRE_FALSE(is_open(h, berlin, at("2026-11-29T10:30:00Z")));  // Sunday
    h.days_off.push_back("2026-12-25");
    REQUIRE_FALSE(is_open(h, berlin, at("2026-12-25T10:00:00Z")));  // a Friday off
    REQUIRE(is_open(h, berlin, at("2026-12-24T10:00:00Z")));
  }
  SECTION("when a closed team opens next") {
    REQUIRE(next_opening(h, berlin, at("2026-11-28T14:00:00Z")) == at("2026-11-30T08:00:00Z"));  // Sat after close -> Mon
    REQUIRE(next_opening(h, berlin, at("2026-11-23T09:00:00Z")) == at("2026-11-23T09:00:00Z"));  // open now
  }
  REQUIRE(is_open(BusinessHours{}, berlin, at("2026-11-29T03:00:00Z")));  // no hours: always open
}

TEST_CASE("hour rules that are not understood are refused") {
  BusinessHours h;
  std::string why;
  REQUIRE_FALSE(h.add_rule("weekdays 9-5", &why));
  REQUIRE(why.find("unknown day") != std::string::npos);
  REQUIRE_FALSE(h.add_rule("mon 17:00-09:00", &why));
  REQUIRE_FALSE(h.add_rule("mon 25:00-26:00", &why));
  REQUIRE(h.add_rule("sun closed"));
  REQUIRE(h.add_rule("fri-mon 20:00-24:00"));  // wraps over the weekend
  REQUIRE(h.week[6].size() == 1);
  REQUIRE(h.week[2].empty());
}

TEST_CASE("ticket status rules") {
  using S = TicketStatus;
  REQUIRE(can_change(S::fresh, S::open));
  REQUIRE(can_change(S::open, S::pending));
  REQUIRE(can_change(S::pending, S::on_hold));
  REQUIRE(can_change(S::on_hold, S::solved));
  REQUIRE(can_change(S::solved, S::open));
  REQUIRE(can_change(S::solved, S::closed));
  SECTION("closed is final, nothing returns to new, only a solved ticket closes") {
    for (auto s : {S::fresh, S::open, S::pending, S::on_hold, S::solved}) REQUIRE_FALSE(can_change(S::closed, s));
    REQUIRE_FALSE(can_change(S::open, S::fresh));
    REQUIRE_FALSE(can_change(S::open, S::closed));
  }
  SECTION("a customer's reply reopens pending and solved tickets") {
    REQUIRE(after_customer_reply(S::pending) == S::open);
    REQUIRE(after_customer_reply(S::solved) == S::open);
    REQUIRE(after_customer_reply(S::on_hold) == S::on_hold);
    REQUIRE(after_customer_reply(S::fresh) == S::fresh);
    REQUIRE(after_customer_reply(S::closed) == S::closed);
  }
  SECTION("solved tickets close after the configured time") {
    REQUIRE_FALSE(close_due(1000, 5000, 5999));
    REQUIRE(close_due(1000, 5000, 6000));
  }
  for (auto s : {S::fresh, S::open, S::pending, S::on_hold, S::solved, S::closed})
    REQUIRE(parse_ticket_status(to_string(s)) == s);
  REQUIRE(to_string(S::fresh) == "new");
}

TEST_CASE("who sees a ticket: supervisors all, customers theirs, agents their teams' and their own") {
  REQUIRE(can_see_ticket({Role::supervisor, "sue", ""}, "v1", "", "sales"));
  REQUIRE(can_see_ticket({Role::customer, "v1", ""}, "v1", "", "sales"));
  REQUIRE_FALSE(can_see_ticket({Role::customer, "v2", ""}, "v1", "", "sales"));
  REQUIRE(can_see_ticket({Role::agent, "ann", "support,sales"}, "v1", "", "sales"));
  REQUIRE_FALSE(can_see_ticket({Role::agent, "ann", "support,salesforce"}, "v1", "", "sales"));
  REQUIRE(can_see_ticket({Role::agent, "ann", "support"}, "v1", "ann", "sales"));  // assigned to them
  REQUIRE_FALSE(can_see_ticket({Role::agent, "bob", "support"}, "v1", "ann", "sales"));
}
