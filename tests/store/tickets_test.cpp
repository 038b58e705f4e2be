// The ticket store against a real Redis: each of its scripts and reads run
// directly, with the time passed in.
// scripts: ticket_close_due.lua ticket_comment.lua ticket_create.lua ticket_update.lua
#include "core/schedule.hpp"
#include "live_store.hpp"
#include "store/routing.hpp"
#include "store/tickets.hpp"

#include <catch2/catch.hpp>

using namespace exceed;
using store::TicketStore;
using TS = core::TicketStatus;

namespace {

constexpr core::Millis t0 = 1'800'000'000'000;

// The team "support" with agent Ann, supervisor Sue, customer Casey, and
// Casey's conversation c1 (kept as a ticket, nothing in it yet).
void seed(test::LiveStore& s) {
  s.raw("SADD", "exceed:teams", "support");
  s.raw("HSET", "exceed:user:a_ann", "role", "agent", "name", "Ann");
  s.raw("HSET", "exceed:user:s_sue", "role", "supervisor", "name", "Sue");
  s.raw("HSET", "exceed:visitor:v_casey", "id", "v_casey", "name", "Casey");
  s.raw("HSET", "exceed:conv:c1", "id", "c1", "status", "ticket", "visitor", "v_casey", "team", "support", "seq", "0");
}

store::NewTicket ticket(std::string id, core::Millis now = t0) {
  store::NewTicket t;
  t.id = std::move(id);
  t.subject = "The parcel never came";
  t.requester = "v_casey";
  t.status = TS::fresh;
  t.priority = "normal";
  t.team = "support";
  t.tags_csv = "billing,vip";
  t.via = "web";
  t.actor = "customer:v_casey";
  t.now = now;
  t.sla.name = "default";
  t.sla.resolution = 3'600'000;
  t.sla.warning_ratio = 0.5;
  return t;
}

store::TicketChange change(std::string id, TS expected, core::Millis now) {
  store::TicketChange c;
  c.id = std::move(id);
  c.actor = "agent:a_ann";
  c.expected = expected;
  c.now = now;
  return c;
}

store::TicketComment reply(std::string id, std::string author, bool customer, core::Millis now) {
  store::TicketComment c;
  c.ticket_id = std::move(id);
  c.by_customer = customer;
  c.author = std::move(author);
  c.text = "We sent a new one";
  c.now = now;
  return c;
}

}  // namespace

TEST_CASE("a ticket is created with its clock running, read back, and listed newest first") {
  test::LiveStore s;
  seed(s);
  TicketStore tickets(s.db());
  auto made = s.wait(tickets.create(ticket("t_1")));
  REQUIRE(made);
  REQUIRE(made->id == "t_1");
  REQUIRE(made->status == TS::fresh);
  REQUIRE(made->requester_name == "Casey");  // looked up
  REQUIRE(made->tags == std::vector<std::string>{"billing", "vip"});
  REQUIRE(made->created_at == t0);
  REQUIRE_FALSE(made->solved_at);
  REQUIRE(made->sla_policy == "default");
  REQUIRE(s.wait(tickets.get("t_1"))->value().subject == "The parcel never came");
  REQUIRE_FALSE(*s.wait(tickets.get("t_none")));
  REQUIRE(s.wait(tickets.create(ticket("t_2", t0 + 10))));

  store::TicketIndexPage page;
  auto newest = s.wait(tickets.page(page));
  REQUIRE(newest->size() == 2);
  REQUIRE(newest->at(0).id == "t_2");
  REQUIRE(newest->at(0).score == std::to_string(t0 + 10));
  page.index = store::TicketIndexPage::Index::of_customer;
  page.customer = "v_casey";
  page.max_score = std::to_string(t0);
  REQUIRE(s.wait(tickets.page(page))->at(0).id == "t_1");

  auto timeline = s.wait(tickets.timeline("t_1", 10));
  REQUIRE(timeline->size() == 1);
  REQUIRE(timeline->at(0).what == "created");
  REQUIRE(timeline->at(0).to == "new");
  REQUIRE(timeline->at(0).actor == "customer:v_casey");

  // Its resolution clock: the warning at half the target.
  store::RoutingStore routing(s.db());
  auto due = s.wait(routing.sla_due(t0 + 1'800'000, 10));
  REQUIRE(due->size() == 1);
  REQUIRE(due->at(0).ticket);
  REQUIRE(due->at(0).metric == "resolution");
}

