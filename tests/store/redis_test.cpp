// Store layer against a real redis-server (tests/support/redis_server.hpp).
//
// Never write co_await inside a Catch2 macro: g++ 12 miscompiles it (the
// awaited event is lost). Await into a named variable, then assert.
#include "async_test.hpp"
#include "support/redis_server.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <string>
#include <vector>

using namespace exceed;
using namespace exceed::test;
using store::Reply;

namespace {

using Result = std::pair<std::error_code, Reply>;

std::chrono::milliseconds since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
}

// The integer after `field=` in an INFO section, or -1.
long long info_field(std::string const& info, std::string const& prefix, std::string const& field) {
  auto line = info.find(prefix);
  if (line == std::string::npos) return -1;
  auto pos = info.find(field + "=", line);
  if (pos == std::string::npos) return -1;
  return std::stoll(info.substr(pos + field.size() + 1));
}

asio::awaitable<void> basics(RedisServer& server) {
  auto w = co_await connect_up(server.url());
  auto& conn = *w.conn;

  Result r = co_await conn.exec(cmd("SET", "greeting", "hello"));
  REQUIRE_FALSE(r.first);
  CHECK(r.second.kind == Reply::Kind::status);
  CHECK(r.second.str == "OK");

  r = co_await conn.exec(cmd("GET", "greeting"));
  CHECK(r.second.kind == Reply::Kind::string);
  CHECK(r.second.str == "hello");

  r = co_await conn.exec(cmd("GET", "missing"));
  REQUIRE_FALSE(r.first);
  CHECK(r.second.is_nil());

  std::string const binary("a\0b\r\nc", 6);
  r = co_await conn.exec(cmd("SET", "bin", binary));
  r = co_await conn.exec(cmd("GET", "bin"));
  CHECK(r.second.str == binary);

  for (int i = 1; i <= 3; ++i) {
    r = co_await conn.exec(cmd("INCR", "counter"));
    REQUIRE(r.second.kind == Reply::Kind::integer);
    CHECK(r.second.integer == i);
  }

  r = co_await conn.exec(cmd("RPUSH", "list", "x", "y"));
  r = co_await conn.exec(cmd("LRANGE", "list", "0", "-1"));
  REQUIRE(r.second.is_array());
  REQUIRE(r.second.elements.size() == 2);
  CHECK(r.second.elements[1].str == "y");

  // An error reply is a value: the transport worked.
  r = co_await conn.exec(cmd("INCR", "greeting"));
  CHECK_FALSE(r.first);
  CHECK(r.second.is_error());
  CHECK(r.second.str.starts_with("ERR"));
  r = co_await conn.exec(cmd("NOSUCHCOMMAND"));
  CHECK(r.second.is_error());

  r = co_await conn.exec(store::Args{});
  CHECK(r.first == std::errc::invalid_argument);
  r = co_await conn.exec(cmd("subscribe", "room"));  // belongs on a Subscriber
  CHECK(r.first == std::errc::invalid_argument);
  r = co_await conn.exec(cmd("PING"));
  CHECK(r.second.str == "PONG");

  // Callback form, completed on the executor.
  Flag got(co_await asio::this_coro::executor);
  Result cb_result;
  conn.exec_cb(cmd("GET", "greeting"), [&](std::error_code ec, Reply reply) {
    cb_result = {ec, std::move(reply)};
    got.set();
  });
  bool const ok1 = co_await got.wait(5s);
  REQUIRE(ok1);
  CHECK(cb_result.second.str == "hello");
  CHECK(conn.in_flight() == 0);
  conn.stop();
}

asio::awaitable<void> pipelined_burst(RedisServer& server) {
  auto w = co_await connect_up(server.url());
  auto& conn = *w.conn;
  constexpr std::size_t n = 10'000;
  std::vector<long long> values;
  values.reserve(n);
  std::size_t failures = 0;
  Flag all_done(co_await asio::this_coro::executor);
  for (std::size_t i = 0; i < n; ++i) {
    conn.exec_cb(cmd("INCR", "burst"), [&](std::error_code ec, Reply reply) {
      if (ec || reply.kind != Reply::Kind::integer)
        ++failures;
      else
        values.push_back(reply.integer);
      if (values.size() + failures == n) all_done.set();
    });
  }
  // Nothing was written or answered inside exec_cb: the whole burst is queued
  // for the next writability event, i.e. one write.
  CHECK(conn.in_flight() == n);
  bool const ok2 = co_await all_done.wait(30s);
  REQUIRE(ok2);
  CHECK(failures == 0);
  REQUIRE(values.size() == n);
  bool in_order = true;
  for (std::size_t i = 0; i < n; ++i) in_order = in_order && values[i] == static_cast<long long>(i + 1);
  CHECK(in_order);
  CHECK(conn.in_flight() == 0);
  conn.stop();
}

