// The cluster client against a real local Redis Cluster of three primaries
// and three replicas (tests/support/redis_cluster.hpp), one per test case.
// Lines starting "CLUSTER" print the figures docs/CLUSTER.md quotes.
//
// Never write co_await inside a Catch2 macro: g++ 12 miscompiles it (the
// awaited event is lost). Await into a named variable, then assert.
#include "async_test.hpp"
#include "store/cluster.hpp"
#include "support/redis_cluster.hpp"
#include "support/redis_server.hpp"

#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <atomic>
#include <cstdio>
#include <map>
#include <thread>
#include <cstdint>

using namespace exceed;
using namespace exceed::test;
using store::Reply;

namespace {

using Result = std::pair<std::error_code, Reply>;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// The first key `prefix` + N whose slot the primary on `port` serves.
std::string key_on(RedisCluster const& rc, std::uint16_t port, std::string const& prefix) {
  auto nodes = rc.nodes();
  for (int i = 0;; ++i) {
    auto key = prefix + std::to_string(i);
    auto const slot = store::key_slot(key);
    for (auto const& n : nodes)
      if (n.port == port && n.primary)
        for (auto [first, last] : n.slots)
          if (slot >= first && slot <= last) return key;
  }
}

store::NodeAddress local(std::uint16_t port) { return {"127.0.0.1", port}; }

// A seed list built outside the co_await (g++ 12 cannot compile a braced
// list inside one).
template <class... S>
std::vector<std::string> seeds_of(S... seeds) {
  return {std::string(seeds)...};
}

// A Cluster plus flags raised by its on_up / on_down.
struct WatchedCluster {
  std::shared_ptr<store::Cluster> cluster;
  std::shared_ptr<Flag> up, down;
};

// Creates and starts a Cluster from `seeds`; returns once on_up fired.
asio::awaitable<WatchedCluster> cluster_up(std::vector<std::string> seeds, store::ClusterOptions opt = {}) {
  auto ex = co_await asio::this_coro::executor;
  auto eps = store::parse_cluster_seeds(seeds);
  REQUIRE(eps);
  auto cluster = store::Cluster::create(ex, *eps, opt);
  auto w = co_await start_watched(cluster, 15s);
  co_return WatchedCluster{cluster, w.up, w.down};
}

// A slot's primary, and another primary to move the slot to.
std::pair<std::uint16_t, std::uint16_t> owner_and_other(RedisCluster const& rc, std::uint16_t slot) {
  auto const from = rc.owner(slot);
  for (auto p : rc.primaries())
    if (p != from) return {from, p};
  throw std::runtime_error("a single primary");
}

// What a load saw, command by command.
struct Tally {
  std::size_t issued = 0, answered = 0, ok = 0;
  std::map<std::string, std::size_t> failures;  // by error code or error reply's first word
  bool stop = false;

