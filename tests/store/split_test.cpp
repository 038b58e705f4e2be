// A conversation's two sides as on a Redis Cluster (a prefix with a hash
// tag: store::Keys::split, lua/prelude.lua), on one real redis-server: the
// record in the routing slot is the truth, its talk side (messages,
// client_msg_ids, the copy a send checks) is written by the scripts run here.
// scripts: append.lua clock.lua copy_done.lua copy_put.lua copy_take.lua
// scripts: send.lua start.lua (their SPLIT halves)
#include "live_store.hpp"
#include "sample_chat.hpp"
#include "store/conversations.hpp"
#include "store/scripts.hpp"

#include <catch2/catch.hpp>

using namespace exceed;
using store::ConversationStore;

namespace {

constexpr core::Millis t0 = 1'800'000'000'000;
std::string const record = "{exceed}:conv:c1";
std::string const talk = "exceed:{conv:c1}";

core::Actor customer() { return {core::Role::customer, "v_casey", ""}; }
core::Actor ann() { return {core::Role::agent, "a_ann", "support"}; }

store::StartChat chat(std::string text = "Where is my parcel?") { return test::sample_chat("c1", std::move(text), t0); }

struct Split {
  test::LiveStore s{"{exceed}:"};
  ConversationStore conversations{s.db()};
  Split() {
    s.raw("SADD", "{exceed}:teams", "support");
    s.raw("SADD", "{exceed}:team:support:agents", "a_ann");
    s.raw("HSET", "{exceed}:agent:a_ann", "status", "online", "conns", "1", "capacity", "3", "active", "0",
          "offered", "0");
  }
  std::string field(std::string const& key, std::string const& name) { return s.raw("HGET", key, name).str; }
  // A routing step as the scripts make it: the record changed, its
  // revision bumped, the conversation listed as behind (touch()).
  void assign_to_ann() {
    s.raw("HSET", record, "status", "active", "agent", "a_ann", "agent_name", "Ann");
    s.raw("HINCRBY", record, "rev", "1");
    s.raw("SADD", "{exceed}:copies", "c1");
  }
  store::Result<store::Appended> send(core::Actor by, std::string cmid, core::Millis now) {
    store::Append a{"c1", by, "someone", std::move(cmid), "text", now, ""};
    return s.wait(conversations.append(a));
  }
};

}  // namespace

TEST_CASE("split: a new chat's record stays in the routing slot, its words and the copy go to its own slot") {
  Split x;
  REQUIRE(x.s.db().keys().split());
  auto started = x.s.wait(x.conversations.start(chat()));
  REQUIRE(started);
  REQUIRE(started->created);
  // The record: routing's, with the clock started; no seq kept there.
  REQUIRE(x.field(record, "status") == "queued");
  REQUIRE(x.field(record, "waiting_since") == std::to_string(t0));
  REQUIRE(x.s.raw("HEXISTS", record, "seq").integer == 0);
  REQUIRE(x.s.raw("EXISTS", record + ":msgs").integer == 0);
  // The talk side: the copy at the record's revision, the first message.
  REQUIRE(x.field(talk, "rev") == x.field(record, "rev"));
  REQUIRE(x.field(talk, "status") == "queued");
  REQUIRE(x.field(talk, "visitor") == "v_casey");
  REQUIRE(x.field(talk, "seq") == "1");
  REQUIRE(x.field(talk, "waiting_since") == std::to_string(t0));
  REQUIRE(x.s.raw("XLEN", talk + ":msgs").integer == 1);
  REQUIRE(x.s.raw("SCARD", "{exceed}:copies").integer == 0);
  // Different slots on a cluster: the record's tag is the prefix's.
  REQUIRE(store::key_slot(record) != store::key_slot(talk));
  REQUIRE(store::key_slot(talk + ":msgs") == store::key_slot(talk));
}