asio::awaitable<void> script_fallback(RedisServer& server) {
  auto w = co_await connect_up(server.url());
  auto& conn = *w.conn;
  store::Script const incr_by("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  CHECK(incr_by.sha1() == "8cd00688c05c46bde4a2e60658ef20a2e5c0b248");
  std::vector<std::string> const keys{"scripted"};
  std::vector<std::string> const args{"5"};

  Result r = co_await conn.exec(cmd("CONFIG", "RESETSTAT"));
  for (int round = 1; round <= 2; ++round) {
    r = co_await conn.exec(cmd("SCRIPT", "FLUSH"));
    REQUIRE(r.second.str == "OK");
    r = co_await incr_by.run(conn, keys, args);  // NOSCRIPT, then EVAL
    REQUIRE_FALSE(r.first);
    REQUIRE(r.second.kind == Reply::Kind::integer);
    CHECK(r.second.integer == 10 * round - 5);
    r = co_await conn.exec(cmd("SCRIPT", "EXISTS", incr_by.sha1()));
    REQUIRE(r.second.is_array());
    CHECK(r.second.elements.at(0).integer == 1);  // EVAL cached it again
    r = co_await incr_by.run(conn, keys, args);  // EVALSHA hits
    CHECK(r.second.integer == 10 * round);
  }
  r = co_await conn.exec(cmd("INFO", "commandstats"));
  CHECK(info_field(r.second.str, "cmdstat_eval:", "calls") == 2);     // once per flush
  CHECK(info_field(r.second.str, "cmdstat_evalsha:", "calls") == 4);

  // A script error is returned as it is, not retried.
  store::Script const broken("return redis.call('NOSUCHCOMMAND')");
  r = co_await broken.run(conn, {}, {});
  CHECK_FALSE(r.first);
  CHECK(r.second.is_error());
  CHECK(store::Script("return 1").sha1() == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  conn.stop();
}

asio::awaitable<void> subscriber_survives_restart(RedisServer& server) {
  auto ex = co_await asio::this_coro::executor;
  auto pub = co_await connect_up(server.url());

  std::vector<std::pair<std::string, std::string>> messages;
  Flag got_message(ex), sub_up(ex), sub_down(ex);
  auto sub = store::Subscriber::create(ex, *store::Endpoint::parse(server.url()),
                                       [&](std::string_view channel, std::string_view payload) {
                                         messages.emplace_back(channel, payload);
                                         got_message.set();
                                       });
  sub->on_up([&] { sub_up.set(); });
  sub->on_down([&] { sub_down.set(); });
  sub->subscribe("room:1");
  sub->subscribe("room:2");
  sub->start();
  bool const ok3 = co_await sub_up.wait(10s);
  REQUIRE(ok3);
  REQUIRE(sub->connected());

  auto publish = [&](std::string channel, std::string payload) { return pub.conn->exec(cmd("PUBLISH", channel, payload)); };
  auto numsub = [&](std::string channel) -> asio::awaitable<long long> {
    Result r = co_await pub.conn->exec(cmd("PUBSUB", "NUMSUB", channel));
    co_return r.second.is_array() && r.second.elements.size() == 2 ? r.second.elements[1].integer : -1;
  };

  std::string const payload("hi\0there", 8);
  Result r = co_await publish("room:1", payload);
  CHECK(r.second.integer == 1);
  bool const ok4 = co_await got_message.wait(5s);
  REQUIRE(ok4);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].first == "room:1");
  CHECK(messages[0].second == payload);

  // Subscribing while up takes effect without an on_up; wait on Redis's view.
  sub->subscribe("room:3");
  long long subscribers = 0;
  for (auto deadline = std::chrono::steady_clock::now() + 5s;
       subscribers != 1 && std::chrono::steady_clock::now() < deadline;)
    subscribers = co_await numsub("room:3");
  CHECK(subscribers == 1);
  sub->unsubscribe("room:2");
  for (auto deadline = std::chrono::steady_clock::now() + 5s;
       subscribers != 0 && std::chrono::steady_clock::now() < deadline;)
    subscribers = co_await numsub("room:2");
  CHECK(subscribers == 0);

  server.kill9();
  bool const ok5 = co_await sub_down.wait(10s);
  REQUIRE(ok5);
  CHECK_FALSE(sub->connected());
  bool const ok6 = co_await pub.down->wait(10s);
  REQUIRE(ok6);
  server.start();
  bool const ok7 = co_await sub_up.wait(15s);
  REQUIRE(ok7);  // on_up only once the replay is confirmed
  bool const ok8 = co_await pub.up->wait(15s);
  REQUIRE(ok8);

  messages.clear();
  r = co_await publish("room:1", "after");
  CHECK(r.second.integer == 1);
  r = co_await publish("room:3", "three");
  CHECK(r.second.integer == 1);
  r = co_await publish("room:2", "gone");
  CHECK(r.second.integer == 0);
  bool const ok9 = co_await poll_until([&] { return messages.size() >= 2; }, 5s);
  CHECK(ok9);
  REQUIRE(messages.size() == 2);
  CHECK(messages[0] == std::pair<std::string, std::string>("room:1", "after"));
  CHECK(messages[1] == std::pair<std::string, std::string>("room:3", "three"));
  sub->stop();
  pub.conn->stop();
}

