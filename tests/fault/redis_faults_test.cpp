// Faults of Redis under a steady chat load: the server's Redis killed and
// restarted, and a Sentinel failover to a replica. Each test prints a
// "FAULT ..." line with its figures (docs/RELIABILITY.md quotes them).
#include "fault/scene.hpp"
#include "fault/sentinel_env.hpp"
#include "integration/cluster_harness.hpp"
#include "store/keys.hpp"

using namespace exceed::fault;
using namespace std::chrono_literals;

namespace {

Env fault_env(Env extra = {}) {
  Env e{{"EXCEED_ROUTING_TICKET_WHEN_OFFLINE", "false"},
        {"EXCEED_LIMITS_MESSAGES_PER_S", "200"},
        {"EXCEED_LIMITS_BURST", "400"}};
  e.insert(e.end(), extra.begin(), extra.end());
  return e;
}

// A primary (which refuses writes without a replica in sync: see
// docs/RELIABILITY.md), its replica, three sentinels with quorum 2, and
// exceed processes that find the primary through the sentinels.
struct SentinelDeployment {
  std::string dir = exceed::test::make_temp_dir("exceed-sentinel-");
  std::optional<RedisNode> primary, replica;
  std::vector<std::unique_ptr<SentinelNode>> sentinels;
  std::vector<std::unique_ptr<ExceedServer>> servers;
  struct Current {
    SentinelDeployment* d;
    std::uint16_t port() const { return d->sentinels.at(0)->primary(); }  // the primary the sentinels name now
  } redis{this};

