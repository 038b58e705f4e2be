// The webhook store against a real Redis: the outbox read through its
// consumer group, the fan-out into lanes, claims with leases, and what a
// delivered or failed attempt leaves behind. Time is passed in.
// scripts: webhook_claim.lua webhook_delete.lua webhook_done.lua webhook_fanout.lua webhook_save.lua
#include "live_store.hpp"
#include "store/webhooks.hpp"

#include <catch2/catch.hpp>

using namespace exceed;
using store::WebhookStore;

namespace {

constexpr core::Millis t0 = 1'800'000'000'000;

store::Webhook hook(std::string id, std::vector<std::string> events = {"*"}) {
  store::Webhook w;
  w.id = std::move(id);
  w.url = "https://crm.example/hooks";
  w.secret = "whsec_test";
  w.events = std::move(events);
  w.status = "active";
  w.created_by = "u_sup";
  w.created_at = t0;
  return w;
}

// Enqueues an event and moves it through the group into the lanes.
std::int64_t publish(test::LiveStore& s, WebhookStore& w, std::string id, std::string type, std::string lane,
                     core::Millis now = t0) {
  REQUIRE(s.wait(w.enqueue(id, type, lane, R"({"id":")" + id + "\"}")));
  auto read = s.wait(w.read_new("p1", 10));
  REQUIRE(read);
  REQUIRE(read->size() == 1);
  auto n = s.wait(w.fan_out(read->at(0), now));
  REQUIRE(n);
  return *n;
}

store::Attempt outcome(store::Claimed const& c, bool delivered, core::Millis now, core::Millis next_try = 0) {
  store::Attempt a;
  a.webhook_id = c.webhook_id;
  a.lane = c.lane;
  a.event_id = c.event_id;
  a.type = c.type;
  a.attempt = c.attempt;
  a.delivered = delivered;
  a.status = delivered ? 200 : 500;
  a.error = delivered ? "" : "HTTP 500";
  a.ms = 12;
  a.now = now;
  a.next_try = next_try;
  return a;
}

}  // namespace

TEST_CASE("a subscription is created, read back, changed, listed and removed") {
  test::LiveStore s;
  WebhookStore w(s.db());
  auto made = s.wait(w.create(hook("wh_1", {"message", "csat"})));
  REQUIRE(made);
  CHECK(made->events == std::vector<std::string>{"message", "csat"});
  CHECK(made->status == "active");
  CHECK(s.wait(w.create(hook("wh_1"))).failure().refusal == core::Refusal::conflict);
  auto changed = s.wait(w.update("wh_1", {{"description", "CRM"}}, t0));
  REQUIRE(changed);
  CHECK(changed->description == "CRM");
  CHECK(s.wait(w.update("wh_none", {{"description", "x"}}, t0)).failure().refusal == core::Refusal::not_found);
  REQUIRE(s.wait(w.list())->size() == 1);
  REQUIRE(s.wait(w.remove("wh_1")));
  CHECK_FALSE(*s.wait(w.get("wh_1")));
  CHECK(s.wait(w.list())->empty());
  CHECK(s.wait(w.remove("wh_1")).failure().refusal == core::Refusal::not_found);
}

TEST_CASE("an event reaches the lanes of the subscriptions that want its type, once") {
  test::LiveStore s;
  WebhookStore w(s.db());
  REQUIRE(s.wait(w.ensure_group()));
  REQUIRE(s.wait(w.ensure_group()));  // a second process finds it made
  REQUIRE(s.wait(w.create(hook("wh_all"))));
  REQUIRE(s.wait(w.create(hook("wh_csat", {"csat"}))));
  CHECK(publish(s, w, "ev_1", "message", "c:1") == 1);
  CHECK(publish(s, w, "ev_2", "csat", "c:1") == 2);
  CHECK(s.raw("LLEN", "exceed:webhook:wh_all:lane:c:1").integer == 2);
  CHECK(s.raw("LLEN", "exceed:webhook:wh_csat:lane:c:1").integer == 1);
  CHECK(s.raw("XLEN", "exceed:webhooks:outbox").integer == 0);  // handled entries leave the outbox
  SECTION("an entry already handled is not fanned out again") {
    store::OutboxEvent again{"0-1", "ev_1", "message", "c:1", "{}"};
    CHECK(*s.wait(w.fan_out(again, t0)) == -1);
  }
}

