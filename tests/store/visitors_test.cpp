// The visitor store against a real Redis: visits written by
// compare-and-set, the live list and the stream every process reads, the
// claim of visits whose time on the list ended, and the counts.
// scripts: team_online.lua visit_write.lua visits_expire.lua visits_live.lua
#include "live_store.hpp"
#include "store/visitors.hpp"

#include <catch2/catch.hpp>

using namespace exceed;
using store::VisitorStore;

namespace {

constexpr core::Millis t0 = 1'800'000'000'000;
core::PresenceTimes const times{1'800'000, 20'000, 60'000};

core::Visit page(std::optional<core::Visit> const& stored, std::string url, core::Millis now, bool new_tab = false) {
  core::PageView p;
  p.visitor_id = "v_1";
  p.name = "Dana";
  p.url = std::move(url);
  p.new_tab = new_tab;
  p.new_visit_id = "vs_1";
  return core::on_page(stored, p, times, now);
}

store::VisitWrite how(core::Millis, std::string counted = "") {
  store::VisitWrite w;
  w.retention = 86'400'000;
  w.day = "2027-01-15";
  w.counted = std::move(counted);
  return w;
}

}  // namespace

TEST_CASE("a visit is written whole, read back, and listed live until it expires") {
  test::LiveStore s;
  VisitorStore v(s.db());
  REQUIRE_FALSE(*s.wait(v.get("v_1")));
  auto first = s.wait(v.write(page(std::nullopt, "https://shop.example/", t0, true), 0, how(t0)));
  REQUIRE(first);
  REQUIRE(first->rev == 1);
  REQUIRE(first->pages_seen == 1);
  REQUIRE(first->connections == 1);
  REQUIRE(first->expires_at == t0 + 60'000);

  auto carted = core::on_cart(*first, core::Cart{2, 129.9, "EUR"}, times, t0 + 1'000);
  auto second = s.wait(v.write(carted, first->rev, how(t0 + 1'000)));
  REQUIRE(second->rev == 2);
  REQUIRE(second->cart->items == 2);
  REQUIRE(second->cart->value == Approx(129.9));
  REQUIRE(second->cart->currency == "EUR");
  auto stored = s.wait(v.get("v_1"));
  REQUIRE((*stored)->page_url == "https://shop.example/");

  SECTION("kept no longer than the retention") {
    auto ttl = s.raw("PTTL", "exceed:visit:v_1");
    REQUIRE(ttl.integer > 86'000'000);
    REQUIRE(ttl.integer <= 86'400'000);
  }
  SECTION("a write from an older reading is refused, and changes nothing") {
    auto stale = s.wait(v.write(page(*first, "https://shop.example/x", t0 + 2'000), first->rev, how(t0 + 2'000)));
    REQUIRE_FALSE(stale);
    REQUIRE(stale.failure().kind == store::Failure::Kind::refused);
    REQUIRE(stale.failure().refusal == core::Refusal::conflict);
    REQUIRE((*s.wait(v.get("v_1")))->rev == 2);
  }
  SECTION("the live list: a snapshot with its stream position, then the changes after it") {
    auto snap = s.wait(v.live(100));
    REQUIRE(snap->changes.size() == 1);
    REQUIRE(snap->changes[0].visit->rev == 2);
    auto none = s.wait(v.changes(snap->last_id, 100));
    REQUIRE(none->changes.empty());
    REQUIRE(none->last_id == snap->last_id);
    auto third = s.wait(v.write(page(*second, "https://shop.example/checkout", t0 + 3'000), 2, how(t0 + 3'000)));
    auto after = s.wait(v.changes(snap->last_id, 100));
    REQUIRE(after->changes.size() == 1);
    REQUIRE(after->changes[0].visit->page_url == "https://shop.example/checkout");
    REQUIRE(after->last_id != snap->last_id);

    SECTION("the visit leaves the list once, whatever the number of processes asking") {
      REQUIRE(s.wait(v.expire(third->expires_at - 1, 100, 120'000))->empty());
      REQUIRE(*s.wait(v.expire(third->expires_at, 100, 120'000)) == std::vector<std::string>{"v_1"});
      REQUIRE(s.wait(v.expire(third->expires_at + 1'000, 100, 120'000))->empty());
      auto gone = s.wait(v.changes(after->last_id, 100));
      REQUIRE(gone->changes.size() == 1);
      REQUIRE(gone->changes[0].gone == "v_1");
      REQUIRE(s.wait(v.live(100))->changes.empty());
      // No tab counted any more: a process that died left it counted.
      REQUIRE((*s.wait(v.get("v_1")))->connections == 0);
    }
  }
  SECTION("an open tab keeps it listed: times only move on, and a visit that left stays gone") {
    std::vector<std::pair<std::string, core::Millis>> until{{"v_1", t0 + 120'000}, {"v_gone", t0 + 120'000}};
    REQUIRE(s.wait(v.keep_live(until)));
    REQUIRE(s.raw("ZSCORE", "exceed:visits:live", "v_1").str == std::to_string(t0 + 120'000));
    std::vector<std::pair<std::string, core::Millis>> earlier{{"v_1", t0 + 90'000}};
    REQUIRE(s.wait(v.keep_live(earlier)));
    REQUIRE(s.raw("ZSCORE", "exceed:visits:live", "v_1").str == std::to_string(t0 + 120'000));
    REQUIRE(s.raw("ZSCORE", "exceed:visits:live", "v_gone").is_nil());
  }
}

TEST_CASE("invitations are counted per day and rule as they are written") {
  test::LiveStore s;
  VisitorStore v(s.db());
  auto first = s.wait(v.write(page(std::nullopt, "https://shop.example/checkout", t0, true), 0, how(t0)));
  auto invited = core::on_invited(*first, core::Invitation{"i_1", "checkout", "Need a hand?", "support", "", ""}, t0);
  auto shown = s.wait(v.write(invited, first->rev, how(t0, "checkout:shown")));
  REQUIRE(shown->invitation_text == "Need a hand?");
  auto dismissed = core::on_answer(*shown, "i_1", false);
  REQUIRE(s.wait(v.write(*dismissed, shown->rev, how(t0, "checkout:dismissed"))));
  auto counts = s.wait(v.invitation_counts("2027-01-15"));
  REQUIRE(counts->at("checkout:shown") == 1);
  REQUIRE(counts->at("checkout:dismissed") == 1);
  REQUIRE(s.wait(v.invitation_counts("2027-01-16"))->empty());
  SECTION("a refused write counts nothing") {
    REQUIRE_FALSE(s.wait(v.write(invited, first->rev, how(t0, "checkout:shown"))));
    REQUIRE(s.wait(v.invitation_counts("2027-01-15"))->at("checkout:shown") == 1);
  }
}

TEST_CASE("a team is online while one of its agents is online with a live session") {
  test::LiveStore s;
  VisitorStore v(s.db());
  s.raw("SADD", "exceed:team:sales:agents", "a_ann", "a_bob");
  s.raw("HSET", "exceed:agent:a_ann", "status", "online", "conns", "0");
  s.raw("HSET", "exceed:agent:a_bob", "status", "away", "conns", "1");
  REQUIRE_FALSE(*s.wait(v.team_online("sales")));
  s.raw("HSET", "exceed:agent:a_ann", "conns", "2");
  REQUIRE(*s.wait(v.team_online("sales")));
  REQUIRE_FALSE(*s.wait(v.team_online("nobody")));
}
