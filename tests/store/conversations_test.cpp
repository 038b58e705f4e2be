// The conversation store against a real Redis: each of its scripts run
// directly, with the time passed in.
// scripts: access.lua csat.lua history.lua note.lua outcome.lua read.lua resolve.lua send.lua sla_rearm.lua
// scripts: start.lua
// scripts: prelude.lua (can_see, through access.lua: a stranger is refused, the customer sees)
#include "core/schedule.hpp"
#include "live_store.hpp"
#include "sample_chat.hpp"
#include "store/conversations.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace exceed;
using store::ConversationStore;
using Status = core::ConversationStatus;

namespace {

constexpr core::Millis t0 = 1'800'000'000'000;

core::Actor customer(std::string id = "v_casey") { return {core::Role::customer, std::move(id), ""}; }
core::Actor agent(std::string id = "a_ann", std::string teams = "support") {
  return {core::Role::agent, std::move(id), std::move(teams)};
}

// The team "support", with agent ann online and connected unless `online` is false.
void team(test::LiveStore& s, bool online = true) {
  s.raw("SADD", "exceed:teams", "support");
  s.raw("SADD", "exceed:team:support:agents", "a_ann");
  s.raw("HSET", "exceed:agent:a_ann", "status", online ? "online" : "offline", "conns", online ? "1" : "0",
        "capacity", "3", "active", "0", "offered", "0");
}

store::StartChat chat(std::string id, std::string text = "Where is my parcel?", core::Millis now = t0) {
  return test::sample_chat(std::move(id), std::move(text), now);
}

// Assigns a queued chat to ann directly, as an accepted offer leaves it.
void assign_to_ann(test::LiveStore& s, std::string const& conv) {
  s.raw("HSET", "exceed:conv:" + conv, "status", "active", "agent", "a_ann", "agent_name", "Ann");
  s.raw("ZREM", "exceed:queue:support", conv);
}

store::Append write(std::string conv, core::Actor by, std::string cmid, std::string text, core::Millis now) {
  return store::Append{std::move(conv), std::move(by), "Someone", std::move(cmid), std::move(text), now, ""};
}

// An append's seq (or "refused"), and the last stored text: for the tests
// that start the two in one turn.
boost::asio::awaitable<std::string> seq_of(ConversationStore& c, store::Append a) {
  auto r = co_await c.append(a);
  co_return r ? std::to_string(r->seq) : std::string("refused");
}
boost::asio::awaitable<std::string> last_text(ConversationStore& c, std::string conv) {
  auto m = co_await c.last_message(conv);
  co_return (m && *m) ? (*m)->text : std::string();
}

// A chat started, taken by ann, a customer message, its retry and the
// answer: what every way of running the scripts must store alike.
void converse(test::LiveStore& s) {
  team(s);
  ConversationStore c(s.db());
  REQUIRE(s.wait(c.start(chat("c1"))));
  assign_to_ann(s, "c1");
  REQUIRE(s.wait(c.append(write("c1", customer(), "m-2", "Any news?", t0 + 1'000)))->seq == 2);
  REQUIRE(s.wait(c.append(write("c1", customer(), "m-2", "Any news?", t0 + 2'000)))->duplicate);
  auto answer = s.wait(c.append(write("c1", agent(), "a-1", "It ships today.", t0 + 30'000)));
  REQUIRE(answer->seq == 3);
  REQUIRE(answer->first_response == 30'000);
  auto page = s.wait(c.history("c1", customer(), 0, 10));
  REQUIRE(page->size() == 3);
  REQUIRE(page->at(2).text == "It ships today.");
}

// The libraries Redis holds (FUNCTION LIST), by name.
std::vector<std::string> libraries(test::LiveStore& s) {
  std::vector<std::string> names;
  for (auto const& lib : s.raw("FUNCTION", "LIST").elements)
    for (std::size_t i = 0; i + 1 < lib.elements.size(); i += 2)
      if (lib.elements[i].str == "library_name") names.push_back(lib.elements[i + 1].str);
  return names;
}

}  // namespace

TEST_CASE("a chat starts queued with its first message, and starting again answers the open one") {
  test::LiveStore s;
  team(s);
  ConversationStore c(s.db());
  auto started = s.wait(c.start(chat("c1")));
  REQUIRE(started);
  REQUIRE(started->conversation_id == "c1");
  REQUIRE(started->status == Status::queued);
  REQUIRE(started->queue_position == 1);
  REQUIRE(started->created);
  REQUIRE(started->previous.empty());  // the customer's first conversation
  auto again = s.wait(c.start(chat("c2", "Hello?")));
  REQUIRE(again->conversation_id == "c1");
  REQUIRE_FALSE(again->created);
  auto first = s.wait(c.message("c1", 1));
  REQUIRE(first->value().text == "Where is my parcel?");
  REQUIRE(first->value().role == "customer");
  REQUIRE_FALSE(*s.wait(c.message("c1", 2)));

  // Once it is resolved a new chat starts, naming the one before it (the
  // assessment asks whether that one held), and the next names the newest.
  assign_to_ann(s, "c1");
  REQUIRE(s.wait(c.resolve("c1", agent(), t0 + 60'000)));
  auto second = s.wait(c.start(chat("c2", "Me again", t0 + 120'000)));
  REQUIRE(second->conversation_id == "c2");
  REQUIRE(second->created);
  REQUIRE(second->previous == "c1");
  assign_to_ann(s, "c2");
  REQUIRE(s.wait(c.resolve("c2", agent(), t0 + 180'000)));
  REQUIRE(s.wait(c.start(chat("c3", "And again", t0 + 240'000)))->previous == "c2");
}

TEST_CASE("a chat nobody can take is kept as a ticket with a notice, and stays the open one") {
  test::LiveStore s;
  team(s, false);
  ConversationStore c(s.db());
  auto started = s.wait(c.start(chat("c1")));
  REQUIRE(started->status == Status::ticket);
  REQUIRE(started->reason == "offline");
  REQUIRE(started->ticket_id == "t_c1");
  REQUIRE(s.wait(c.last_message("c1"))->value().text == "Nobody is online");
  REQUIRE(s.wait(c.start(chat("c2")))->conversation_id == "c1");
  SECTION("after hours the notice says so") {
    auto later = chat("c3");
    later.visitor = "v_other";
    later.team_open = false;
    auto closed = s.wait(c.start(later));
    REQUIRE(closed->reason == "after_hours");
    REQUIRE(s.wait(c.last_message("c3"))->value().text == "We are closed");
  }
}

TEST_CASE("in a big team one live agent is enough for a chat to wait for them, wherever they are in the list") {
  // start.lua looks at a few agents at random first and reads the whole
  // team only when none of those is live: the answer must not depend on
  // which ones the sample held.
  test::LiveStore s;
  s.raw("SADD", "exceed:teams", "support");
  for (int i = 0; i < 40; ++i) {
    auto id = "a_" + std::to_string(i);
    s.raw("SADD", "exceed:team:support:agents", id);
    // Online but without a connection, or connected but away: neither can take a chat.
    s.raw("HSET", "exceed:agent:" + id, "status", i % 2 ? "online" : "away", "conns", i % 2 ? "0" : "1");
  }
  ConversationStore c(s.db());
  for (int round = 0; round < 5; ++round) {
    auto offline = chat("c_off" + std::to_string(round));
    offline.visitor = "v_off" + std::to_string(round);
    auto kept = s.wait(c.start(offline));
    REQUIRE(kept->status == Status::ticket);
    REQUIRE(kept->reason == "offline");
  }
  s.raw("HSET", "exceed:agent:a_27", "status", "online", "conns", "2");
  for (int round = 0; round < 20; ++round) {
    auto live = chat("c_live" + std::to_string(round));
    live.visitor = "v_live" + std::to_string(round);
    auto queued = s.wait(c.start(live));
    REQUIRE(queued->status == Status::queued);
    REQUIRE(queued->queue_position == round + 1);
  }
}

TEST_CASE("a new chat's record, queue place and SLA timers are written as before the start was batched") {
  test::LiveStore s;
  team(s);
  ConversationStore c(s.db());
  REQUIRE(s.wait(c.start(chat("c1"))));
  auto f = [&](char const* field) { return s.raw("HGET", "exceed:conv:c1", field).str; };
  CHECK(f("status") == "queued");
  CHECK(f("seq") == "1");
  CHECK(f("first_customer_at") == std::to_string(t0));
  CHECK(f("waiting_since") == std::to_string(t0));
  CHECK(f("sla_due_first_response") == std::to_string(t0 + 60'000));
  CHECK(f("sla_due_resolution") == std::to_string(t0 + 3'600'000));
  CHECK(s.raw("ZSCORE", "exceed:sla", "c1|first_response|warn").str == std::to_string(t0 + 48'000));
  CHECK(s.raw("ZSCORE", "exceed:sla", "c1|first_response|breach").str == std::to_string(t0 + 60'000));
  CHECK(s.raw("ZSCORE", "exceed:sla", "c1|resolution|breach").str == std::to_string(t0 + 3'600'000));
  CHECK(std::stod(s.raw("ZSCORE", "exceed:queue:support", "c1").str) == std::stod(f("score")));
  CHECK(s.raw("ZSCORE", "exceed:visitor:v_casey:convs", "c1").str == std::to_string(t0));

  SECTION("without a first message no response clock runs") {
    auto quiet = chat("c2", "");
    quiet.visitor = "v_quiet";
    REQUIRE(s.wait(c.start(quiet))->status == Status::queued);
    CHECK(s.raw("HGET", "exceed:conv:c2", "seq").str == "0");
    CHECK(s.raw("HEXISTS", "exceed:conv:c2", "waiting_since").integer == 0);
    CHECK(s.raw("ZSCORE", "exceed:sla", "c2|first_response|breach").is_nil());
    CHECK(s.raw("ZSCORE", "exceed:sla", "c2|resolution|breach").str == std::to_string(t0 + 3'600'000));
  }
}

TEST_CASE("messages get gapless seqs, a retried client_msg_id its first seq, and the first answer is timed") {
  test::LiveStore s;
  team(s);
  ConversationStore c(s.db());
  REQUIRE(s.wait(c.start(chat("c1"))));
  assign_to_ann(s, "c1");
  auto second = s.wait(c.append(write("c1", customer(), "m-2", "Any news?", t0 + 1'000)));
  REQUIRE(second->seq == 2);
  REQUIRE_FALSE(second->duplicate);
  auto retried = s.wait(c.append(write("c1", customer(), "m-2", "Any news?", t0 + 5'000)));
  REQUIRE(retried->duplicate);
  REQUIRE(retried->seq == 2);
  REQUIRE(retried->ts == t0 + 1'000);
  auto answer = s.wait(c.append(write("c1", agent(), "a-1", "It ships today.", t0 + 30'000)));
  REQUIRE(answer->seq == 3);
  REQUIRE(answer->first_response == 30'000);
  REQUIRE(answer->breached.empty());
  REQUIRE(answer->visitor == "v_casey");
  REQUIRE(answer->agent == "a_ann");
  auto page = s.wait(c.history("c1", customer(), 1, 10));
  REQUIRE(page->size() == 2);
  REQUIRE(page->at(0).seq == 2);
  REQUIRE(page->at(1).sender_id == "a_ann");
}

TEST_CASE("the scripts run as one Redis Functions library, and by EVALSHA where Redis has none") {
  SECTION("functions: one library, every call an FCALL") {
    test::LiveStore s;
    converse(s);
    auto const libs = libraries(s);
    REQUIRE(libs.size() == 1);
    REQUIRE(libs[0].rfind("exceed_", 0) == 0);
    REQUIRE(s.calls_of("fcall") >= 5);
    REQUIRE(s.calls_of("evalsha") == 0);
    REQUIRE(s.calls_of("eval") == 0);
  }
  SECTION("a Redis that lost the library (FUNCTION FLUSH): the calls go on by EVAL and EVALSHA") {
    test::LiveStore s;
    s.raw("FUNCTION", "FLUSH");
    converse(s);
    REQUIRE(s.calls_of("eval") >= 1);
    REQUIRE(s.calls_of("evalsha") >= 1);
    // The library loaded again, as at the next link-up: FCALL again.
    s.db().load_scripts();
    auto const before = s.calls_of("fcall");
    ConversationStore c(s.db());
    REQUIRE(s.wait(c.append(write("c1", customer(), "m-4", "Still there?", t0 + 40'000)))->seq == 4);
    REQUIRE(s.calls_of("fcall") == before + 1);
  }
  SECTION("a Redis without functions (before 7.0): every script by EVALSHA") {
    test::RedisServerOptions no_functions;
    no_functions.more = {"--rename-command", "FCALL", "fcall_hidden", "--rename-command", "FUNCTION", "function_hidden"};
    test::LiveStore s("exceed:", no_functions);
    converse(s);
    REQUIRE(s.calls_of("evalsha") >= 5);
  }
  SECTION("redis.functions = false: no library, every script by EVALSHA") {
    test::LiveStore s("exceed:", {}, false);
    converse(s);
    REQUIRE(libraries(s).empty());
    REQUIRE(s.calls_of("fcall") == 0);
    REQUIRE(s.calls_of("evalsha") >= 5);
    REQUIRE(s.calls_of("eval") == 0);  // loaded as the link came up, none missed
  }
}

TEST_CASE("a Redis at its maxmemory: reads go on, a message is refused as unavailable with nothing written") {
  auto check = [](test::LiveStore& s) {
    team(s);
    ConversationStore c(s.db());
    REQUIRE(s.wait(c.start(chat("c1"))));
    assign_to_ann(s, "c1");
    s.raw("CONFIG", "SET", "maxmemory", "1");  // whatever it holds is over the limit
    auto refused = s.wait(c.append(write("c1", customer(), "m-2", "Anyone?", t0 + 1'000)));
    REQUIRE_FALSE(refused);
    REQUIRE(refused.failure().kind == store::Failure::Kind::unavailable);
    auto page = s.wait(c.history("c1", customer(), 0, 10));  // a script that only reads
    REQUIRE(page);
    REQUIRE(page->size() == 1);
    REQUIRE(s.raw("HEXISTS", "exceed:conv:c1:cmid", "v_casey:m-2").integer == 0);
    s.raw("CONFIG", "SET", "maxmemory", "0");
    REQUIRE(s.wait(c.append(write("c1", customer(), "m-2", "Anyone?", t0 + 2'000)))->seq == 2);
  };
  SECTION("as Redis Functions") {
    test::LiveStore s;
    check(s);
  }
  SECTION("by EVALSHA") {
    test::LiveStore s("exceed:", {}, false);
    check(s);
  }
}

TEST_CASE("the messages of one turn are stored by one script call, each checked and numbered on its own") {
  test::LiveStore s;
  team(s);
  ConversationStore c(s.db());
  REQUIRE(s.wait(c.start(chat("c1"))));
  assign_to_ann(s, "c1");
  auto before = s.calls_of("fcall");
  // append() keeps a reference to its argument: they outlive the calls.
  std::vector<store::Append> const writes{
      write("c1", customer(), "m-2", "one", t0 + 1'000),
      write("c1", customer("v_mallory"), "x-1", "not mine", t0 + 1'000),
      write("c1", agent(), "a-1", "two", t0 + 1'000),
      write("c1", customer(), "m-2", "one", t0 + 1'000),  // retried in the same turn
      write("c1", customer(), "m-3", "three", t0 + 1'000)};
  std::vector<boost::asio::awaitable<store::Result<store::Appended>>> sends;
  for (auto const& w : writes) sends.push_back(c.append(w));
  auto out = s.wait_all(std::move(sends));
  REQUIRE(s.calls_of("fcall") == before + 1);
  REQUIRE(out[0]->seq == 2);
  REQUIRE_FALSE(out[0]->duplicate);
  REQUIRE(out[1].failure().refusal == core::Refusal::forbidden);
  REQUIRE(out[2]->seq == 3);
  REQUIRE(out[2]->first_response == 1'000);
  REQUIRE(out[3]->seq == 2);
  REQUIRE(out[3]->duplicate);
  REQUIRE(out[4]->seq == 4);
  REQUIRE(s.wait(c.message("c1", 4))->value().text == "three");
  REQUIRE_FALSE(*s.wait(c.message("c1", 5)));

  SECTION("a command issued after them in the same turn reaches Redis after them") {
    // Started together: the append waits for the end of the turn, the read
    // does not, yet the read's command is written after the group.
    std::vector<boost::asio::awaitable<std::string>> both;
    both.push_back(seq_of(c, write("c1", customer(), "m-5", "five", t0 + 2'000)));
    both.push_back(last_text(c, "c1"));
    auto got = s.wait_all(std::move(both));
    REQUIRE(got[0] == "5");
    REQUIRE(got[1] == "five");
  }
}

TEST_CASE("the read receipts of one turn are recorded by one script call, each checked on its own") {
  test::LiveStore s;
  team(s);
  ConversationStore c(s.db());
  REQUIRE(s.wait(c.start(chat("c1"))));
  assign_to_ann(s, "c1");
  REQUIRE(s.wait(c.append(write("c1", agent(), "a-1", "two", t0 + 1'000))));
  auto before = s.calls_of("fcall");
  // read() keeps references to its arguments: they outlive the calls.
  struct Receipt {
    std::string conv;
    core::Actor by;
    std::int64_t seq;
  };
  std::vector<Receipt> const receipts{{"c1", customer(), 2},
                                      {"c1", customer("v_mallory"), 2},  // not theirs
                                      {"c1", agent(), 99},               // past the end: capped
                                      {"c_none", agent(), 1},            // no such conversation
                                      {"c1", customer(), 1}};            // behind what they read: kept at 2
  std::vector<boost::asio::awaitable<store::Result<ConversationStore::ReadMark>>> reads;
  for (auto const& r : receipts) reads.push_back(c.read(r.conv, r.by, r.seq));
  auto out = s.wait_all(std::move(reads));
  REQUIRE(s.calls_of("fcall") == before + 1);
  REQUIRE(out[0]->seq == 2);
  REQUIRE(out[0]->visitor == "v_casey");
  REQUIRE(out[0]->agent == "a_ann");
  REQUIRE(out[1].failure().refusal == core::Refusal::forbidden);
  REQUIRE(out[2]->seq == 2);
  REQUIRE(out[3].failure().refusal == core::Refusal::not_found);
  REQUIRE(out[4]);
  REQUIRE(s.raw("HGET", "exceed:conv:c1", "read_customer").str == "2");
  REQUIRE(s.raw("HGET", "exceed:conv:c1", "read_agent").str == "2");
}

TEST_CASE("a late answer is counted against its target") {
  test::LiveStore s;
  team(s);
  ConversationStore c(s.db());
  REQUIRE(s.wait(c.start(chat("c1"))));
  assign_to_ann(s, "c1");
  auto late = s.wait(c.append(write("c1", agent(), "a-1", "Sorry for the wait", t0 + 61'000)));
  REQUIRE(late->breached == "first_response");
  REQUIRE(s.raw("HGET", "exceed:sla:team:support", "first_response.breached").str == "1");
}

TEST_CASE("only the conversation's people write, read and see it, and a resolved one takes nothing more") {
  test::LiveStore s;
  team(s);
  ConversationStore c(s.db());
  REQUIRE(s.wait(c.start(chat("c1"))));
  assign_to_ann(s, "c1");
  auto stranger = s.wait(c.append(write("c1", customer("v_mallory"), "x", "hi", t0)));
  REQUIRE(stranger.failure().refusal == core::Refusal::forbidden);
  REQUIRE(s.wait(c.view("c1", agent("a_sam", "sales"))).failure().refusal == core::Refusal::forbidden);
  REQUIRE(s.wait(c.view("c_none", customer())).failure().refusal == core::Refusal::not_found);
  auto seen = s.wait(c.view("c1", customer()));
  REQUIRE(seen->status == Status::active);
  REQUIRE(seen->agent == "a_ann");
  REQUIRE(seen->last_seq == 1);
  REQUIRE(seen->fields.text("visitor_name") == "Casey");

  auto mark = s.wait(c.read("c1", agent(), 99));
  REQUIRE(mark->seq == 1);  // never past the last message
  REQUIRE(mark->visitor == "v_casey");

  auto noted = s.wait(c.note("c1", agent(), "Ann", "VIP customer", t0));
  REQUIRE(noted->note_id.size() > 0);
  REQUIRE(s.wait(c.history("c1", customer(), 0, 10))->size() == 1);  // notes are not messages

  auto resolved = s.wait(c.resolve("c1", agent(), t0 + 100'000));
  REQUIRE(resolved->previous == Status::active);
  REQUIRE(resolved->agent == "a_ann");
  auto after = s.wait(c.append(write("c1", customer(), "late", "one more thing", t0 + 200'000)));
  REQUIRE(after.failure().refusal == core::Refusal::conflict);
  REQUIRE(s.wait(c.resolve("c1", agent(), t0 + 200'000)).failure().refusal == core::Refusal::conflict);
}

TEST_CASE("the customer's answer comes in parts, each once, within its window, and the agent records the outcome") {
  test::LiveStore s;
  team(s);
  ConversationStore c(s.db());
  REQUIRE(s.wait(c.start(chat("c1"))));
  assign_to_ann(s, "c1");
  store::CsatAnswer early{"c1", "v_casey", 5, "", "", "", t0, 86'400'000};
  REQUIRE(s.wait(c.csat(early)).failure().refusal == core::Refusal::conflict);  // not resolved yet
  REQUIRE(s.wait(c.resolve("c1", agent(), t0 + 10)));

  store::CsatAnswer tap{"c1", "v_casey", std::nullopt, "", "", "yes", t0 + 20, 86'400'000};
  auto parts = s.wait(c.csat(tap));
  REQUIRE_FALSE(parts->rating);
  REQUIRE(parts->solved == "yes");
  store::CsatAnswer stars{"c1", "v_casey", 4, "exceeded", "", "", t0 + 30, 86'400'000};
  parts = s.wait(c.csat(stars));
  REQUIRE(parts->rating == 4);
  REQUIRE(parts->expectation == "exceeded");
  REQUIRE(s.wait(c.csat(stars)).failure().refusal == core::Refusal::conflict);  // once
  store::CsatAnswer stranger{"c1", "v_mallory", 1, "", "", "", t0 + 40, 86'400'000};
  REQUIRE(s.wait(c.csat(stranger)).failure().refusal == core::Refusal::forbidden);
  store::CsatAnswer late{"c1", "v_casey", std::nullopt, "", "too late", "", t0 + 10 + 86'400'000, 86'400'000};
  REQUIRE(s.wait(c.csat(late)).failure().refusal == core::Refusal::conflict);

  auto rec = s.wait(c.outcome({"c1", agent(), "workaround", "sent a spare part", t0 + 50}));
  REQUIRE(rec->status == Status::resolved);
  REQUIRE(rec->outcome == "workaround");
  REQUIRE(rec->went_beyond == "sent a spare part");
  REQUIRE(s.wait(c.outcome({"c1", customer(), "solved", "", t0 + 60})).failure().refusal == core::Refusal::forbidden);
}

TEST_CASE("the conversations a hello lists, and a record of the wrong shape") {
  test::LiveStore s;
  team(s);
  ConversationStore c(s.db());
  REQUIRE(s.wait(c.start(chat("c1"))));
  REQUIRE(*s.wait(c.of_visitor("v_casey", 20)) == std::vector<std::string>{"c1"});
  s.raw("SADD", "exceed:agent:a_ann:convs", "c1");
  REQUIRE(*s.wait(c.of_agent("a_ann")) == std::vector<std::string>{"c1"});
  REQUIRE(s.wait(c.get("c1"))->value().visitor == "v_casey");
  REQUIRE_FALSE(*s.wait(c.get("c_none")));
  s.raw("HSET", "exceed:conv:c_odd", "id", "c_odd", "status", "archived");
  auto odd = s.wait(c.get("c_odd"));
  REQUIRE_FALSE(odd);
  REQUIRE(odd.failure().kind == store::Failure::Kind::protocol);
}

TEST_CASE("a hello's glance: where a conversation stands, the chats offered to an agent, and the whole transcript") {
  test::LiveStore s;
  team(s);
  ConversationStore c(s.db());
  REQUIRE(s.wait(c.start(chat("c1"))));
  auto standing = s.wait(c.standing("c1"));
  REQUIRE(standing->value().status == Status::queued);
  REQUIRE(standing->value().last_seq == 1);
  REQUIRE(standing->value().team == "support");
  REQUIRE_FALSE(*s.wait(c.standing("c_none")));

  s.raw("HSET", "exceed:conv:c1", "status", "offered", "offered_to", "a_ann", "offer_expires",
        std::to_string(t0 + 20'000), "preview", "Where is my parcel?");
  s.raw("SADD", "exceed:agent:a_ann:offers", "c1");
  REQUIRE(*s.wait(c.offered_to("a_ann")) == std::vector<std::string>{"c1"});
  auto offered = s.wait(c.get("c1"))->value();
  REQUIRE(offered.offer_expires == t0 + 20'000);
  REQUIRE(offered.preview == "Where is my parcel?");
  REQUIRE(offered.context_json == "{}");

  assign_to_ann(s, "c1");
  REQUIRE(s.wait(c.append(write("c1", agent(), "a-1", "It ships today.", t0 + 30'000))));
  REQUIRE(s.wait(c.append(write("c1", customer(), "m-2", "Thanks!", t0 + 40'000))));
  auto all = s.wait(c.transcript("c1", 5000));
  REQUIRE(all->size() == 3);
  REQUIRE(all->at(1).text == "It ships today.");
  REQUIRE(all->at(2).seq == 3);
  REQUIRE(s.wait(c.transcript("c1", 2))->size() == 2);
  REQUIRE(s.wait(c.transcript("c_none", 10))->empty());
}

TEST_CASE("the record tells what people said of the end: the customer's answer and the agent's record") {
  test::LiveStore s;
  ConversationStore c(s.db());
  s.raw("HSET", "exceed:conv:c1", "id", "c1", "status", "resolved", "created_at", std::to_string(t0), "assigned_at",
        std::to_string(t0 + 5'000), "resolved_at", std::to_string(t0 + 60'000), "transfers", "1", "csat_rating", "4",
        "csat_solved", "yes", "outcome", "workaround", "went_beyond", "a spare cable");
  auto rec = s.wait(c.get("c1"))->value();
  REQUIRE(rec.assigned_at == t0 + 5'000);
  REQUIRE(rec.resolved_at == t0 + 60'000);
  REQUIRE(rec.transfers == 1);
  REQUIRE(rec.facts.csat.rating == 4);
  REQUIRE(rec.facts.csat.solved == "yes");
  REQUIRE(rec.facts.csat.expectation.empty());
  REQUIRE(rec.facts.outcome == "workaround");
  REQUIRE(rec.facts.went_beyond == "a spare cable");
  s.raw("HSET", "exceed:conv:c2", "id", "c2", "status", "active");
  auto open = s.wait(c.get("c2"))->value();
  REQUIRE_FALSE(open.resolved_at);
  REQUIRE_FALSE(open.facts.csat.rating);
}

TEST_CASE("the conversations newest first in steps, and many records read at once as their viewer may see them") {
  test::LiveStore s;
  team(s);
  ConversationStore c(s.db());
  // Three customers' chats, a millisecond apart.
  for (int i = 0; i < 3; ++i) {
    auto one = chat("c" + std::to_string(i), "Hello", t0 + i);
    one.visitor = "v_" + std::to_string(i);
    REQUIRE(s.wait(c.start(one)));
  }
  auto first = s.wait(c.newest("", "+inf", 2));
  REQUIRE(first);
  REQUIRE(first->size() == 2);
  REQUIRE((*first)[0].id == "c2");
  REQUIRE((*first)[1].id == "c1");
  REQUIRE((*first)[1].created == std::to_string(t0 + 1));
  // From the last one seen down: it again (inclusive), then the older one.
  auto next = s.wait(c.newest("", (*first)[1].created, 2));
  REQUIRE(next->size() == 2);
  REQUIRE((*next)[1].id == "c0");
  auto own = s.wait(c.newest("v_1", "+inf", 10));
  REQUIRE(own->size() == 1);
  REQUIRE((*own)[0].id == "c1");

  // A customer sees their own only; a gone one is nothing, not a failure.
  auto seen = s.wait(c.views({"c0", "c1", "gone"}, customer("v_1")));
  REQUIRE(seen);
  REQUIRE(seen->size() == 3);
  REQUIRE_FALSE((*seen)[0].has_value());
  REQUIRE((*seen)[1].has_value());
  REQUIRE((*seen)[1]->visitor == "v_1");
  REQUIRE_FALSE((*seen)[2].has_value());
  auto team_view = s.wait(c.views({"c0", "c1", "c2"}, agent()));
  REQUIRE(std::all_of(team_view->begin(), team_view->end(), [](auto const& r) { return r.has_value(); }));

  // An index of the wrong shape is a protocol failure, not an empty page.
  s.raw("DEL", "exceed:convs");
  s.raw("SET", "exceed:convs", "not a sorted set");
  auto odd = s.wait(c.newest("", "+inf", 2));
  REQUIRE_FALSE(odd);
}

TEST_CASE("a customer's new wait is reported by the append and moved to the deadline core counted in business hours") {
  // Open mon-fri 09:00-17:00 UTC. Casey's chat is answered, then she writes
  // at 16:59 with a 2-minute next-response target: 1 minute tonight, 1 from
  // Tuesday's opening.
  core::BusinessHours hours;
  REQUIRE(hours.add_rule("mon-fri 09:00-17:00"));
  auto const monday = core::parse_rfc3339("2026-11-23T10:00:00Z").value();
  auto const late = core::parse_rfc3339("2026-11-23T16:59:00Z").value();
  auto const due = core::parse_rfc3339("2026-11-24T09:01:00Z").value();
  test::LiveStore s;
  team(s);
  ConversationStore c(s.db());
  REQUIRE(s.wait(c.start(chat("c1", "Where is my parcel?", monday))));
  assign_to_ann(s, "c1");
  auto answer = s.wait(c.append(write("c1", agent(), "a-1", "It ships today.", monday + 30'000)));
  REQUIRE(answer);
  REQUIRE_FALSE(answer->wait);  // an agent's message starts no wait

  auto asked = s.wait(c.append(write("c1", customer(), "m-2", "Still nothing", late)));
  REQUIRE(asked);
  REQUIRE(asked->wait);
  REQUIRE(asked->wait->metric == core::SlaMetric::next_response);
  REQUIRE(asked->wait->team == "support");
  REQUIRE(asked->wait->target == 120'000);
  REQUIRE(asked->wait->warning_ratio == Approx(0.8));
  // Armed on the wall clock first.
  REQUIRE(s.raw("ZSCORE", "exceed:sla", "c1|next_response|breach").str == std::to_string(late + 120'000));
  auto again = s.wait(c.append(write("c1", customer(), "m-3", "Hello?", late + 1'000)));
  REQUIRE(again);
  REQUIRE_FALSE(again->wait);  // she already waits

  auto at = core::sla_deadline(chat("c1").sla, core::SlaMetric::next_response, hours, core::TimeZone::utc(), late);
  REQUIRE(at);
  REQUIRE(at->due_at == due);
  auto other_wait = s.wait(c.rearm_wait("c1", *asked->wait, late - 1, *at));
  REQUIRE(other_wait);
  REQUIRE_FALSE(*other_wait);  // not the wait that runs
  auto moved = s.wait(c.rearm_wait("c1", *asked->wait, late, *at));
  REQUIRE(moved);
  REQUIRE(*moved);
  REQUIRE(s.raw("HGET", "exceed:conv:c1", "sla_due_next_response").str == std::to_string(due));
  REQUIRE(s.raw("ZSCORE", "exceed:sla", "c1|next_response|breach").str == std::to_string(due));
  REQUIRE(s.raw("ZSCORE", "exceed:sla", "c1|next_response|warn").str == std::to_string(at->warn_at));

  // Answered at 09:00:30 on Tuesday: late by the wall clock, in time by the team's hours.
  auto reply = s.wait(c.append(write("c1", agent(), "a-2", "Found it", due - 30'000)));
  REQUIRE(reply);
  REQUIRE(reply->breached.empty());
  REQUIRE(s.raw("HGET", "exceed:conv:c1", "out_next_response_met").str == "1");
  auto ended = s.wait(c.rearm_wait("c1", *asked->wait, late, *at));
  REQUIRE(ended);
  REQUIRE_FALSE(*ended);  // the wait ended: nothing to move
}