  void count(std::error_code ec, Reply const& r) {
    ++answered;
    if (ec)
      ++failures[ec.message()];
    else if (r.is_error())
      ++failures[r.str.substr(0, r.str.find(' '))];
    else
      ++ok;
  }
  std::size_t failed() const {
    std::size_t n = 0;
    for (auto const& [k, v] : failures) n += v;
    return n;
  }
  std::string describe() const {
    std::string s;
    for (auto const& [k, v] : failures) s += k + "=" + std::to_string(v) + " ";
    return s;
  }
};

// Issues make(i) for i = 0, 1, ... keeping `window` commands in flight,
// until `more(issued)` says stop; returns once every one is answered.
// `seen(i, ec, reply)` runs for each answer. After a failure the load
// pauses `backoff` before it refills, as a client would: commands failing
// at once would otherwise spin a core the servers need.
asio::awaitable<void> pump(store::Connection& c, std::size_t window, std::function<bool(std::size_t)> more,
                           std::function<store::Args(std::size_t)> make,
                           std::function<void(std::size_t, std::error_code, Reply const&)> seen,
                           std::shared_ptr<Tally> tally, std::chrono::milliseconds backoff = 0ms) {
  auto const ex = co_await asio::this_coro::executor;
  auto room = std::make_shared<Flag>(ex);
  asio::steady_timer pause(ex);
  auto const deadline = Clock::now() + 60s;
  for (std::size_t failed = 0;;) {
    if (backoff > 0ms && tally->failed() > failed) {
      failed = tally->failed();
      pause.expires_after(backoff);
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    while (more(tally->issued) && tally->issued - tally->answered < window) {
      auto const i = tally->issued++;
      c.exec_cb(make(i), [tally, room, seen, i](std::error_code ec, Reply r) {
        tally->count(ec, r);
        if (seen) seen(i, ec, r);
        room->set();
      });
    }
    if (!more(tally->issued) && tally->answered == tally->issued) break;
    if (Clock::now() > deadline) FAIL("the load did not finish within a minute");
    co_await room->wait(1s);
  }
}

// ------------------------------------------------------------------ cases

asio::awaitable<void> spread(RedisCluster& rc) {
  auto w = co_await cluster_up(seeds_of(rc.seed(0)));
  auto& cluster = *w.cluster;
  auto const ports = rc.primaries();
  REQUIRE(ports.size() == 3);
  CHECK(cluster.primaries().size() == 3);
  std::vector<std::uint16_t> const slots{0, 5461, 10923, 16383};
  for (auto slot : slots) {
    auto o = cluster.owner(slot);
    REQUIRE(o);
    CHECK(*o == local(rc.owner(slot)));
  }

  // 300 SETs in one turn: one pipeline per primary.
  constexpr int n = 300;
  auto tally = std::make_shared<Tally>();
  co_await pump(
      cluster, n, [](std::size_t i) { return i < n; },
      [](std::size_t i) { return cmd("SET", "key:" + std::to_string(i), "value:" + std::to_string(i)); }, nullptr, tally);
  CHECK(tally->ok == n);
  long long total = 0;
  for (auto p : ports) {
    auto const keys = rc.command(p, {"DBSIZE"}).integer;
    CHECK(keys > 50);  // every primary holds its share
    total += keys;
  }
  CHECK(total == n);
  bool all_read = true;
  for (int i = 0; i < n; ++i) {
    Result r = co_await cluster.exec(cmd("GET", "key:" + std::to_string(i)));
    all_read = all_read && !r.first && r.second.str == "value:" + std::to_string(i);
  }
  CHECK(all_read);

  {
    // Keys sharing a hash tag share a slot; a multi-key command across slots is Redis's error.
    Result r = co_await cluster.exec(cmd("MSET", "{user:7}:name", "ann", "{user:7}:team", "sales"));
    CHECK(r.second.str == "OK");
    r = co_await cluster.exec(cmd("MGET", "{user:7}:name", "{user:7}:team"));
    REQUIRE(r.second.is_array());
    CHECK(r.second.elements.at(1).str == "sales");
    r = co_await cluster.exec(cmd("MSET", "a", "1", "b", "2"));
    CHECK_FALSE(r.first);
    CHECK(r.second.str.starts_with("CROSSSLOT"));
  }
  {
    // exec_at sends to the primary of the key named, whatever the command.
    for (auto p : ports) {
      auto const key = key_on(rc, p, "probe:");
      Result r = co_await cluster.exec_at(key, cmd("CLUSTER", "MYID"));
      CHECK(r.second.str == rc.command(p, {"CLUSTER", "MYID"}).str);
    }
    Result r = co_await cluster.exec(cmd("PING"));
    CHECK(r.second.str == "PONG");
  }
  {
    // Commands that would change the shared links are refused.
    std::vector<std::string> const refused{"SUBSCRIBE", "SSUBSCRIBE", "MULTI", "SELECT", "READONLY"};
    for (auto const& verb : refused) {
      Result r = co_await cluster.exec(cmd(verb, "x"));
      CHECK(r.first == std::errc::invalid_argument);
    }
  }
  {
    // A burst of INCRs on keys of three primaries completes in order, key by key.
    std::vector<std::string> keys;
    for (auto p : ports) keys.push_back(key_on(rc, p, "counter:"));
    std::vector<std::vector<long long>> seen(keys.size());
    auto t = std::make_shared<Tally>();
    constexpr std::size_t burst = 9000;
    auto const t0 = Clock::now();
    co_await pump(
        cluster, burst, [](std::size_t i) { return i < burst; },
        [&](std::size_t i) { return cmd("INCR", keys[i % keys.size()]); },
        [&](std::size_t i, std::error_code, Reply const& r) { seen[i % keys.size()].push_back(r.integer); }, t);
    std::printf("CLUSTER burst: %zu INCR over 3 primaries in %.1f ms\n", burst, ms_since(t0));
    CHECK(t->ok == burst);
    for (auto const& values : seen) {
      bool in_order = values.size() == burst / keys.size();
      for (std::size_t i = 0; in_order && i < values.size(); ++i) in_order = values[i] == static_cast<long long>(i + 1);
      CHECK(in_order);
    }
  }
  // Nothing left out: the client's own map read, if a link's late first
  // connect asked for one, is answered too.
  bool const settled = co_await poll_until([&] { return cluster.in_flight() == 0; }, 5s);
  CHECK(settled);
  CHECK(cluster.stats().moved == 0);
  cluster.stop();
}

asio::awaitable<void> scripts(RedisCluster& rc) {
  store::Script const before("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  store::Script const after("return redis.call('GET', KEYS[1])");
  auto ex = co_await asio::this_coro::executor;
  auto seeds = store::parse_cluster_seeds({rc.seed(1)});
  REQUIRE(seeds);
  auto cluster = store::Cluster::create(ex, *seeds);
  Flag up(ex);
  cluster->on_up([&] { up.set(); });
  cluster->preload({"SCRIPT", "LOAD", before.source()});  // loaded as each primary's link comes up
  cluster->start();
  bool const came_up = co_await up.wait(15s);
  REQUIRE(came_up);
  cluster->preload({"SCRIPT", "LOAD", after.source()});  // loaded now on every primary

  auto const ports = rc.primaries();
  std::vector<std::string> const args{"5"}, no_args;
  for (auto p : ports) {
    std::vector<std::string> const keys{key_on(rc, p, "scripted:")};
    Result r = co_await before.run(*cluster, keys, args);  // routed by KEYS[1]
    REQUIRE_FALSE(r.first);
    CHECK(r.second.integer == 5);
    r = co_await after.run(*cluster, keys, no_args);
    CHECK(r.second.str == "5");
    for (auto const* s : {&before, &after}) {
      auto exists = rc.command(p, {"SCRIPT", "EXISTS", s->sha1()});
      REQUIRE(exists.elements.size() == 1);
      CHECK(exists.elements[0].integer == 1);
    }
    CHECK(rc.command(p, {"INFO", "commandstats"}).str.find("cmdstat_eval:") == std::string::npos);
  }

  // A Functions library, as store::Db loads the server's scripts: written
  // on every primary, a Script named after its function runs by FCALL.
  cluster->preload({"FUNCTION", "LOAD",
                    "#!lua name=exceed_test\nredis.register_function('exceed_test_incr', function(keys, argv) "
                    "return redis.call('INCRBY', keys[1], argv[1]) end)"});
  store::Script incr("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  incr.set_function("exceed_test_incr");
  for (auto p : ports) {
    std::vector<std::string> const keys{key_on(rc, p, "functions:")};
    Result r = co_await incr.run(*cluster, keys, args);
    REQUIRE_FALSE(r.first);
    CHECK(r.second.integer == 5);
    CHECK(rc.command(p, {"INFO", "commandstats"}).str.find("cmdstat_fcall:calls=1,") != std::string::npos);
  }
  CHECK(cluster->functions());

  // A primary that lost its cache: EVALSHA meets NOSCRIPT there, EVAL follows.
  auto const flushed = ports.front();
  rc.command(flushed, {"SCRIPT", "FLUSH"});
  std::vector<std::string> const keys{key_on(rc, flushed, "scripted:")};
  Result r = co_await before.run(*cluster, keys, args);
  REQUIRE_FALSE(r.first);
  CHECK(r.second.integer == 10);
  CHECK(rc.command(flushed, {"INFO", "commandstats"}).str.find("cmdstat_eval:calls=1,") != std::string::npos);
  cluster->stop();
}

// RPUSHes numbered values onto 100 lists of one slot while that slot moves
// to another primary; every list must end up holding its values in order.
asio::awaitable<void> migration_under_load(RedisCluster& rc) {
  auto w = co_await cluster_up(seeds_of(rc.seed(0)));
  auto& cluster = *w.cluster;
  std::uint16_t const slot = store::key_slot("moving");
  auto const [from, to] = owner_and_other(rc, slot);
  constexpr std::size_t lists = 100;
  auto list = [](std::size_t i) { return "{moving}:" + std::to_string(i % lists); };

  std::atomic<bool> migrated{false};
  std::string migration_error;
  std::size_t issued_when_done = 0;
  auto tally = std::make_shared<Tally>();
  auto const t0 = Clock::now();
  std::jthread mover;  // joined on every way out, a failed REQUIRE's too
  auto more = [&](std::size_t issued) {
    if (issued >= 2000 && !mover.joinable() && !migrated)  // the load flows: move the slot under it
      mover = std::jthread([&] {
        try {
          rc.begin_migration(slot, to);
          while (rc.migrate_keys(slot, to, 2) > 0) {
          }
          rc.finish_migration(slot, to);
        } catch (std::exception const& e) {
          migration_error = e.what();
        }
        migrated = true;
      });
    if (!migrated) return issued < 1'000'000;
    if (issued_when_done == 0) issued_when_done = issued;
    return issued < issued_when_done + 2000;
  };
  co_await pump(
      cluster, 64, more, [&](std::size_t i) { return cmd("RPUSH", list(i), std::to_string(i)); }, nullptr, tally);
  if (mover.joinable()) mover.join();
  REQUIRE(migration_error.empty());
  auto const stats = cluster.stats();
  std::printf("CLUSTER migration: %zu RPUSH in %.0f ms, failed=%zu, MOVED followed=%llu, ASK followed=%llu, "
              "fenced=%llu, map reads=%llu\n",
              tally->issued, ms_since(t0), tally->failed(), static_cast<unsigned long long>(stats.moved),
              static_cast<unsigned long long>(stats.asked), static_cast<unsigned long long>(stats.fenced),
              static_cast<unsigned long long>(stats.refreshes));
  INFO(tally->describe());
  CHECK(tally->failed() == 0);
  CHECK(tally->ok == tally->issued);
  CHECK(stats.moved > 0);
  CHECK(rc.owner(slot) == to);
  auto o = cluster.owner(slot);
  REQUIRE(o);
  CHECK(*o == local(to));

  // Nothing lost, nothing reordered: list j holds j, j+100, j+200, ...
  for (std::size_t j = 0; j < lists; ++j) {
    Result r = co_await cluster.exec(cmd("LRANGE", list(j), "0", "-1"));
    REQUIRE(r.second.is_array());
    bool in_order = r.second.elements.size() == (tally->issued - j + lists - 1) / lists;
    for (std::size_t k = 0; in_order && k < r.second.elements.size(); ++k)
      in_order = r.second.elements[k].str == std::to_string(j + k * lists);
    INFO("list " << j << " holds " << r.second.elements.size() << " values");
    CHECK(in_order);
  }
  CHECK(rc.command(to, {"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)}).integer == static_cast<long long>(lists));
  cluster.stop();
}

asio::awaitable<void> ask_during_migration(RedisCluster& rc) {
  auto w = co_await cluster_up(seeds_of(rc.seed(0)));
  auto& cluster = *w.cluster;
  std::uint16_t const slot = store::key_slot("asked");
  auto const [from, to] = owner_and_other(rc, slot);
  Result r = co_await cluster.exec(cmd("SET", "{asked}:stays", "here"));
  r = co_await cluster.exec(cmd("SET", "{asked}:goes", "there"));
  REQUIRE(r.second.str == "OK");

  rc.begin_migration(slot, to);
  auto moved = rc.command(from, {"MIGRATE", "127.0.0.1", std::to_string(to), "{asked}:goes", "0", "5000"});
  REQUIRE(moved.str == "OK");

  r = co_await cluster.exec(cmd("GET", "{asked}:goes"));  // gone from `from`: ASK, served by `to`
  CHECK(r.second.str == "there");
  CHECK(cluster.stats().asked == 1);
  r = co_await cluster.exec(cmd("GET", "{asked}:stays"));  // still on `from`
  CHECK(r.second.str == "here");
  r = co_await cluster.exec(cmd("SET", "{asked}:new", "born there"));  // a new key goes to the importing node
  CHECK(r.second.str == "OK");
  CHECK(cluster.stats().asked == 2);
  CHECK(cluster.stats().moved == 0);
  auto o = cluster.owner(slot);
  REQUIRE(o);
  CHECK(*o == local(from));  // an ASK leaves the map alone

  rc.finish_migration(slot, to);
  r = co_await cluster.exec(cmd("GET", "{asked}:stays"));  // MOVED now
  CHECK(r.second.str == "here");
  r = co_await cluster.exec(cmd("GET", "{asked}:new"));
  CHECK(r.second.str == "born there");
  CHECK(cluster.stats().moved == 1);
  o = cluster.owner(slot);
  REQUIRE(o);
  CHECK(*o == local(to));
  cluster.stop();
}

// INCRs on a key of each primary, without pause, while one primary is
// killed with SIGKILL and its replica takes over.
asio::awaitable<void> failover_under_load(RedisCluster& rc) {
  store::ClusterOptions opt;
  opt.node.command_timeout = 2s;
  auto w = co_await cluster_up(seeds_of(rc.seed(0), rc.seed(3)), opt);
  auto& cluster = *w.cluster;
  auto const ports = rc.primaries();
  auto const victim = ports.front();
  auto const heir = rc.replica_of(victim);
  REQUIRE(heir != 0);
  std::vector<std::string> keys;
  for (auto p : ports) keys.push_back(key_on(rc, p, "load:"));

  // Per key: successes after the cluster came back up, and the failures.
  struct PerKey {
    Tally all;
    std::size_t ok_after_up = 0, failed_after_up = 0;
  };
  std::vector<PerKey> per(keys.size());
  std::size_t issued_at_up = SIZE_MAX;  // commands issued from here on must all succeed
  auto ex = co_await asio::this_coro::executor;
  auto tally = std::make_shared<Tally>();
  auto load_done = std::make_shared<Flag>(ex);
  auto load = [&]() -> asio::awaitable<void> {
    co_await pump(
        cluster, 30, [&](std::size_t) { return !tally->stop; },
        [&](std::size_t i) { return cmd("INCR", keys[i % keys.size()]); },
        [&](std::size_t i, std::error_code ec, Reply const& r) {
          auto& k = per[i % keys.size()];
          k.all.count(ec, r);
          bool const ok = !ec && !r.is_error();
          if (i >= issued_at_up) (ok ? k.ok_after_up : k.failed_after_up)++;
        },
        tally, 5ms);
    load_done->set();
  };
  asio::co_spawn(ex, load(), asio::detached);
  bool const warmed = co_await poll_until([&] { return tally->ok >= 3000; }, 20s);
  REQUIRE(warmed);

  auto const t0 = Clock::now();
  rc.kill9(victim);
  // The cluster's own view of the failover, watched beside the client's.
  double promoted_ms = -1;
  std::jthread watcher([&] {
    if (rc.wait_for_failover(store::key_slot(keys[0]), victim, 30s) == heir) promoted_ms = ms_since(t0);
  });
  bool const went_down = co_await w.down->wait(5s);
  REQUIRE(went_down);
  double const down_ms = ms_since(t0);
  bool const came_back = co_await w.up->wait(30s);
  REQUIRE(came_back);
  double const up_ms = ms_since(t0);
  issued_at_up = tally->issued;
  auto const ok_at_up = per[0].all.ok;
  bool const served = co_await poll_until([&] { return per[0].ok_after_up >= 500; }, 10s);
  CHECK(served);
  tally->stop = true;
  bool const drained = co_await load_done->wait(20s);
  REQUIRE(drained);
  watcher.join();

  std::printf("CLUSTER failover: link loss seen after %.0f ms; every node shows the replica promoted after %.0f ms; "
              "client up again after %.0f ms (node timeout 1000 ms). Victim's key: %zu ok before, failures: %s; "
              "other keys' failures: %s/ %s\n",
              down_ms, promoted_ms, up_ms, ok_at_up, per[0].all.describe().c_str(), per[1].all.describe().c_str(),
              per[2].all.describe().c_str());
  CHECK(promoted_ms > 0);
  CHECK(rc.owner(store::key_slot(keys[0])) == heir);
  auto o = cluster.owner(store::key_slot(keys[0]));
  REQUIRE(o);
  CHECK(*o == local(heir));
  // Only the outage's own errors: a lost link, a timeout, or the cluster
  // saying it is down past the retries; never a redirection or a wrong type.
  for (auto const& k : per) {
    INFO(k.all.describe());
    for (auto const& [kind, count] : k.all.failures)
      CHECK((kind == store::make_error_code(store::error::disconnected).message() ||
             kind == store::make_error_code(store::error::timeout).message() || kind == "CLUSTERDOWN"));
    CHECK(k.failed_after_up == 0);
    CHECK(k.ok_after_up > 0);
  }
  // The counter on the promoted replica went on from what it had replicated.
  Result r = co_await cluster.exec(cmd("GET", keys[0]));
  CHECK(std::stoll(r.second.str) >= static_cast<long long>(per[0].ok_after_up));
  cluster.stop();
}

asio::awaitable<void> sharded_pubsub(RedisCluster& rc) {
  auto w = co_await cluster_up(seeds_of(rc.seed(0)));
  auto& cluster = *w.cluster;
  auto ex = co_await asio::this_coro::executor;
  auto const ports = rc.primaries();
  std::vector<std::string> channels;
  for (auto p : ports) channels.push_back(key_on(rc, p, "room:"));

  std::vector<std::pair<std::string, std::string>> got;
  Flag message(ex), sub_up(ex), sub_down(ex);
  auto sub = cluster.subscriber([&](std::string_view channel, std::string_view payload) {
    got.emplace_back(channel, payload);
    message.set();
  });
  sub->on_up([&] { sub_up.set(); });
  sub->on_down([&] { sub_down.set(); });
  for (auto const& c : channels) sub->subscribe(c);
  sub->start();
  bool const ok = co_await sub_up.wait(10s);
  REQUIRE(ok);
  REQUIRE(sub->connected());

  auto shard_subscribers = [&](std::uint16_t port, std::string const& channel) {
    auto r = rc.command(port, {"PUBSUB", "SHARDNUMSUB", channel});
    return r.elements.size() == 2 ? r.elements[1].integer : -1;
  };
  auto publish_and_receive = [&](std::string channel, std::string payload) -> asio::awaitable<bool> {
    got.clear();
    Result r = co_await cluster.exec(cmd("SPUBLISH", channel, payload));
    if (r.first || r.second.integer != 1) co_return false;
    bool const arrived = co_await poll_until([&] { return !got.empty(); }, 5s);
    co_return arrived && got.front() == std::pair<std::string, std::string>(channel, payload);
  };

  for (std::size_t i = 0; i < channels.size(); ++i) {
    CHECK(shard_subscribers(ports[i], channels[i]) == 1);  // on the primary of its slot
    std::string const payload = std::string("hello\0from ", 11) + std::to_string(i);
    bool const delivered = co_await publish_and_receive(channels[i], payload);
    CHECK(delivered);
  }

  // Its slot moves: Redis drops the subscription, the subscriber finds the
  // new primary and subscribes there.
  auto const moving = channels[0];
  auto const to = ports[1];
  rc.migrate_slot(store::key_slot(moving), to);
  bool const dropped = co_await sub_down.wait(5s);
  CHECK(dropped);
  bool const resubscribed = co_await sub_up.wait(10s);
  REQUIRE(resubscribed);
  CHECK(shard_subscribers(to, moving) == 1);
  CHECK(shard_subscribers(ports[0], moving) == 0);
  bool const after_move = co_await publish_and_receive(moving, "after the move");
  CHECK(after_move);

  // Its primary dies: the subscriber follows the promoted replica.
  auto const victim = ports[2];
  auto const heir = rc.replica_of(victim);
  rc.kill9(victim);
  bool const lost = co_await sub_down.wait(5s);
  CHECK(lost);
  bool const followed = co_await sub_up.wait(30s);
  REQUIRE(followed);
  CHECK(shard_subscribers(heir, channels[2]) == 1);
  bool const after_failover = co_await publish_and_receive(channels[2], "after the failover");
  CHECK(after_failover);
  bool const others = co_await publish_and_receive(channels[1], "unaffected");
  CHECK(others);

  sub->unsubscribe(channels[1]);
  bool const gone = co_await poll_until([&] { return shard_subscribers(ports[1], channels[1]) == 0; }, 5s);
  CHECK(gone);
  sub->stop();
  cluster.stop();
}

asio::awaitable<void> seeds(RedisCluster& rc) {
  auto const dead = "127.0.0.1:" + std::to_string(free_port());
  // Any node answers CLUSTER SLOTS, a replica too; a dead seed is skipped.
  auto replica = rc.replica_of(rc.primaries().front());
  auto w = co_await cluster_up(seeds_of(dead, "127.0.0.1:" + std::to_string(replica)));
  Result r = co_await w.cluster->exec(cmd("SET", "seeded", "yes"));
  CHECK(r.second.str == "OK");
  w.cluster->stop();

  // No seed answers: nothing comes up, commands fail at once, and why is told.
  auto ex = co_await asio::this_coro::executor;
  store::ClusterOptions opt;
  opt.node.connect_timeout = 300ms;
  opt.node.command_timeout = 300ms;
  auto none = store::Cluster::create(ex, *store::parse_cluster_seeds({dead}), opt);
  bool came_up = false;
  none->on_up([&] { came_up = true; });
  none->start();
  bool const told = co_await poll_until([&] { return !none->last_error().empty(); }, 5s);
  CHECK(told);
  CHECK(none->last_error().find("cluster map") != std::string::npos);
  auto const t0 = Clock::now();
  r = co_await none->exec(cmd("GET", "seeded"));
  CHECK(r.first == store::error::disconnected);
  CHECK(ms_since(t0) < 100);
  CHECK_FALSE(came_up);
  none->stop();
}

double cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto ms = [](timeval t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

// `n` SETs on distinct keys, `window` in flight: the client's side of
// throughput, on one Connection or on a Cluster.
asio::awaitable<void> set_rate(store::Connection& c, char const* what, std::size_t n, std::size_t window) {
  auto tally = std::make_shared<Tally>();
  std::string const value(16, 'v');
  auto const t0 = Clock::now();
  auto const cpu0 = cpu_ms();
  co_await pump(
      c, window, [n](std::size_t i) { return i < n; },
      [&](std::size_t i) { return cmd("SET", "bench:" + std::to_string(i), value); }, nullptr, tally);
  double const wall = ms_since(t0), cpu = cpu_ms() - cpu0;
  std::printf("CLUSTER bench %s: %zu SET, %zu in flight: %.0f/s, client CPU %.2f us per command\n", what, n,
              window, n / wall * 1000.0, cpu * 1000.0 / static_cast<double>(n));
  CHECK(tally->ok == n);
}

asio::awaitable<void> throughput(RedisServer& single, RedisCluster& rc) {
  constexpr std::size_t n = 300'000, window = 1000;
  auto one = co_await connect_up(single.url());
  co_await set_rate(*one.conn, "one Connection, standalone redis-server", n, window);
  one.conn->stop();
  auto w = co_await cluster_up(seeds_of(rc.seed(0)));
  co_await set_rate(*w.cluster, "Cluster, 3 primaries", n, window);
  w.cluster->stop();
}

// Runs `body` on a cluster of its own, formed for it and killed after it.
void on_a_new_cluster(asio::awaitable<void> (*body)(RedisCluster&), std::chrono::seconds limit = 60s) {
  RedisCluster rc;
  asio::io_context ioc;
  run_coro(ioc, body(rc), limit);
}

}  // namespace

// Hidden (not run by ctest): ./store_cluster_test "[.bench]"
TEST_CASE("Cluster throughput beside one Connection", "[.bench]") {
  RedisServer single;  // AOF every second, as the cluster's nodes
  RedisCluster rc;
  asio::io_context ioc;
  run_coro(ioc, throughput(single, rc), 120s);
}

TEST_CASE("Cluster: commands spread over the three primaries, routed by key slot, pipelined in order",
          "[store][cluster]") {
  on_a_new_cluster(spread);
}

TEST_CASE("Cluster: scripts are loaded on every primary and run on the primary of their first key",
          "[store][cluster]") {
  on_a_new_cluster(scripts);
}

TEST_CASE("Cluster: a slot migrated under load: MOVED and ASK followed, nothing lost, order kept",
          "[store][cluster]") {
  on_a_new_cluster(migration_under_load);
}

TEST_CASE("Cluster: ASK during a migration in progress reaches the importing primary, MOVED after it",
          "[store][cluster]") {
  on_a_new_cluster(ask_during_migration);
}

TEST_CASE("Cluster: a primary killed under load: its replica takes over and commands succeed again",
          "[store][cluster]") {
  on_a_new_cluster(failover_under_load, 90s);
}

TEST_CASE("Cluster pub/sub: sharded channels on their slot's primary, followed across a migration and a failover",
          "[store][cluster]") {
  on_a_new_cluster(sharded_pubsub, 90s);
}

TEST_CASE("Cluster: the map comes from any live seed, and with none commands fail at once and the reason is told",
          "[store][cluster]") {
  on_a_new_cluster(seeds);
}