TEST_CASE("an entry read by a consumer that died is reclaimed by another after it idled") {
  test::LiveStore s;
  WebhookStore w(s.db());
  REQUIRE(s.wait(w.ensure_group()));
  REQUIRE(s.wait(w.create(hook("wh_1"))));
  REQUIRE(s.wait(w.enqueue("ev_1", "message", "c:1", "{}")));
  REQUIRE(s.wait(w.read_new("dead", 10))->size() == 1);
  CHECK(s.wait(w.read_new("alive", 10))->empty());       // not offered twice
  CHECK(s.wait(w.reclaim("alive", 60'000, 10))->empty());  // not idle long enough
  auto taken = s.wait(w.reclaim("alive", 0, 10));
  REQUIRE(taken->size() == 1);
  CHECK(taken->at(0).event_id == "ev_1");
  CHECK(*s.wait(w.fan_out(taken->at(0), t0)) == 1);
}

TEST_CASE("a lane delivers its events one at a time, in order, leased to one claimer") {
  test::LiveStore s;
  WebhookStore w(s.db());
  REQUIRE(s.wait(w.ensure_group()));
  REQUIRE(s.wait(w.create(hook("wh_1"))));
  publish(s, w, "ev_1", "message", "c:1");
  publish(s, w, "ev_2", "message", "c:1");
  publish(s, w, "ev_3", "message", "c:2");
  auto first = s.wait(w.claim(t0, 30'000, 10));
  REQUIRE(first->size() == 2);  // one head per lane
  CHECK(first->at(0).event_id != first->at(1).event_id);
  CHECK(s.wait(w.claim(t0 + 1, 30'000, 10))->empty());  // leased
  auto c1 = first->at(0).lane == "c:1" ? first->at(0) : first->at(1);
  CHECK(c1.event_id == "ev_1");
  CHECK(c1.attempt == 1);
  CHECK(c1.body == R"({"id":"ev_1"})");
  CHECK(c1.url == "https://crm.example/hooks");
  CHECK(c1.secret == "whsec_test");

  SECTION("delivered: the next of the lane is due at once") {
    CHECK_FALSE(*s.wait(w.finish(outcome(c1, true, t0 + 10))));
    auto next = s.wait(w.claim(t0 + 10, 30'000, 10));
    REQUIRE(next->size() == 1);
    CHECK(next->at(0).event_id == "ev_2");
    CHECK(next->at(0).attempt == 1);
    auto log = s.wait(w.deliveries("wh_1", 10));
    REQUIRE(log->size() == 1);
    CHECK(log->at(0).event_id == "ev_1");
    CHECK(log->at(0).result == "delivered");
    CHECK(log->at(0).status == 200);
  }
  SECTION("failed: the head stays, the whole subscription waits, and the failure is recorded") {
    auto since = s.wait(w.finish(outcome(c1, false, t0 + 10, t0 + 60'000)));
    REQUIRE(since);
    CHECK(*since == std::optional<core::Millis>(t0 + 10));
    auto rec = s.wait(w.get("wh_1"))->value();
    CHECK(rec.failures == 1);
    CHECK(rec.last_error == "HTTP 500");
    CHECK(rec.retry_at == std::optional<core::Millis>(t0 + 60'000));
    // The other lane's lease ran out, but it waits for the subscription too.
    CHECK(s.wait(w.claim(t0 + 30'000, 30'000, 10))->empty());
    auto again = s.wait(w.claim(t0 + 60'000, 30'000, 10));
    REQUIRE(again->size() == 2);
    auto retried = again->at(0).lane == "c:1" ? again->at(0) : again->at(1);
    CHECK(retried.event_id == "ev_1");
    CHECK(retried.attempt == 2);
    CHECK(retried.failures == 1);
    SECTION("a later success clears the failure record") {
      REQUIRE(s.wait(w.finish(outcome(retried, true, t0 + 60'100))));
      auto ok = s.wait(w.get("wh_1"))->value();
      CHECK(ok.failures == 0);
      CHECK_FALSE(ok.failing_since);
      CHECK(ok.last_success_at == std::optional<core::Millis>(t0 + 60'100));
    }
    SECTION("failing on keeps its first failure time") {
      auto still = s.wait(w.finish(outcome(retried, false, t0 + 60'100, t0 + 70'000)));
      CHECK(*still == std::optional<core::Millis>(t0 + 10));
      CHECK(s.wait(w.get("wh_1"))->value().failures == 2);
    }
  }
  SECTION("a stale outcome (the lease ran out and another delivered it) removes nothing else") {
    REQUIRE(s.wait(w.finish(outcome(c1, true, t0 + 10))));
    REQUIRE(s.wait(w.finish(outcome(c1, true, t0 + 20))));  // the same event reported again
    CHECK(s.raw("LLEN", "exceed:webhook:wh_1:lane:c:1").integer == 1);
  }
}

TEST_CASE("a disabled subscription's lanes are parked and come back when it is active again") {
  test::LiveStore s;
  WebhookStore w(s.db());
  REQUIRE(s.wait(w.ensure_group()));
  REQUIRE(s.wait(w.create(hook("wh_1"))));
  publish(s, w, "ev_1", "message", "c:1");
  REQUIRE(s.wait(w.update("wh_1", {{"status", "disabled"}, {"disabled_reason", "failing"}}, t0)));
  CHECK(s.wait(w.claim(t0, 30'000, 10))->empty());
  CHECK(publish(s, w, "ev_2", "message", "c:1") == 0);  // nothing queued while disabled
  auto back = s.wait(w.update("wh_1", {{"status", "active"}}, t0 + 5));
  CHECK(back->disabled_reason.empty());
  auto c = s.wait(w.claim(t0 + 5, 30'000, 10));
  REQUIRE(c->size() == 1);
  CHECK(c->at(0).event_id == "ev_1");
}