asio::awaitable<void> fails_fast_while_down(RedisServer& server) {
  store::Options opt;
  opt.command_timeout = 3s;
  auto w = co_await connect_up(server.url(), opt);
  auto& conn = *w.conn;
  Result r = co_await conn.exec(cmd("SET", "durable", "yes"));
  REQUIRE(r.second.str == "OK");

  // In flight when the server dies: completes with disconnected.
  Flag dropped(co_await asio::this_coro::executor);
  std::error_code dropped_ec;
  conn.exec_cb(cmd("DEBUG", "SLEEP", "2"), [&](std::error_code ec, Reply) {
    dropped_ec = ec;
    dropped.set();
  });
  server.kill9();
  bool const ok10 = co_await dropped.wait(5s);
  REQUIRE(ok10);
  CHECK(dropped_ec == store::error::disconnected);
  bool const ok11 = co_await w.down->wait(10s);
  REQUIRE(ok11);
  CHECK_FALSE(conn.connected());

  auto t0 = std::chrono::steady_clock::now();
  r = co_await conn.exec(cmd("GET", "durable"));
  CHECK(r.first == store::error::disconnected);
  CHECK(since(t0) < 500ms);  // not queued until the timeout or a reconnect
  CHECK(conn.in_flight() == 0);

  server.start();
  bool const ok12 = co_await w.up->wait(15s);
  REQUIRE(ok12);  // same Connection object, reconnected by itself
  r = co_await conn.exec(cmd("GET", "durable"));
  REQUIRE_FALSE(r.first);
  CHECK(r.second.str == "yes");  // appendfsync always kept it across SIGKILL

  // stop() fails what is pending, and start() brings the same object back.
  Flag stopped(co_await asio::this_coro::executor);
  std::error_code stopped_ec;
  conn.exec_cb(cmd("DEBUG", "SLEEP", "1"), [&](std::error_code ec, Reply) {
    stopped_ec = ec;
    stopped.set();
  });
  conn.stop();
  bool const ok13 = co_await stopped.wait(5s);
  REQUIRE(ok13);
  CHECK(stopped_ec == store::error::disconnected);
  CHECK_FALSE(conn.connected());
  conn.start();
  bool const ok14 = co_await w.up->wait(10s);
  REQUIRE(ok14);
  r = co_await conn.exec(cmd("PING"));
  CHECK(r.second.str == "PONG");
  conn.stop();
}

asio::awaitable<void> command_timeout(RedisServer& server) {
  store::Options opt;
  opt.command_timeout = 200ms;
  auto w = co_await connect_up(server.url(), opt);
  auto& conn = *w.conn;

  auto t0 = std::chrono::steady_clock::now();
  Result r = co_await conn.exec(cmd("DEBUG", "SLEEP", "1"));
  auto waited = since(t0);
  CHECK(r.first == store::error::timeout);
  CHECK(waited >= 190ms);
  CHECK(waited < 900ms);
  CHECK(conn.in_flight() == 1);  // still unanswered on the wire

  // The late reply is dropped; the link stays up and serves the next command.
  bool const ok15 = co_await poll_until([&] { return conn.in_flight() == 0; }, 5s);
  CHECK(ok15);
  CHECK(conn.connected());
  r = co_await conn.exec(cmd("PING"));
  REQUIRE_FALSE(r.first);
  CHECK(r.second.str == "PONG");
  conn.stop();
}

