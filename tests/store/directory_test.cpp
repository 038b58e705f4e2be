// Who is there to answer, against a real Redis: an agent's routing record as
// the directory reads it, the teams, their members and the staff; and the
// bus's subscribers, as a starting process counts the others
// (RoutingStore::bus_subscribers).
#include "live_store.hpp"
#include "store/directory.hpp"
#include "store/routing.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace exceed;
using store::DirectoryStore;
using store::Reply;

namespace {

Reply text(std::string s) { return Reply{Reply::Kind::string, 0, std::move(s), {}}; }
Reply nil() { return Reply{}; }
Reply array(std::vector<Reply> elements) { return Reply{Reply::Kind::array, 0, {}, std::move(elements)}; }

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("an agent's routing record is read as stored, and one without a record is not there") {
  test::LiveStore s;
  s.raw("HSET", "exceed:agent:a_ann", "name", "Ann", "teams", "support,sales", "status", "online", "active", "1",
        "offered", "1", "capacity", "3", "conns", "2");
  DirectoryStore d(s.db());
  auto ann = s.wait(d.agent("a_ann"));
  REQUIRE(ann);
  REQUIRE(*ann);
  auto const& a = **ann;
  REQUIRE(a.id == "a_ann");
  REQUIRE(a.name == "Ann");
  REQUIRE(a.teams_csv == "support,sales");
  REQUIRE(a.status == "online");
  REQUIRE(a.active == 1);
  REQUIRE(a.offered == 1);
  REQUIRE(a.capacity == 3);
  REQUIRE(a.connections == 2);

  SECTION("the status is what was set last, connected or not: the app judges") {
    s.raw("HSET", "exceed:agent:a_ann", "conns", "0");
    auto away = s.wait(d.agent("a_ann"));
    REQUIRE((*away)->status == "online");
    REQUIRE((*away)->connections == 0);
  }
  SECTION("counters never written read 0, and an empty name stays empty") {
    s.raw("HSET", "exceed:agent:a_bob", "name", "", "status", "away");
    auto bob = s.wait(d.agent("a_bob"));
    REQUIRE(*bob);
    REQUIRE((*bob)->name.empty());
    REQUIRE((*bob)->status == "away");
    REQUIRE((*bob)->active == 0);
    REQUIRE((*bob)->capacity == 0);
    REQUIRE((*bob)->connections == 0);
  }
  SECTION("no record, or one without a name, is no agent") {
    REQUIRE_FALSE(*s.wait(d.agent("a_none")));
    s.raw("HSET", "exceed:agent:a_half", "status", "online", "conns", "1");
    REQUIRE_FALSE(*s.wait(d.agent("a_half")));
  }
}

TEST_CASE("an agent record of the wrong shape fails as a protocol error") {
  test::LiveStore s;
  s.raw("SET", "exceed:agent:a_odd", "not a hash");
  DirectoryStore d(s.db());
  auto odd = s.wait(d.agent("a_odd"));
  REQUIRE_FALSE(odd);
  REQUIRE(odd.failure().kind == store::Failure::Kind::protocol);  // WRONGTYPE

  // Replies HMGET never gives for the seven fields asked, read as the store reads them.
  std::vector<Reply> seven{text("Ann"), text("support"), text("online"), text("0"), text("0"), text("2"), text("1")};
  REQUIRE(*store::agent_card_of("a_ann", array(seven)));
  auto six = seven;
  six.pop_back();
  REQUIRE(store::agent_card_of("a_ann", array(six)).failure().kind == store::Failure::Kind::protocol);
  auto eight = seven;
  eight.push_back(nil());
  REQUIRE(store::agent_card_of("a_ann", array(eight)).failure().kind == store::Failure::Kind::protocol);
  auto nested = seven;
  nested[1] = array({text("support")});
  REQUIRE(store::agent_card_of("a_ann", array(nested)).failure().kind == store::Failure::Kind::protocol);
  REQUIRE(store::agent_card_of("a_ann", text("Ann")).failure().kind == store::Failure::Kind::protocol);
}

TEST_CASE("the teams known, their members and the staff are read as stored") {
  test::LiveStore s;
  s.raw("SADD", "exceed:teams", "support", "sales");
  s.raw("SADD", "exceed:team:support:agents", "a_ann", "a_bob");
  s.raw("SADD", "exceed:users", "a_ann", "a_bob", "s_sue");
  DirectoryStore d(s.db());
  REQUIRE(*s.wait(d.has_team("support")));
  REQUIRE_FALSE(*s.wait(d.has_team("nowhere")));
  REQUIRE(sorted(*s.wait(d.team_members("support"))) == std::vector<std::string>{"a_ann", "a_bob"});
  REQUIRE(s.wait(d.team_members("sales"))->empty());
  REQUIRE(sorted(*s.wait(d.staff())) == std::vector<std::string>{"a_ann", "a_bob", "s_sue"});

  SECTION("a set of the wrong type fails as a protocol error") {
    s.raw("SET", "exceed:team:odd:agents", "not a set");
    REQUIRE(s.wait(d.team_members("odd")).failure().kind == store::Failure::Kind::protocol);
  }
}

TEST_CASE("the bus's subscribers are the processes listening on it") {
  test::LiveStore s;
  store::RoutingStore routing(s.db());
  REQUIRE(*s.wait(routing.bus_subscribers()) == 0);

  auto sub = store::Subscriber::create(s.executor(), *store::Endpoint::parse(s.redis().url()),
                                       [](std::string_view, std::string_view) {});
  sub->start();
  sub->subscribe("exceed:bus");
  sub->subscribe("exceed:elsewhere");  // another channel is not counted
  // The subscription lands when the subscriber's link is up: ask until it shows.
  std::int64_t seen = 0;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       seen != 1 && std::chrono::steady_clock::now() < deadline;)
    seen = *s.wait(routing.bus_subscribers());
  REQUIRE(seen == 1);
  sub->stop();
}

TEST_CASE("a count of the bus's subscribers of another shape or for another channel fails as a protocol error") {
  Reply const count{Reply::Kind::integer, 3, {}, {}};
  REQUIRE(*store::subscribers_of(array({text("exceed:bus"), count}), "exceed:bus") == 3);
  REQUIRE(store::subscribers_of(array({text("exceed:other"), count}), "exceed:bus").failure().kind ==
          store::Failure::Kind::protocol);
  REQUIRE(store::subscribers_of(array({text("exceed:bus")}), "exceed:bus").failure().kind ==
          store::Failure::Kind::protocol);
  REQUIRE(store::subscribers_of(array({text("exceed:bus"), text("three")}), "exceed:bus").failure().kind ==
          store::Failure::Kind::protocol);
  REQUIRE(store::subscribers_of(count, "exceed:bus").failure().kind == store::Failure::Kind::protocol);
}
