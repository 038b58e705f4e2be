// The account store against a real Redis: staff accounts, visitors
// (visitor_save run directly) and the limit counters (count run directly),
// with the time passed in.
// scripts: count.lua visitor_save.lua
#include "live_store.hpp"
#include "store/accounts.hpp"

#include <catch2/catch.hpp>

using namespace exceed;
using store::AccountStore;

namespace {

constexpr core::Millis t0 = 1'800'000'000'000;

store::NewAccount ann() {
  store::NewAccount a;
  a.id = "a_ann";
  a.username = "ann";
  a.name = "Ann";
  a.role = "agent";
  a.teams = {"support", "sales"};
  a.capacity = 4;
  a.password_hash = "pbkdf2$hash";
  a.now = t0;
  return a;
}

bool member(test::LiveStore& s, std::string const& set, std::string const& who) {
  return s.raw("SISMEMBER", set, who).integer == 1;
}

}  // namespace

TEST_CASE("an account is created once per username, with an agent's routing record, found by name and id, and listed") {
  test::LiveStore s;
  AccountStore a(s.db());
  REQUIRE(s.wait(a.create(ann())));
  auto taken = ann();
  taken.id = "a_other";
  auto again = s.wait(a.create(taken));
  REQUIRE_FALSE(again);
  REQUIRE(again.failure().refusal == core::Refusal::conflict);
  REQUIRE(again.failure().message == "the username 'ann' is taken");

  auto found = s.wait(a.by_username("ann"))->value();
  REQUIRE(found.id == "a_ann");
  REQUIRE(found.name == "Ann");
  REQUIRE(found.role == "agent");
  REQUIRE(found.teams == std::vector<std::string>{"support", "sales"});
  REQUIRE(found.teams_csv == "support,sales");
  REQUIRE(found.capacity == 4);
  REQUIRE(found.password_hash == "pbkdf2$hash");
  REQUIRE(found.token_version.empty());
  REQUIRE_FALSE(found.disabled);
  REQUIRE(s.wait(a.account("a_ann"))->value().username == "ann");
  REQUIRE_FALSE(*s.wait(a.by_username("nobody")));
  REQUIRE_FALSE(*s.wait(a.account("a_none")));

  // An agent is routed: their record, their teams.
  REQUIRE(s.raw("HGET", "exceed:agent:a_ann", "status").str == "offline");
  REQUIRE(s.raw("HGET", "exceed:agent:a_ann", "capacity").str == "4");
  REQUIRE(member(s, "exceed:team:sales:agents", "a_ann"));
  REQUIRE(member(s, "exceed:teams", "sales"));

  store::NewAccount boss{"s_boss", "boss", "Boss", "supervisor", {}, 3, "pbkdf2$other", t0};
  REQUIRE(s.wait(a.create(boss)));
  REQUIRE(s.raw("EXISTS", "exceed:agent:s_boss").integer == 0);
  auto all = s.wait(a.accounts());
  REQUIRE(all->size() == 2);
}

TEST_CASE("an account disabled, given a new password, its tokens revoked, and removed") {
  test::LiveStore s;
  AccountStore a(s.db());
  REQUIRE(s.wait(a.create(ann())));
  REQUIRE(s.wait(a.set_disabled("a_ann", true)));
  REQUIRE(s.wait(a.account("a_ann"))->value().disabled);
  REQUIRE(s.wait(a.set_disabled("a_ann", false)));
  REQUIRE_FALSE(s.wait(a.account("a_ann"))->value().disabled);
  REQUIRE(s.wait(a.set_password("a_ann", "pbkdf2$new")));
  REQUIRE(s.wait(a.account("a_ann"))->value().password_hash == "pbkdf2$new");
  REQUIRE(s.wait(a.revoke_tokens("a_ann")));
  REQUIRE(s.wait(a.revoke_tokens("a_ann")));
  REQUIRE(s.wait(a.account("a_ann"))->value().token_version == "2");

  auto before = s.wait(a.account("a_ann"))->value();
  REQUIRE(s.wait(a.remove(before)));
  REQUIRE_FALSE(*s.wait(a.by_username("ann")));
  auto kept = s.wait(a.account("a_ann"))->value();  // the record stays for what names them
  REQUIRE(kept.disabled);
  REQUIRE(kept.deleted);
  REQUIRE(kept.password_hash.empty());
  REQUIRE_FALSE(member(s, "exceed:team:support:agents", "a_ann"));
  REQUIRE(s.wait(a.accounts())->empty());
  // The name is free again.
  auto anew = ann();
  anew.id = "a_ann2";
  REQUIRE(s.wait(a.create(anew)));
}

TEST_CASE("a verified customer keeps one visitor id, and a visitor who never starts a chat is forgotten") {
  test::LiveStore s;
  AccountStore a(s.db());
  REQUIRE(*s.wait(a.visitor_of_user("shop-42", "v_first")) == "v_first");
  REQUIRE(*s.wait(a.visitor_of_user("shop-42", "v_second")) == "v_first");

  REQUIRE(s.wait(a.save_visitor({"v_first", "Casey", "casey@example.com", "shop-42", t0, 100})));
  REQUIRE(s.raw("HGET", "exceed:visitor:v_first", "email").str == "casey@example.com");
  REQUIRE(s.raw("HGET", "exceed:visitor:v_first", "created_at").str == std::to_string(t0));
  auto ttl = s.raw("TTL", "exceed:visitor:v_first").integer;
  REQUIRE((ttl > 0 && ttl <= 100));
  REQUIRE(s.raw("TTL", "exceed:visitor_by_user:shop-42").integer > 0);

  SECTION("one who started a chat is kept") {
    s.raw("HSET", "exceed:visitor:v_first", "kept", "1");
    s.raw("PERSIST", "exceed:visitor:v_first");
    REQUIRE(s.wait(a.save_visitor({"v_first", "Casey B.", "casey@example.com", "shop-42", t0 + 1, 100})));
    REQUIRE(s.raw("TTL", "exceed:visitor:v_first").integer == -1);
    REQUIRE(s.raw("HGET", "exceed:visitor:v_first", "name").str == "Casey B.");
  }
}

TEST_CASE("limits: events counted in a window, login failures restarting theirs, waits set, read and forgotten") {
  test::LiveStore s;
  AccountStore a(s.db());
  auto first = s.wait(a.count("visitors", "10.0.0.1", 60'000));
  REQUIRE(first->count == 1);
  REQUIRE((first->left > 0 && first->left <= 60'000));
  REQUIRE(s.wait(a.count("visitors", "10.0.0.1", 60'000))->count == 2);
  REQUIRE(s.wait(a.count("visitors", "10.0.0.2", 60'000))->count == 1);

  REQUIRE(s.wait(a.count_login_failure("user:ann", 900'000))->count == 1);
  REQUIRE(s.wait(a.count_login_failure("user:ann", 900'000))->count == 2);
  REQUIRE(*s.wait(a.login_wait("user:ann")) == 0);
  REQUIRE(s.wait(a.set_login_wait("user:ann", 5'000)));
  auto wait = *s.wait(a.login_wait("user:ann"));
  REQUIRE((wait > 0 && wait <= 5'000));
  REQUIRE(s.wait(a.clear_login("user:ann")));
  REQUIRE(*s.wait(a.login_wait("user:ann")) == 0);
  REQUIRE(s.wait(a.count_login_failure("user:ann", 900'000))->count == 1);  // forgotten
}