asio::awaitable<void> auth(RedisServer& server) {
  auto const base = "127.0.0.1:" + std::to_string(server.port());

  auto good = co_await connect_up("redis://:s3cret@" + base + "/2");
  Result r = co_await good.conn->exec(cmd("CLIENT", "INFO"));
  CHECK(r.second.str.find(" db=2 ") != std::string::npos);  // SELECT ran before on_up
  good.conn->stop();

  auto with_user = co_await connect_up("redis://default:s3cret@" + base);
  r = co_await with_user.conn->exec(cmd("PING"));
  CHECK(r.second.str == "PONG");
  with_user.conn->stop();

  auto ex = co_await asio::this_coro::executor;
  auto bad = store::Connection::create(ex, *store::Endpoint::parse("redis://:wrong@" + base));
  bool came_up = false;
  bad->on_up([&] { came_up = true; });
  bad->start();
  bool const ok16 = co_await poll_until([&] { return !bad->last_error().empty(); }, 5s);
  CHECK(ok16);
  CHECK(bad->last_error().find("WRONGPASS") != std::string::npos);
  CHECK(bad->last_error().find("wrong") == std::string::npos);  // never the password
  CHECK_FALSE(came_up);
  CHECK_FALSE(bad->connected());
  r = co_await bad->exec(cmd("PING"));
  CHECK(r.first == store::error::disconnected);
  bad->stop();

  auto anonymous = co_await connect_up("redis://" + base);
  r = co_await anonymous.conn->exec(cmd("GET", "x"));
  CHECK(r.second.is_error());
  CHECK(r.second.str.starts_with("NOAUTH"));
  anonymous.conn->stop();
}

// A peer that accepts TCP (the kernel completes the handshake from the
// backlog) but never answers: only the connect timeout can end the AUTH.
asio::awaitable<void> connect_timeout() {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::acceptor silent(ex, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto const port = silent.local_endpoint().port();
  store::Options opt;
  opt.connect_timeout = 200ms;
  auto conn = store::Connection::create(ex, *store::Endpoint::parse("redis://:pw@127.0.0.1:" + std::to_string(port)), opt);
  bool came_up = false;
  conn->on_up([&] { came_up = true; });
  auto t0 = std::chrono::steady_clock::now();
  conn->start();
  bool const timed_out = co_await poll_until([&] { return conn->last_error() == "connect: timed out"; }, 5s);
  CHECK(timed_out);
  CHECK(since(t0) >= 190ms);
  CHECK_FALSE(came_up);
  Result r = co_await conn->exec(cmd("PING"));
  CHECK(r.first == store::error::disconnected);
  conn->stop();
}

}  // namespace

TEST_CASE("Connection: the connect timeout covers a server that never answers", "[store]") {
  asio::io_context ioc;
  run_coro(ioc, connect_timeout());
}

TEST_CASE("exec: SET/GET/INCR, nil, arrays, binary values and error replies", "[store]") {
  RedisServer server;
  asio::io_context ioc;
  run_coro(ioc, basics(server));
}

TEST_CASE("exec: a burst of 10,000 INCR in one turn completes in order", "[store]") {
  RedisServer server;
  asio::io_context ioc;
  run_coro(ioc, pipelined_burst(server));
}

TEST_CASE("Script: EVALSHA, falling back to EVAL once on NOSCRIPT", "[store]") {
  RedisServer server;
  asio::io_context ioc;
  run_coro(ioc, script_fallback(server));
}

TEST_CASE("Subscriber: messages, and resubscribe after Redis is killed and restarted", "[store]") {
  RedisServer server;
  asio::io_context ioc;
  run_coro(ioc, subscriber_survives_restart(server));
}

TEST_CASE("Connection: fails at once while Redis is down, recovers by itself", "[store]") {
  RedisServerOptions opt;
  opt.fsync_always = true;
  RedisServer server(opt);
  asio::io_context ioc;
  run_coro(ioc, fails_fast_while_down(server));
}

TEST_CASE("Connection: command timeout", "[store]") {
  RedisServer server;
  asio::io_context ioc;
  run_coro(ioc, command_timeout(server));
}

TEST_CASE("Connection: AUTH (with and without user), SELECT, wrong password reported", "[store]") {
  RedisServerOptions opt;
  opt.password = "s3cret";
  RedisServer server(opt);
  asio::io_context ioc;
  run_coro(ioc, auth(server));
}
