// The routing steps that live in Redis (src/app/lua), run against a real
// redis-server with a fake clock: every script takes "now" as an argument,
// so offer expiry and the grace period are tested to the millisecond.
#include "app/db.hpp"
#include "store/scripts.hpp"
#include "support/redis_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <optional>

using namespace exceed;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// These tests run the scripts raw and pin their replies element by element
// (the app reads them only through the typed store functions): element i
// of an array reply as text or a number, "" or 0 when absent.
std::string const& str_at(store::Reply const& r, std::size_t i) {
  static std::string const empty;
  if (!r.is_array() || i >= r.elements.size()) return empty;
  return r.elements[i].str;
}

long long int_at(store::Reply const& r, std::size_t i) {
  if (!r.is_array() || i >= r.elements.size()) return 0;
  auto const& e = r.elements[i];
  if (e.kind == store::Reply::Kind::integer) return e.integer;
  return e.str.empty() ? 0 : std::stoll(e.str);
}

class Store {
 public:
  explicit Store(test::RedisServer& redis)
      : conn_(store::Connection::create(io_.get_executor(), *store::Endpoint::parse(redis.url()))),
        db_(conn_, "exceed:") {
    conn_->start();
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!conn_->connected() && std::chrono::steady_clock::now() < deadline) io_.run_one_for(50ms);
    REQUIRE(conn_->connected());
  }
  ~Store() {
    conn_->stop();
    io_.run_for(200ms);
  }

  store::Scripts const& s() const { return db_.scripts(); }

  template <class... A>
  app::Outcome call(store::Script const& script, A&&... a) {
    return wait(db_.call(script, std::forward<A>(a)...));
  }
  template <class... A>
  app::Outcome cmd(A&&... a) {
    return wait(db_.cmd(std::forward<A>(a)...));
  }

  // A team "support" with agent `id` online and connected.
  void agent(std::string const& id, int capacity = 2) {
    cmd("HSET", "exceed:agent:" + id, "status", "online", "capacity", std::to_string(capacity), "active", "0",
        "offered", "0", "conns", "1", "last_assigned_at", "0");
    cmd("SADD", "exceed:team:support:agents", id);
  }
  std::string chat(std::string const& id, long long now) {
    cmd("SADD", "exceed:teams", "support");
    auto o = call(s().start, id, "v_" + id, "Visitor", "support", "normal", "{}", std::to_string(now),
                  std::to_string(now), "hello", "", "1", "t_" + id, "hello", "offline", "closed", "1", "default",
                  "60000", "120000", "3600000", "0.8");
    REQUIRE(o);
    return id;
  }
  std::string field(std::string const& key, std::string const& f) { return cmd("HGET", key, f).reply.str; }

 private:
  app::Outcome wait(asio::awaitable<app::Outcome> aw) {
    std::optional<app::Outcome> result;
    asio::co_spawn(io_, std::move(aw), [&result](std::exception_ptr e, app::Outcome o) {
      if (e) std::rethrow_exception(e);
      result = std::move(o);
    });
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!result && std::chrono::steady_clock::now() < deadline) io_.run_one_for(50ms);
    REQUIRE(result);
    return std::move(*result);
  }

  asio::io_context io_;
  std::shared_ptr<store::Connection> conn_;
  app::Db db_;
};

}  // namespace