TEST_CASE("split: an assignment reaches the talk side by its copy, and an older copy changes nothing") {
  Split x;
  REQUIRE(x.s.wait(x.conversations.start(chat())));
  // Not copied yet: the agent is refused, as the talk side still says queued.
  x.s.raw("HSET", record, "status", "active", "agent", "a_ann");
  auto early = x.send(ann(), "a-0", t0 + 1'000);
  REQUIRE(!early);
  REQUIRE(early.failure().refusal == core::Refusal::forbidden);
  x.assign_to_ann();
  x.s.wait([&]() -> boost::asio::awaitable<int> {
    co_await x.s.db().sync_copies();
    co_return 0;
  }());
  REQUIRE(x.field(talk, "agent") == "a_ann");
  REQUIRE(x.field(talk, "status") == "active");
  REQUIRE(x.s.raw("SCARD", "{exceed}:copies").integer == 0);
  auto rev = x.field(talk, "rev");

  // A late copy of an older revision (a slower process) is ignored.
  std::vector<std::string> stale{"c1", "1", "queued", "v_casey", "", "", "support", "", "60000", "120000", "0.8"};
  auto put = x.s.wait(x.s.db().run_at(x.s.db().keys().talk_route("c1"), x.s.db().scripts().copy_put, stale));
  REQUIRE(put);
  REQUIRE(put->integer == 0);
  REQUIRE(x.field(talk, "agent") == "a_ann");
  REQUIRE(x.field(talk, "rev") == rev);

  // copy_done leaves a conversation listed when its record moved on since.
  x.s.raw("SADD", "{exceed}:copies", "c1");
  x.s.raw("HINCRBY", record, "rev", "1");
  std::vector<std::string> done{"c1", rev};
  REQUIRE(x.s.wait(x.s.db().run(x.s.db().scripts().copy_done, done))->integer == 0);
  REQUIRE(x.s.raw("SISMEMBER", "{exceed}:copies", "c1").integer == 1);
}

TEST_CASE("split: the response clock's half runs in the routing slot, once per step and in order") {
  Split x;
  REQUIRE(x.s.wait(x.conversations.start(chat())));
  x.assign_to_ann();
  x.s.wait([&]() -> boost::asio::awaitable<int> {
    co_await x.s.db().sync_copies();
    co_return 0;
  }());
  REQUIRE(x.s.raw("ZSCORE", "{exceed}:sla", "c1|first_response|breach").kind == store::Reply::Kind::string);

  // The first answer: seq 2 on the talk side, the first response counted
  // and its timers stopped on the routing side.
  auto first = x.send(ann(), "a-1", t0 + 30'000);
  REQUIRE(first);
  REQUIRE(first->seq == 2);
  REQUIRE(first->first_response == 30'000);
  REQUIRE(first->breached.empty());
  REQUIRE(x.field(record, "first_response_at") == std::to_string(t0 + 30'000));
  REQUIRE(x.field(record, "waiting_since").empty());
  REQUIRE(x.field(record, "clock_seq") == "2");
  REQUIRE(x.s.raw("ZSCORE", "{exceed}:sla", "c1|first_response|breach").is_nil());
  REQUIRE(x.field("{exceed}:sla:team:support", "first_response.met") == "1");

  // The customer writes again: a next-response wait starts on both sides.
  auto again = x.send(customer(), "c-2", t0 + 40'000);
  REQUIRE(again);
  REQUIRE(again->seq == 3);
  REQUIRE(x.field(record, "waiting_since") == std::to_string(t0 + 40'000));
  REQUIRE(x.s.raw("ZSCORE", "{exceed}:sla", "c1|next_response|breach").str == std::to_string(t0 + 160'000));

  // The same message resent: stored once, the clock not told twice.
  auto resent = x.send(customer(), "c-2", t0 + 41'000);
  REQUIRE(resent);
  REQUIRE(resent->duplicate);
  REQUIRE(resent->seq == 3);
  REQUIRE(x.field(record, "clock_seq") == "3");

  // A step overtaken by a later one (seq 2 after 3) is skipped.
  std::vector<std::string> late{"c1", "2", "agent", "a_ann", "support", std::to_string(t0 + 50'000), "", "0", "0", "0",
                                "next_response", "-1"};
  auto skipped = x.s.wait(x.s.db().run(x.s.db().scripts().clock, late));
  REQUIRE(skipped);
  REQUIRE(skipped->elements.at(0).str.empty());
  REQUIRE(x.field(record, "waiting_since") == std::to_string(t0 + 40'000));
  REQUIRE(x.s.raw("ZSCORE", "{exceed}:sla", "c1|next_response|breach").kind == store::Reply::Kind::string);
}

TEST_CASE("split: a message the server appends is written once however often it is asked") {
  Split x;
  REQUIRE(x.s.wait(x.conversations.start(chat(""))));
  REQUIRE(x.field(talk, "seq").empty());
  store::Db::TalkMessage notice{"c1", "ticket:1-0", "agent", "a_ann", "Ann", "Your refund is on its way", "ticket:1-0",
                                "", t0, ""};
  auto a = x.s.wait(x.s.db().append_talk(notice));
  auto b = x.s.wait(x.s.db().append_talk(notice));
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(*a == 1);
  REQUIRE(*b == 1);
  REQUIRE(x.s.raw("XLEN", talk + ":msgs").integer == 1);
  // The customer's first words start the wait on the talk side.
  store::Db::TalkMessage words{"c1", "start", "customer", "v_casey", "Casey", "Hello?", "", "", t0 + 5, "wait"};
  REQUIRE(*x.s.wait(x.s.db().append_talk(words)) == 2);
  REQUIRE(x.field(talk, "first_customer_at") == std::to_string(t0 + 5));
  REQUIRE(x.field(talk, "waiting_since") == std::to_string(t0 + 5));
  auto history = x.s.wait(x.conversations.history("c1", customer(), 0, 10));
  REQUIRE(history);
  REQUIRE(history->size() == 2);
  REQUIRE(history->at(1).text == "Hello?");
}
