// The follow-up store against a real Redis: every script of it run
// directly, with the time passed in.
// scripts: followup_create.lua followup_finish.lua followup_fire.lua followup_update.lua
#include "live_store.hpp"
#include "store/followups.hpp"

#include <catch2/catch.hpp>

using namespace exceed;
using store::FollowupStore;

namespace {

constexpr core::Millis t0 = 1'800'000'000'000;

// An agent "ann" (connected or not) and a conversation c1.
void seed(test::LiveStore& s, bool ann_connected = true) {
  s.raw("HSET", "exceed:user:a_ann", "role", "agent", "name", "Ann");
  s.raw("HSET", "exceed:agent:a_ann", "conns", ann_connected ? "1" : "0");
  s.raw("HSET", "exceed:conv:c1", "id", "c1", "status", "active");
}

store::NewFollowupRecord record(std::string id, core::Millis due) {
  store::NewFollowupRecord r;
  r.id = std::move(id);
  r.owner = "a_ann";
  r.created_by = "a_ann";
  r.conversation_id = "c1";
  r.due_at = due;
  r.kind = "reminder";
  r.note = "Send the invoice";
  r.now = t0;
  return r;
}

core::Actor ann() { return {core::Role::agent, "a_ann", "support"}; }

}  // namespace

TEST_CASE("a follow-up is created, read back, listed, and its timer fires once at its due time") {
  test::LiveStore s;
  seed(s);
  FollowupStore f(s.db());
  auto made = s.wait(f.create(record("f_1", t0 + 60'000)));
  REQUIRE(made);
  REQUIRE(made->id == "f_1");
  REQUIRE(made->status == "open");
  REQUIRE(made->due_at == t0 + 60'000);
  REQUIRE_FALSE(made->fired);
  REQUIRE(s.wait(f.get("f_1"))->value().note == "Send the invoice");
  REQUIRE_FALSE(*s.wait(f.get("f_none")));

  REQUIRE(s.wait(f.fire_due(t0 + 59'999, 10))->empty());
  auto fired = s.wait(f.fire_due(t0 + 60'000, 10));
  REQUIRE(fired->size() == 1);
  REQUIRE(fired->at(0).id == "f_1");
  REQUIRE(fired->at(0).owner == "a_ann");
  REQUIRE(fired->at(0).owner_connected);
  REQUIRE(s.wait(f.fire_due(t0 + 90'000, 10))->empty());  // once
  REQUIRE(s.wait(f.get("f_1"))->value().fired);

  auto counts = s.wait(f.counts("a_ann", t0 + 90'000));
  REQUIRE(counts->open == 1);
  REQUIRE(counts->overdue == 1);
  REQUIRE(s.wait(f.of_conversation("c1"))->size() == 1);
  store::FollowupStore::OpenPage page;
  page.owner = "a_ann";
  REQUIRE(s.wait(f.open(page))->size() == 1);
}

TEST_CASE("a follow-up that falls due while its owner is away waits for their next hello") {
  test::LiveStore s;
  seed(s, false);
  FollowupStore f(s.db());
  REQUIRE(s.wait(f.create(record("f_1", t0 + 1'000))));
  auto fired = s.wait(f.fire_due(t0 + 1'000, 10));
  REQUIRE_FALSE(fired->at(0).owner_connected);
  auto pending = s.wait(f.pending("a_ann"));
  REQUIRE(*pending == std::vector<std::string>{"f_1"});
  REQUIRE(s.wait(f.take_pending("a_ann", "f_1")));
  REQUIRE(s.wait(f.pending("a_ann"))->empty());
}

TEST_CASE("finishing and changing a follow-up: only its people, once, and the timer follows the due time") {
  test::LiveStore s;
  seed(s);
  s.raw("HSET", "exceed:user:a_bob", "role", "agent");
  FollowupStore f(s.db());
  REQUIRE(s.wait(f.create(record("f_1", t0 + 60'000))));

  SECTION("someone else may not") {
    auto no = s.wait(f.finish("f_1", core::Actor{core::Role::agent, "a_bob", ""}, "done", t0));
    REQUIRE_FALSE(no);
    REQUIRE(no.failure().kind == store::Failure::Kind::refused);
    REQUIRE(no.failure().refusal == core::Refusal::forbidden);
  }
  SECTION("done once, then a conflict") {
    auto done = s.wait(f.finish("f_1", ann(), "done", t0 + 5));
    REQUIRE(done->status == "done");
    REQUIRE(done->done_at == t0 + 5);
    REQUIRE(done->done_by == "a_ann");
    auto again = s.wait(f.finish("f_1", ann(), "cancelled", t0 + 6));
    REQUIRE(again.failure().refusal == core::Refusal::conflict);
    REQUIRE(s.wait(f.fire_due(t0 + 120'000, 10))->empty());  // the timer went with it
  }
  SECTION("a new due time re-arms the timer; a new owner must be an agent") {
    store::FollowupChange c;
    c.id = "f_1";
    c.by = ann();
    c.due_at = t0 + 200'000;
    c.note = "Call again";
    c.now = t0;
    auto moved = s.wait(f.update(c));
    REQUIRE(moved->due_at == t0 + 200'000);
    REQUIRE(moved->note == "Call again");
    REQUIRE(s.wait(f.fire_due(t0 + 60'000, 10))->empty());
    REQUIRE(s.wait(f.fire_due(t0 + 200'000, 10))->size() == 1);
    store::FollowupChange to_nobody;
    to_nobody.id = "f_1";
    to_nobody.by = ann();
    to_nobody.owner = "s_someone";
    to_nobody.now = t0;
    REQUIRE(s.wait(f.update(to_nobody)).failure().refusal == core::Refusal::bad_request);
  }
  SECTION("an unknown follow-up is not found") {
    REQUIRE(s.wait(f.finish("f_none", ann(), "done", t0)).failure().refusal == core::Refusal::not_found);
  }
}

TEST_CASE("a follow-up needs an agent owner and something that exists to follow up") {
  test::LiveStore s;
  seed(s);
  FollowupStore f(s.db());
  auto r = record("f_1", t0 + 1);
  r.owner = "v_visitor";
  REQUIRE(s.wait(f.create(r)).failure().refusal == core::Refusal::bad_request);
  r = record("f_2", t0 + 1);
  r.conversation_id = "c_none";
  REQUIRE(s.wait(f.create(r)).failure().refusal == core::Refusal::not_found);
}

TEST_CASE("a reply of the wrong shape fails as a protocol error, not as an empty follow-up") {
  test::LiveStore s;
  s.raw("SET", "exceed:followup:f_odd", "not a hash");
  FollowupStore f(s.db());
  auto r = s.wait(f.get("f_odd"));
  REQUIRE_FALSE(r);
  REQUIRE(r.failure().kind == store::Failure::Kind::protocol);  // WRONGTYPE: not a layout this code reads
  s.raw("HSET", "exceed:followup:f_half", "note", "no id, no due time");
  auto half = s.wait(f.get("f_half"));
  REQUIRE_FALSE(half);
  REQUIRE(half.failure().kind == store::Failure::Kind::protocol);
}