TEST_CASE("a ticket is refused for an unknown team, requester or conversation, or an assignee who is no agent") {
  test::LiveStore s;
  seed(s);
  TicketStore tickets(s.db());
  auto t = ticket("t_1");
  t.team = "nowhere";
  REQUIRE(s.wait(tickets.create(t)).failure().refusal == core::Refusal::bad_request);
  t = ticket("t_1");
  t.assignee = "s_sue";
  REQUIRE(s.wait(tickets.create(t)).failure().refusal == core::Refusal::bad_request);
  t = ticket("t_1");
  t.requester = "v_nobody";
  REQUIRE(s.wait(tickets.create(t)).failure().refusal == core::Refusal::bad_request);
  t = ticket("t_1");
  t.conversation = "c_none";
  REQUIRE(s.wait(tickets.create(t)).failure().refusal == core::Refusal::not_found);
  REQUIRE_FALSE(*s.wait(tickets.get("t_1")));
}

TEST_CASE("changes apply only from the status the caller saw, each recorded, and solved tickets close once, later") {
  test::LiveStore s;
  seed(s);
  TicketStore tickets(s.db());
  REQUIRE(s.wait(tickets.create(ticket("t_1"))));
  auto c = change("t_1", TS::fresh, t0 + 100);
  c.status = TS::open;
  c.assignee = "a_ann";
  c.tags_csv = "vip";
  auto updated = s.wait(tickets.update(c));
  REQUIRE(updated);
  REQUIRE(updated->ticket.status == TS::open);
  REQUIRE(updated->ticket.assignee_name == "Ann");
  REQUIRE(updated->ticket.updated_at == t0 + 100);
  REQUIRE(updated->changes.size() == 3);
  REQUIRE(updated->changes[0].field == "status");
  REQUIRE(updated->changes[0].from == "new");
  REQUIRE(updated->changes[0].to == "open");
  REQUIRE(updated->changes[1].field == "assignee");
  REQUIRE(updated->changes[2].field == "tags");
  REQUIRE(s.wait(tickets.timeline("t_1", 10))->size() == 4);

  REQUIRE(s.wait(tickets.update(c)).failure().refusal == core::Refusal::conflict);  // it is open now
  auto same = change("t_1", TS::open, t0 + 200);
  same.assignee = "a_ann";
  REQUIRE(s.wait(tickets.update(same))->changes.empty());
  auto to_sue = change("t_1", TS::open, t0 + 200);
  to_sue.assignee = "s_sue";
  REQUIRE(s.wait(tickets.update(to_sue)).failure().refusal == core::Refusal::bad_request);
  auto to_nowhere = change("t_1", TS::open, t0 + 200);
  to_nowhere.team = "nowhere";
  REQUIRE(s.wait(tickets.update(to_nowhere)).failure().refusal == core::Refusal::bad_request);

  auto solve = change("t_1", TS::open, t0 + 1'000);
  solve.status = TS::solved;
  REQUIRE(s.wait(tickets.update(solve))->ticket.solved_at == t0 + 1'000);
  REQUIRE(s.wait(tickets.close_due(t0 + 5'000, t0 + 999, 10))->empty());
  auto closed = s.wait(tickets.close_due(t0 + 5'000, t0 + 1'000, 10));
  REQUIRE(*closed == std::vector<std::string>{"t_1"});
  REQUIRE(s.wait(tickets.close_due(t0 + 9'000, t0 + 9'000, 10))->empty());  // once
  auto record = s.wait(tickets.get("t_1"))->value();
  REQUIRE(record.status == TS::closed);
  REQUIRE(record.closed_at == t0 + 5'000);
}

TEST_CASE("a public reply reaches the customer's conversation, a customer's reopens, and a closed ticket takes none") {
  test::LiveStore s;
  seed(s);
  TicketStore tickets(s.db());
  auto t = ticket("t_1");
  t.conversation = "c1";
  REQUIRE(s.wait(tickets.create(t)));

  auto answer = s.wait(tickets.comment(reply("t_1", "a_ann", false, t0 + 10)));
  REQUIRE(answer);
  REQUIRE(answer->seq == 1);
  REQUIRE(answer->visitor == "v_casey");
  REQUIRE(answer->conversation == "c1");
  REQUIRE(answer->author_name == "Ann");  // looked up
  REQUIRE(s.raw("XRANGE", "exceed:conv:c1:msgs", "0-1", "0-1").elements.size() == 1);

  auto note = reply("t_1", "a_ann", false, t0 + 20);
  note.is_public = false;
  REQUIRE(s.wait(tickets.comment(note))->seq == 0);
  auto unmirrored = reply("t_1", "a_ann", false, t0 + 30);
  unmirrored.mirror = false;
  REQUIRE(s.wait(tickets.comment(unmirrored))->seq == 0);

  auto pend = change("t_1", TS::fresh, t0 + 40);
  pend.status = TS::pending;
  REQUIRE(s.wait(tickets.update(pend)));
  auto back = s.wait(tickets.comment(reply("t_1", "v_casey", true, t0 + 50)));
  REQUIRE(back->previous == TS::pending);
  REQUIRE(back->status == TS::open);
  REQUIRE(back->author_name == "Casey");

  auto comments = s.wait(tickets.comments("t_1", 10));
  REQUIRE(comments->size() == 4);
  REQUIRE(comments->at(0).author_name == "Ann");
  REQUIRE(comments->at(0).ts == t0 + 10);
  REQUIRE(comments->at(0).role == "agent");
  REQUIRE_FALSE(comments->at(1).is_public);
  REQUIRE(comments->at(3).role == "customer");

  s.raw("HSET", "exceed:ticket:t_1", "status", "closed");
  REQUIRE(s.wait(tickets.comment(reply("t_1", "v_casey", true, t0 + 60))).failure().refusal ==
          core::Refusal::conflict);
  REQUIRE(s.wait(tickets.comment(reply("t_none", "a_ann", false, t0))).failure().refusal ==
          core::Refusal::not_found);
}

TEST_CASE("a ticket record of the wrong shape fails as a protocol error") {
  test::LiveStore s;
  s.raw("HSET", "exceed:ticket:t_odd", "id", "t_odd", "status", "lost in the post");
  s.raw("HSET", "exceed:ticket:t_half", "subject", "no id, no status");
  TicketStore tickets(s.db());
  REQUIRE(s.wait(tickets.get("t_odd")).failure().kind == store::Failure::Kind::protocol);
  REQUIRE(s.wait(tickets.get("t_half")).failure().kind == store::Failure::Kind::protocol);
}

TEST_CASE("a ticket's deadlines count its team's business hours: at creation and when the customer writes again") {
  // Open mon-fri 09:00-17:00 UTC; the deadlines are what the app passes
  // (Config::sla_deadlines): core's count in the team's hours.
  core::BusinessHours hours;
  REQUIRE(hours.add_rule("mon-fri 09:00-17:00"));
  auto const monday = core::parse_rfc3339("2026-11-23T16:50:00Z").value();
  test::LiveStore s;
  seed(s);
  TicketStore tickets(s.db());
  auto t = ticket("t_1", monday);
  t.sla.first_response = 30 * 60'000;
  t.sla.next_response = 30 * 60'000;
  t.deadlines = core::sla_deadlines(t.sla, hours, core::TimeZone::utc(), monday);
  REQUIRE(s.wait(tickets.create(t)));
  // An hour's resolution target from 16:50: 10 minutes on Monday, 50 on Tuesday.
  REQUIRE(s.raw("HGET", "exceed:ticket:t_1", "sla_due_resolution").str ==
          std::to_string(core::parse_rfc3339("2026-11-24T09:50:00Z").value()));

  // Casey writes at 16:55: the first-response target runs 5 minutes tonight, 25 tomorrow.
  auto c = reply("t_1", "v_casey", true, monday + 5 * 60'000);
  c.sla = t.sla;
  c.deadlines = core::sla_deadlines(t.sla, hours, core::TimeZone::utc(), c.now);
  REQUIRE(s.wait(tickets.comment(c)));
  auto const due = core::parse_rfc3339("2026-11-24T09:25:00Z").value();
  REQUIRE(s.raw("HGET", "exceed:ticket:t_1", "sla_due_first_response").str == std::to_string(due));
  REQUIRE(s.raw("ZSCORE", "exceed:sla", "t_1|first_response|breach").str == std::to_string(due));

  SECTION("deadlines computed for another target than the ticket's are not used: the wall clock is") {
    s.raw("HDEL", "exceed:ticket:t_1", "waiting_since");
    s.raw("ZREM", "exceed:sla", "t_1|first_response|warn", "t_1|first_response|breach");
    auto other = reply("t_1", "v_casey", true, monday + 6 * 60'000);
    other.sla = t.sla;
    other.sla.first_response = 10 * 60'000;
    other.deadlines = core::sla_deadlines(other.sla, hours, core::TimeZone::utc(), other.now);
    REQUIRE(s.wait(tickets.comment(other)));
    REQUIRE(s.raw("HGET", "exceed:ticket:t_1", "sla_due_first_response").str ==
            std::to_string(other.now + 30 * 60'000));
  }
}