  SentinelDeployment() {
    primary.emplace(dir + "/primary", std::vector<std::string>{"--min-replicas-to-write", "1",
                                                               "--min-replicas-max-lag", "10"});
    auto p = std::to_string(primary->port());
    replica.emplace(dir + "/replica", std::vector<std::string>{"--replicaof", "127.0.0.1", p});
    REQUIRE(poll_until(
        [&] {
          auto info = redis_command(replica->port(), {"INFO", "replication"}).at(0);
          return info.find("master_link_status:up") != std::string::npos;
        },
        10s));
    std::string list;
    for (int i = 0; i < 3; ++i) {
      sentinels.push_back(std::make_unique<SentinelNode>(dir + "/sentinel" + std::to_string(i), primary->port(), 2));
      list += (i ? "," : "") + std::string("127.0.0.1:") + std::to_string(sentinels.back()->port());
    }
    // Sentinels find the replica and each other through the primary (hello
    // messages every 2 s); a failover needs a majority that knows itself.
    for (auto& s : sentinels)
      REQUIRE(poll_until([&] { return s->known("sentinels") == 2 && s->known("replicas") == 1; }, 15s));
    servers.push_back(std::make_unique<ExceedServer>(
        "redis://127.0.0.1:" + p,
        fault_env({{"EXCEED_REDIS_SENTINELS", list}, {"EXCEED_REDIS_MASTER_NAME", "mymaster"}})));
  }
  ~SentinelDeployment() {
    servers.clear();
    sentinels.clear();
    replica.reset();
    primary.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  std::uint16_t port(std::size_t i = 0) const { return servers.at(i)->port(); }
  ExceedServer& server(std::size_t i = 0) { return *servers.at(i); }
  std::string prefix() const { return "exceed:"; }
  void user(std::string const& name, std::string const& role = "agent", std::string const& teams = "support",
            int capacity = 3) {
    REQUIRE(add_user("redis://127.0.0.1:" + std::to_string(redis.port()), name, role, teams, capacity) == 0);
  }
};

}  // namespace

TEST_CASE("fault: Redis killed and restarted under load (AOF, fsync always): the server stays up, answers unavailable, recovers by itself") {
  Deployment d(fault_env(), RedisServer::Options{true, true, "", {}});
  Scene s(d, 2, 8);
  auto const n = static_cast<std::int64_t>(s.swarm.size());
  s.swarm.start_sending();
  REQUIRE(s.swarm.wait_figures([](SwarmFigures const& f) { return f.acked >= 300; }, 20s));

  auto before = s.swarm.figures();
  auto down = Clock::now();
  d.redis.kill9();
  // Meanwhile: the process lives, /readyz says 503, and every client's
  // message.send is answered `unavailable` (and kept for a retry).
  REQUIRE(s.swarm.wait_figures([&](SwarmFigures const& f) { return f.unavailable >= before.unavailable + 5 * n; }, 10s));
  CHECK(d.server().running());
  CHECK(!d.server().ready());
  CHECK(http(d.port(), "GET", "/healthz").status == 200);
  auto mid = s.swarm.figures();

  d.redis.start();
  double outage = ms_since(down);
  auto up = Clock::now();
  REQUIRE(s.swarm.wait_figures([&](SwarmFigures const& f) { return f.acked >= mid.acked + n; }, 20s));
  double recovery = ms_since(up);
  CHECK(d.server().wait_ready(true, 5s));
  s.finish();

  auto f = s.audited(d.redis.port(), "redis-kill9-restart", recovery,
                     "outage_ms=" + std::to_string(static_cast<long>(outage)));
  CHECK(d.server().running());
  CHECK(f.disconnects == 0);  // the WebSockets stayed open through the outage
  CHECK(f.other_errors == 0);
}

TEST_CASE("fault: Redis Sentinel failover under load: the server follows the new primary without a restart") {
  SentinelDeployment d;
  SceneT<SentinelDeployment> s(d, 2, 6);
  auto const n = static_cast<std::int64_t>(s.swarm.size());
  s.swarm.start_sending();
  REQUIRE(s.swarm.wait_figures([](SwarmFigures const& f) { return f.acked >= 300; }, 20s));

  auto before = s.swarm.figures();
  auto killed = Clock::now();
  d.primary->kill9();
  auto new_primary = d.replica->port();
  REQUIRE(poll_until([&] { return d.sentinels[0]->primary() == new_primary; }, 20s));
  double failover = ms_since(killed);
  REQUIRE(s.swarm.wait_figures([&](SwarmFigures const& f) { return f.acked >= before.acked + n; }, 20s));
  double recovery = ms_since(killed);
  CHECK(d.server().running());
  CHECK(d.server().ready());
  CHECK(d.replica->role() == "master");
  s.finish();

  auto f = s.audited(new_primary, "sentinel-failover", recovery,
                     "failover_ms=" + std::to_string(static_cast<long>(failover)));
  CHECK(f.other_errors == 0);
}

// The same on a Redis Cluster: every Exceed key in one slot, whose primary
// is killed; the cluster promotes a replica by itself (node timeout 1 s) and
// the server follows the new slot map. Two replicas per primary, as
// deploy/ runs it: with min-replicas-to-write 1 a promoted replica needs a
// replica of its own to take writes.
TEST_CASE("fault: Redis Cluster failover under load: the primary of Exceed's slot killed, a replica takes over, nothing acked lost or doubled") {
  RedisClusterOptions opt;
  opt.replicas_per_primary = 2;
  opt.node_args = {"--appendfsync", "always", "--min-replicas-to-write", "1", "--min-replicas-max-lag", "10"};
  ClusterDeployment d(fault_env(), opt);
  SceneT<ClusterDeployment> s(d, 2, 6);
  auto const n = static_cast<std::int64_t>(s.swarm.size());
  s.swarm.start_sending();
  REQUIRE(s.swarm.wait_figures([](SwarmFigures const& f) { return f.acked >= 300; }, 20s));

  auto before = s.swarm.figures();
  auto const slot = d.slot();
  auto const old_home = d.home();
  auto killed = Clock::now();
  d.cluster.kill9(old_home);
  auto new_home = d.cluster.wait_for_failover(slot, old_home, 20s);
  REQUIRE(new_home != 0);
  double failover = ms_since(killed);
  REQUIRE(s.swarm.wait_figures([&](SwarmFigures const& f) { return f.acked >= before.acked + n; }, 20s));
  double recovery = ms_since(killed);
  CHECK(d.server().running());
  CHECK(d.server().wait_ready(true));  // the map refreshed: every slot served
  s.finish();

  auto f = s.audited(new_home, "cluster-failover", recovery,
                     "failover_ms=" + std::to_string(static_cast<long>(failover)));
  CHECK(f.other_errors == 0);
}

// Resharding under load: the slot of a busy conversation's talk side (its
// messages, client_msg_ids and the copy a send checks, docs/CLUSTER.md)
// migrated to another primary key by key, as redis-cli --cluster reshard
// does. A script must not run on a half-moved conversation: the talk
// side's scripts declare a key that never exists (ASK while the slot
// moves, which the client does not follow for scripts) and the grouped
// ones check their undeclared conversations first (TRYAGAIN); both reach
// clients as unavailable, which they retry.
TEST_CASE("fault: Redis Cluster resharding under load: a conversation's slot moved to another primary, nothing acked lost or doubled") {
  RedisClusterOptions opt;
  opt.node_args = {"--appendfsync", "always"};
  ClusterDeployment d(fault_env(), opt);
  SceneT<ClusterDeployment> s(d, 2, 6);
  auto const n = static_cast<std::int64_t>(s.swarm.size());
  s.swarm.start_sending();
  REQUIRE(s.swarm.wait_figures([](SwarmFigures const& f) { return f.acked >= 300; }, 20s));

  auto const conv = s.swarm.acked_by_conv().begin()->first;
  auto const talk = exceed::store::Keys("{exceed}:").talk(conv);
  auto const slot = static_cast<std::uint16_t>(
      d.cluster.command(d.cluster.ports().front(), {"CLUSTER", "KEYSLOT", talk}).integer);
  auto const from = d.cluster.owner(slot);
  std::uint16_t to = 0;
  for (auto p : d.cluster.primaries())
    if (p != from) to = p;
  REQUIRE(to != 0);
  auto before = s.swarm.figures();
  auto started = Clock::now();
  d.cluster.begin_migration(slot, to);
  // One key at a time, each step only once the load has met the slot half
  // moved (requests answered unavailable), so the load runs through the
  // whole migration rather than beside a migration over in milliseconds.
  std::size_t keys = 0;
  for (;;) {
    auto seen = s.swarm.figures().unavailable;
    REQUIRE(s.swarm.wait_figures([&](SwarmFigures const& f) { return f.unavailable >= seen + 3; }, 10s));
    auto moved = d.cluster.migrate_keys(slot, to, 1);
    if (moved == 0) break;
    keys += moved;
  }
  d.cluster.finish_migration(slot, to);
  double migration = ms_since(started);
  REQUIRE(d.cluster.owner(slot) == to);
  REQUIRE(keys >= 3);  // the hash, the client_msg_ids, the messages
  REQUIRE(s.swarm.wait_figures([&](SwarmFigures const& f) { return f.acked >= before.acked + n; }, 20s));
  double recovery = ms_since(started);
  CHECK(d.server().running());
  CHECK(d.server().ready());
  s.finish();
  CHECK(d.cluster.command(from, {"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)}).integer == 0);

  auto f = s.audited(d.home(), "cluster-reshard", recovery,
                     "migration_ms=" + std::to_string(static_cast<long>(migration)) + " keys_moved=" + std::to_string(keys));
  CHECK(f.other_errors == 0);
}
