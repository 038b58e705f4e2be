// The saved replies store against a real Redis: one reply per shortcut in
// each scope, changes, deletion with its shortcut, counted uses, and the
// lists an agent reads.
// scripts: replies_list.lua reply_delete.lua reply_save.lua reply_use.lua
#include "live_store.hpp"
#include "store/replies.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace exceed;
using store::ReplyStore;

namespace {

constexpr core::Millis t0 = 1'800'000'000'000;

core::SavedReply shared(std::string id, std::string shortcut, std::string team = "support") {
  core::SavedReply r;
  r.id = std::move(id);
  r.scope = core::ReplyScope::team;
  r.team = std::move(team);
  r.shortcut = std::move(shortcut);
  r.title = "Refund";
  r.text = "Hi {{customer.name}}, your refund is on its way.";
  return r;
}

core::SavedReply own(std::string id, std::string shortcut, std::string owner = "a_ann") {
  core::SavedReply r;
  r.id = std::move(id);
  r.scope = core::ReplyScope::personal;
  r.owner = std::move(owner);
  r.shortcut = std::move(shortcut);
  r.text = "Thanks for waiting!";
  return r;
}

}  // namespace

TEST_CASE("a saved reply is created, read, changed, used and deleted") {
  test::LiveStore s;
  ReplyStore replies(s.db());
  auto made = s.wait(replies.save(shared("r_1", "refund"), "u_boss", t0, true));
  REQUIRE(made);
  REQUIRE(made->reply.uses == 0);
  REQUIRE(made->created_by == "u_boss");
  REQUIRE(made->created_at == t0);
  REQUIRE((*s.wait(replies.get("r_1")))->reply.shortcut == "refund");
  REQUIRE_FALSE(*s.wait(replies.get("r_none")));

  auto changed = shared("r_1", "money-back");
  REQUIRE(s.wait(replies.save(changed, "u_boss", t0 + 1'000, false))->reply.shortcut == "money-back");
  SECTION("its old shortcut is free again") { REQUIRE(s.wait(replies.save(shared("r_2", "refund"), "u_boss", t0, true))); }

  REQUIRE(s.wait(replies.use("r_1"))->reply.uses == 1);
  REQUIRE(s.wait(replies.use("r_1"))->reply.uses == 2);
  REQUIRE(s.wait(replies.remove(changed)));
  REQUIRE_FALSE(*s.wait(replies.get("r_1")));
  SECTION("a use of a deleted reply brings nothing back") {
    auto used = s.wait(replies.use("r_1"));
    REQUIRE(used.failure().refusal == core::Refusal::not_found);
    REQUIRE(s.raw("EXISTS", "exceed:reply:r_1").integer == 0);
  }
  REQUIRE(s.wait(replies.save(shared("r_3", "money-back"), "u_boss", t0, true)));
}

TEST_CASE("a shortcut names one reply in its scope, and may be used again in another") {
  test::LiveStore s;
  ReplyStore replies(s.db());
  REQUIRE(s.wait(replies.save(shared("r_1", "refund"), "u_boss", t0, true)));
  auto taken = s.wait(replies.save(shared("r_2", "refund"), "u_boss", t0, true));
  REQUIRE_FALSE(taken);
  REQUIRE(taken.failure().refusal == core::Refusal::conflict);
  REQUIRE(s.wait(replies.save(shared("r_3", "refund", "sales"), "u_boss", t0, true)));
  REQUIRE(s.wait(replies.save(own("r_4", "refund"), "a_ann", t0, true)));
  auto gone = s.wait(replies.save(own("r_none", "x"), "a_ann", t0, false));
  REQUIRE(gone.failure().refusal == core::Refusal::not_found);
}

TEST_CASE("an agent's list holds their teams' shared replies and their own") {
  test::LiveStore s;
  ReplyStore replies(s.db());
  REQUIRE(s.wait(replies.save(shared("r_1", "refund"), "u_boss", t0, true)));
  REQUIRE(s.wait(replies.save(shared("r_2", "invoice", "sales"), "u_boss", t0, true)));
  REQUIRE(s.wait(replies.save(own("r_3", "thanks"), "a_ann", t0, true)));
  REQUIRE(s.wait(replies.save(own("r_4", "bye", "a_bob"), "a_bob", t0, true)));
  std::vector<std::string> support{"support"};
  auto ann = s.wait(replies.list(support, "a_ann"));
  REQUIRE(ann->size() == 2);
  std::vector<std::string> ids;
  for (auto const& r : *ann) ids.push_back(r.reply.id);
  std::sort(ids.begin(), ids.end());
  REQUIRE(ids == std::vector<std::string>{"r_1", "r_3"});  // not sales' r_2, not Bob's r_4
  SECTION("a reply deleted leaves the lists it was in") {
    REQUIRE(s.wait(replies.remove(own("r_3", "thanks"))));
    auto left = s.wait(replies.list(support, "a_ann"));
    REQUIRE(left->size() == 1);
    REQUIRE(left->at(0).reply.id == "r_1");
  }
  std::vector<std::string> none;
  REQUIRE(s.wait(replies.list(none, ""))->empty());
}

TEST_CASE("a reply is filled from the conversation's customer, agent and context") {
  test::LiveStore s;
  ReplyStore replies(s.db());
  s.raw("HSET", "exceed:conv:c_1", "visitor_name", "Dana", "context", R"({"cart":{"value":129}})");
  s.raw("HSET", "exceed:user:a_ann", "name", "Ann Agent");
  auto c = s.wait(replies.context("c_1", "a_ann"));
  REQUIRE(c->customer_name == "Dana");
  REQUIRE(c->agent_name == "Ann Agent");
  REQUIRE(c->context_json == R"({"cart":{"value":129}})");
}