TEST_CASE("an offer expires exactly at its deadline, is claimed once, and the chat waits again") {
  test::RedisServer redis;
  Store st(redis);
  st.agent("ann");
  auto conv = st.chat("c1", 1'000);
  auto offer = st.call(st.s().offer, conv, "ann", "31000", "1000");
  REQUIRE(int_at(offer.reply, 0) == 1);
  REQUIRE(st.field("exceed:agent:ann", "offered") == "1");

  REQUIRE(st.call(st.s().expire_offers, "30999", "100").reply.elements.empty());
  auto claimed = st.call(st.s().expire_offers, "31000", "100");
  REQUIRE(claimed.reply.elements.size() == 3);
  REQUIRE(str_at(claimed.reply, 0) == conv);
  REQUIRE(str_at(claimed.reply, 1) == "ann");
  REQUIRE(st.call(st.s().expire_offers, "99999", "100").reply.elements.empty());  // once

  REQUIRE(st.field("exceed:conv:c1", "status") == "queued");
  REQUIRE(st.field("exceed:agent:ann", "offered") == "0");
  REQUIRE(st.field("exceed:conv:c1:declined", "ann") == "31000");
  REQUIRE(st.cmd("ZSCORE", "exceed:queue:support", conv).reply.str == "1000");  // its old place
  // A late accept is refused.
  auto late = st.call(st.s().accept, conv, "ann", "Ann", "31500");
  REQUIRE(late.error == protocol::error::conflict);
}

TEST_CASE("an offer is committed only while the chat waits and the agent has room") {
  test::RedisServer redis;
  Store st(redis);
  st.agent("ann", 1);
  auto c1 = st.chat("c1", 1'000);
  auto c2 = st.chat("c2", 1'001);
  REQUIRE(int_at(st.call(st.s().offer, c1, "ann", "9000", "1000").reply, 0) == 1);
  SECTION("full: the pending offer counts against capacity") {
    auto o = st.call(st.s().offer, c2, "ann", "9000", "1000");
    REQUIRE(int_at(o.reply, 0) == 0);
    REQUIRE(str_at(o.reply, 1) == "agent");
  }
  SECTION("a chat already offered cannot be offered again") {
    st.agent("bob", 3);
    auto o = st.call(st.s().offer, c1, "bob", "9000", "1000");
    REQUIRE(int_at(o.reply, 0) == 0);
    REQUIRE(str_at(o.reply, 1) == "chat");
  }
  SECTION("an agent who went away gets nothing") {
    st.cmd("HSET", "exceed:agent:ann", "status", "away", "capacity", "5");
    REQUIRE(int_at(st.call(st.s().offer, c2, "ann", "9000", "1000").reply, 0) == 0);
  }
}

TEST_CASE("the grace period: counted from the last connection's drop, ended by a new connection") {
  test::RedisServer redis;
  Store st(redis);
  st.agent("ann");
  auto conv = st.chat("c1", 1'000);
  REQUIRE(int_at(st.call(st.s().offer, conv, "ann", "99000", "1000").reply, 0) == 1);
  REQUIRE(st.call(st.s().accept, conv, "ann", "Ann", "2000"));
  st.cmd("HSET", "exceed:agent:ann", "conns", "0");  // counted from here by presence

  REQUIRE(st.call(st.s().presence, "ann", "p1", "1", "3000", "60000").reply.integer == 1);
  REQUIRE(st.call(st.s().presence, "ann", "p1", "1", "3000", "60000").reply.integer == 2);  // two tabs
  REQUIRE(st.call(st.s().presence, "ann", "p1", "-1", "4000", "60000").reply.integer == 1);
  REQUIRE(st.cmd("ZSCORE", "exceed:grace", "ann").reply.is_nil());  // one tab still open
  REQUIRE(st.call(st.s().presence, "ann", "p1", "-1", "5000", "60000").reply.integer == 0);
  REQUIRE(st.cmd("ZSCORE", "exceed:grace", "ann").reply.str == "65000");

  REQUIRE(st.call(st.s().grace_due, "64999", "10").reply.elements.empty());
  SECTION("gone past it: the chats are handed over, once") {
    auto due = st.call(st.s().grace_due, "65000", "10");
    REQUIRE(str_at(due.reply, 0) == "ann");
    auto const& chats = due.reply.elements.at(1);
    REQUIRE(str_at(chats, 0) == conv);
    REQUIRE(str_at(chats, 2) == "1000");  // created_at: the returned chat keeps its wait
    REQUIRE(st.call(st.s().requeue, conv, "ann", "support", "1000", "65000"));
    REQUIRE(st.call(st.s().requeue, conv, "ann", "support", "1000", "65000").error == protocol::error::conflict);
    REQUIRE(st.call(st.s().grace_done, "ann").reply.integer == 1);
    REQUIRE(st.field("exceed:agent:ann", "status") == "offline");
    REQUIRE(st.field("exceed:agent:ann", "active") == "0");
    REQUIRE(st.field("exceed:conv:c1", "status") == "queued");
  }
  SECTION("back in time: nothing moves") {
    st.call(st.s().presence, "ann", "p2", "1", "30000", "60000");
    REQUIRE(st.call(st.s().grace_due, "65000", "10").reply.elements.empty());
    REQUIRE(st.field("exceed:conv:c1", "status") == "active");
  }
}

TEST_CASE("a process that stops beating is reaped: its agents' connections are counted out") {
  test::RedisServer redis;
  Store st(redis);
  st.agent("ann");
  st.cmd("HSET", "exceed:agent:ann", "conns", "0");
  st.call(st.s().presence, "ann", "p1", "1", "1000", "60000");
  st.call(st.s().presence, "ann", "p2", "1", "1000", "60000");
  st.cmd("ZADD", "exceed:procs", "1000", "p1");
  st.cmd("ZADD", "exceed:procs", "50000", "p2");

  REQUIRE(st.call(st.s().reap_procs, "60000", "45000", "60000").reply.integer == 1);
  REQUIRE(st.field("exceed:agent:ann", "conns") == "1");
  REQUIRE(st.cmd("ZSCORE", "exceed:grace", "ann").reply.is_nil());
  REQUIRE(st.call(st.s().reap_procs, "60000", "45000", "60000").reply.integer == 0);  // once

  REQUIRE(st.call(st.s().reap_procs, "70000", "69000", "60000").reply.integer == 1);
  REQUIRE(st.field("exceed:agent:ann", "conns") == "0");
  REQUIRE(st.cmd("ZSCORE", "exceed:grace", "ann").reply.str == "130000");
}

TEST_CASE("SLA timers fire once each: the warning at its share of the target, then the breach, counted once") {
  test::RedisServer redis;
  Store st(redis);
  st.agent("ann");
  auto conv = st.chat("c1", 1'000);  // first_response 60 s, ratio 0.8: warn at 49 s, breach at 61 s
  REQUIRE(st.call(st.s().sla_due, "48999", "10").reply.elements.empty());
  auto warn = st.call(st.s().sla_due, "49000", "10");
  REQUIRE(warn.reply.elements.size() == 6);
  REQUIRE(str_at(warn.reply, 1) == "first_response");
  REQUIRE(str_at(warn.reply, 2) == "warn");
  REQUIRE(st.call(st.s().sla_due, "49500", "10").reply.elements.empty());  // once
  auto breach = st.call(st.s().sla_due, "61000", "10");
  REQUIRE(str_at(breach.reply, 2) == "breach");
  REQUIRE(st.field("exceed:sla:team:support", "first_response.breached") == "1");

  SECTION("the late answer does not count the breach again") {
    REQUIRE(st.call(st.s().offer, conv, "ann", "99000", "61000"));
    REQUIRE(st.call(st.s().accept, conv, "ann", "Ann", "61000"));
    REQUIRE_FALSE(st.call(st.s().send, conv, "agent", "ann", "Ann", "support", "a-1", "Sorry for the wait", "70000", "").reply.elements.at(0).is_error());
    REQUIRE(st.field("exceed:sla:team:support", "first_response.breached") == "1");
    REQUIRE(st.field("exceed:sla:team:support", "first_response.met") == "");
    REQUIRE(st.field("exceed:conv:c1", "breach_first_response") == "0");
  }
}

TEST_CASE("an answer in time stops the clock and counts as met, and the next wait starts the next-response target") {
  test::RedisServer redis;
  Store st(redis);
  st.agent("ann");
  auto conv = st.chat("c1", 1'000);
  REQUIRE(st.call(st.s().offer, conv, "ann", "99000", "2000"));
  REQUIRE(st.call(st.s().accept, conv, "ann", "Ann", "3000"));
  REQUIRE_FALSE(st.call(st.s().send, conv, "agent", "ann", "Ann", "support", "a-1", "Hello!", "20000", "").reply.elements.at(0).is_error());
  REQUIRE(st.field("exceed:sla:team:support", "first_response.met") == "1");
  REQUIRE(st.field("exceed:sla:agent:ann", "first_response.met") == "1");
  REQUIRE(st.call(st.s().sla_due, "100000", "10").reply.elements.empty());  // nothing left for the first response
  REQUIRE_FALSE(st.call(st.s().send, conv, "customer", "v_c1", "Visitor", "", "c-1", "One more thing", "200000", "").reply.elements.at(0).is_error());
  REQUIRE(st.cmd("ZSCORE", "exceed:sla", conv + "|next_response|breach").reply.str == "320000");
}

TEST_CASE("chats started in the same millisecond wait in the order they arrived, whatever their ids") {
  test::RedisServer redis;
  Store st(redis);
  st.agent("ann");  // someone online: the chats wait in the queue
  // Ids sort the other way round from arrival: only the score keeps the order.
  for (auto const* id : {"c_zz", "c_mm", "c_aa"}) st.chat(id, 1'700'000'000'000);
  auto queue = st.cmd("ZRANGE", "exceed:queue:support", "0", "-1").reply;
  REQUIRE(queue.elements.size() == 3);
  REQUIRE(queue.elements[0].str == "c_zz");
  REQUIRE(queue.elements[1].str == "c_mm");
  REQUIRE(queue.elements[2].str == "c_aa");
  // A chat of the next millisecond still comes after them.
  st.chat("c_00", 1'700'000'000'001);
  REQUIRE(st.cmd("ZRANGE", "exceed:queue:support", "-1", "-1").reply.elements[0].str == "c_00");
}
