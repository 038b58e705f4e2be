// Saved replies: shortcuts and placeholders as an agent writes them, who
// sees and changes which, how a search ranks them, and the filling of a
// reply from the conversation before the agent sends it.
#include "core/replies.hpp"

#include <catch2/catch.hpp>

using namespace exceed::core;

namespace {

SavedReply reply(std::string shortcut, std::string title, std::string text) {
  SavedReply r;
  r.id = "r_" + shortcut;
  r.scope = ReplyScope::team;
  r.team = "support";
  r.shortcut = std::move(shortcut);
  r.title = std::move(title);
  r.text = std::move(text);
  return r;
}

Actor agent(std::string id, std::string teams) { return {Role::agent, std::move(id), std::move(teams)}; }
Actor supervisor() { return {Role::supervisor, "u_boss", ""}; }

}  // namespace

TEST_CASE("a shortcut is a short lower-case word") {
  REQUIRE(valid_shortcut("refund"));
  REQUIRE(valid_shortcut("late-parcel_2"));
  REQUIRE_FALSE(valid_shortcut(""));
  REQUIRE_FALSE(valid_shortcut("Refund"));
  REQUIRE_FALSE(valid_shortcut("/refund"));
  REQUIRE_FALSE(valid_shortcut("two words"));
  REQUIRE_FALSE(valid_shortcut(std::string(33, 'a')));
}

TEST_CASE("a reply may use only the placeholders the console can fill") {
  REQUIRE(template_problem("Hi {{customer.name}}, this is {{ agent.name }}.").empty());
  REQUIRE(template_problem("no placeholders at all").empty());
  REQUIRE(template_problem("Hi {{customer.password}}") == "unknown placeholder {{customer.password}}");
  REQUIRE(template_problem("Hi {{customer.name") == "a placeholder opened with {{ is not closed with }}");
}

TEST_CASE("placeholders are filled from the conversation, and the missing ones are named") {
  std::map<std::string, std::string, std::less<>> values{
      {"customer.name", "Dana"}, {"agent.name", "Ann Agent"}, {"conversation.id", "c_1"}, {"cart.value", ""}};
  auto f = fill("Hi {{customer.name}}, I am {{ agent.name }} ({{conversation.id}}).", values);
  REQUIRE(f.text == "Hi Dana, I am Ann Agent (c_1).");
  REQUIRE(f.missing.empty());
  auto g = fill("Your cart: {{cart.value}} {{cart.currency}}, {{cart.value}}", values);
  REQUIRE(g.text == "Your cart:  , ");
  REQUIRE(g.missing == std::vector<std::string>{"cart.value", "cart.currency"});
  REQUIRE(fill("an open {{ brace stays", values).text == "an open {{ brace stays");
}

TEST_CASE("shared replies belong to a team, personal ones to their agent") {
  auto shared = reply("refund", "Refund", "text");
  auto own = reply("hello", "", "text");
  own.scope = ReplyScope::personal;
  own.owner = "a_ann";
  SECTION("agents see their teams' shared replies and their own, and change only their own") {
    REQUIRE(may_see(agent("a_ann", "support,sales"), shared));
    REQUIRE_FALSE(may_see(agent("a_bob", "sales"), shared));
    REQUIRE_FALSE(may_change(agent("a_ann", "support"), shared));
    REQUIRE(may_see(agent("a_ann", "support"), own));
    REQUIRE(may_change(agent("a_ann", "support"), own));
    REQUIRE_FALSE(may_see(agent("a_bob", "support"), own));
  }
  SECTION("supervisors manage every shared reply, never an agent's own") {
    REQUIRE(may_change(supervisor(), shared));
    REQUIRE_FALSE(may_see(supervisor(), own));
    REQUIRE(may_create(supervisor(), ReplyScope::team, "support"));
    REQUIRE_FALSE(may_create(agent("a_ann", "support"), ReplyScope::team, "support"));
    REQUIRE(may_create(agent("a_ann", "support"), ReplyScope::personal, ""));
    REQUIRE_FALSE(may_create({Role::customer, "v_1", ""}, ReplyScope::personal, ""));
  }
}

TEST_CASE("a search ranks a shortcut's start first, then the shortcut, the title and the text") {
  auto refund = reply("refund", "Money back", "We refund within 5 days.");
  REQUIRE(search_rank(refund, "ref") == 4);
  REQUIRE(search_rank(refund, "/REF") == 4);
  REQUIRE(search_rank(refund, "fund") == 3);
  REQUIRE(search_rank(refund, "money") == 2);
  REQUIRE(search_rank(refund, "5 days") == 1);
  REQUIRE(search_rank(refund, "parcel") == 0);
  REQUIRE(search_rank(refund, "") == 1);
}
