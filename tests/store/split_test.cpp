// A conversation's two sides as on a Redis Cluster (a prefix with a hash
// tag: store::Keys::split, lua/prelude.lua), on one real redis-server: the
// record in the routing slot is the truth, its talk side (messages,
// client_msg_ids, the copy a send checks) is written by the scripts run here.
// scripts: append.lua clock.lua copy_done.lua copy_put.lua copy_take.lua
// scripts: send.lua start.lua sla_due.lua (their SPLIT halves)
#include "live_store.hpp"
#include "sample_chat.hpp"
#include "store/conversations.hpp"
#include "store/figures.hpp"
#include "store/routing.hpp"
#include "store/scripts.hpp"

#include <catch2/catch.hpp>

using namespace exceed;
using store::ConversationStore;

namespace {

constexpr core::Millis t0 = 1'800'000'000'000;
std::string const record = "{exceed}:conv:c1";
// "c1" ends in hex c1: bucket 193 (store::Keys::bucket_of).
std::string const bucket = "exceed:{t193}:";
std::string const talk = bucket + "conv:c1";
std::string const timers = bucket + "sla";

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
  void sync() {
    s.wait([this]() -> boost::asio::awaitable<int> {
      co_await s.db().sync_copies();
      co_return 0;
    }());
  }
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
  // The record: routing's; no seq, no response wait kept there.
  REQUIRE(x.field(record, "status") == "queued");
  REQUIRE(x.field(record, "waiting_since").empty());
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
  x.sync();
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

TEST_CASE("split: the response clock runs in the conversation's bucket, beside its messages") {
  Split x;
  REQUIRE(x.s.wait(x.conversations.start(chat())));
  // The first words started the first response's wait in the bucket; the
  // routing slot keeps only the resolution's.
  REQUIRE(x.field(talk, "waiting_since") == std::to_string(t0));
  REQUIRE(x.s.raw("ZSCORE", timers, "c1|first_response|breach").str == std::to_string(t0 + 60'000));
  REQUIRE(x.s.raw("ZSCORE", "{exceed}:sla", "c1|first_response|breach").is_nil());
  REQUIRE(x.s.raw("ZSCORE", "{exceed}:sla", "c1|resolution|breach").kind == store::Reply::Kind::string);
  REQUIRE(x.field(record, "first_customer_at") == std::to_string(t0));
  x.assign_to_ann();
  x.sync();

  // The first answer: the wait met, counted in the bucket and on the talk
  // side; the record hears the first response (clock.lua).
  auto first = x.send(ann(), "a-1", t0 + 30'000);
  REQUIRE(first);
  REQUIRE(first->seq == 2);
  REQUIRE(first->first_response == 30'000);
  REQUIRE(first->breached.empty());
  REQUIRE(x.field(talk, "waiting_since").empty());
  REQUIRE(x.s.raw("ZSCORE", timers, "c1|first_response|breach").is_nil());
  REQUIRE(x.field(talk, "out_first_response_met") == "1");
  REQUIRE(x.field(bucket + "sla:team:support", "first_response.met") == "1");
  REQUIRE(x.field(bucket + "sla:agent:a_ann", "first_response.met") == "1");
  REQUIRE(x.field(record, "first_response_at") == std::to_string(t0 + 30'000));

  // The customer writes again: the next response's wait, in the bucket.
  auto again = x.send(customer(), "c-2", t0 + 40'000);
  REQUIRE(again);
  REQUIRE(again->seq == 3);
  REQUIRE(x.field(talk, "waiting_since") == std::to_string(t0 + 40'000));
  REQUIRE(x.s.raw("ZSCORE", timers, "c1|next_response|breach").str == std::to_string(t0 + 160'000));
  // The same message resent: stored once, the wait not started again.
  auto resent = x.send(customer(), "c-2", t0 + 41'000);
  REQUIRE(resent);
  REQUIRE(resent->duplicate);
  REQUIRE(resent->seq == 3);
  REQUIRE(x.field(talk, "waiting_since") == std::to_string(t0 + 40'000));

  // Answered 40 s late: a breach, on the record and in the team's counts.
  auto late = x.send(ann(), "a-2", t0 + 200'000);
  REQUIRE(late);
  REQUIRE(late->breached == "next_response");
  REQUIRE(x.field(record, "breach_next_response") == "40000");
  REQUIRE(x.field(record, "out_next_response_breached") == "1");
  REQUIRE(x.field("{exceed}:sla:team:support", "next_response.breached") == "1");
  REQUIRE(x.s.raw("ZSCORE", timers, "c1|next_response|breach").is_nil());

  // Summed for the figures: the bucket's met, the routing slot's breaches.
  store::FigureStore figures(x.s.db());
  auto counts = x.s.wait(figures.sla_of_team("support"));
  REQUIRE(counts);
  REQUIRE(counts->at("first_response").met == 1);
  REQUIRE(counts->at("next_response").breached == 1);
  // And per conversation for the reports: met from the talk side, the
  // breach from the record.
  store::FactsQuery q;
  q.from = t0 - 1;
  q.to = t0 + 1;
  auto page = x.s.wait(figures.report_facts(q));
  REQUIRE(page);
  REQUIRE(page->facts.size() == 1);
  REQUIRE(page->facts[0].sla.at("first_response").met == 1);
  REQUIRE(page->facts[0].sla.at("next_response").breached == 1);
  REQUIRE(page->facts[0].sla.at("next_response").met == 0);
}

TEST_CASE("split: a wait nobody answers is swept in its bucket, and ends when the chat does") {
  Split x;
  REQUIRE(x.s.wait(x.conversations.start(chat())));
  x.assign_to_ann();
  x.sync();
  // Nobody answers: the warning, then the breach, each once, whichever
  // quarter of the buckets a sweep looks at.
  store::RoutingStore routing(x.s.db());
  std::vector<store::SlaDue> fired;
  for (int sweep = 0; sweep < 4; ++sweep) {
    auto due = x.s.wait(routing.sla_due(t0 + 70'000, 100));
    REQUIRE(due);
    for (auto const& d : *due) fired.push_back(d);
  }
  std::vector<std::string> seen;
  for (auto const& d : fired) seen.push_back(d.id + " " + d.metric + (d.breach ? " breach" : " warn"));
  REQUIRE(seen == std::vector<std::string>{"c1 first_response warn", "c1 first_response breach"});
  REQUIRE(fired[1].agent == "a_ann");
  REQUIRE(fired[1].team == "support");
  // The breach told to the record: 10 s late.
  REQUIRE(x.field(record, "breach_first_response") == "10000");
  REQUIRE(x.field("{exceed}:sla:team:support", "first_response.breached") == "1");
  for (int sweep = 0; sweep < 4; ++sweep) REQUIRE(x.s.wait(routing.sla_due(t0 + 80'000, 100))->empty());

  // A wait still running when the chat is resolved ends with it.
  REQUIRE(x.send(ann(), "a-1", t0 + 90'000));
  REQUIRE(x.send(customer(), "c-2", t0 + 95'000));
  REQUIRE(x.s.raw("ZSCORE", timers, "c1|next_response|breach").kind == store::Reply::Kind::string);
  x.s.raw("HSET", record, "status", "resolved");
  x.s.raw("HINCRBY", record, "rev", "1");
  x.s.raw("SADD", "{exceed}:copies", "c1");
  x.sync();
  REQUIRE(x.s.raw("ZSCORE", timers, "c1|next_response|breach").is_nil());
  REQUIRE(x.field(talk, "waiting_since").empty());
}

TEST_CASE("split: a conversation's bucket is the same in C++ and in the scripts") {
  REQUIRE(store::Keys::bucket_of("c_0823f8ac76287e7138f2") == 0xf2);
  REQUIRE(store::Keys::bucket_of("c1") == 0xc1);
  // Not ending in two lowercase hex digits: the sum of the bytes.
  REQUIRE(store::Keys::bucket_of("chat-7Z") == ('c' + 'h' + 'a' + 't' + '-' + '7' + 'Z') % 256);
  REQUIRE(store::Keys::bucket_of("x") == 'x');
  store::Keys keys("{exceed}:");
  REQUIRE(keys.talk("c1") == talk);
  // The scripts put each of those where Keys says (start.lua, append.lua).
  for (std::string id : {"chat-7Z", "x", "c_AB"}) {
    Split x;
    auto c = test::sample_chat(id, "Hello?", t0);
    REQUIRE(x.s.wait(x.conversations.start(c)));
    INFO(id);
    REQUIRE(x.s.raw("EXISTS", keys.talk(id)).integer == 1);
    REQUIRE(x.s.raw("XLEN", keys.messages(id)).integer == 1);
    REQUIRE(x.s.raw("ZCARD", keys.bucket(store::Keys::bucket_of(id)) + "sla").integer == 2);  // warn, breach
  }
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
