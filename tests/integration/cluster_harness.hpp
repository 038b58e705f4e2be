// A real local Redis Cluster (tests/support/redis_cluster.hpp) and exceed
// processes configured for it: redis.cluster names three seeds, the
// prefix's hash tag puts routing in one slot and the conversations' talk
// sides in 256 bucket slots (docs/CLUSTER.md). Shared by
// the integration tests (cluster_test.cpp) and the fault tests.
#pragma once

#include "integration/harness.hpp"
#include "support/redis_cluster.hpp"

namespace exceed::test {

struct ClusterDeployment {
  explicit ClusterDeployment(Env extra = {}, RedisClusterOptions opt = {}) : cluster(std::move(opt)) {
    std::string seeds;
    for (std::size_t i = 0; i < 3; ++i) seeds += (i ? "," : "") + cluster.seed(i);
    env = {{"EXCEED_REDIS_CLUSTER", seeds}, {"EXCEED_REDIS_PREFIX", prefix()}};
    env.insert(env.end(), extra.begin(), extra.end());
    add_server();
  }
  ExceedServer& add_server() {
    // redis.url is not used when redis.cluster is set: a port nothing listens on says so.
    servers.push_back(std::make_unique<ExceedServer>(unused_url, env));
    return *servers.back();
  }
  std::uint16_t port(std::size_t i = 0) const { return servers.at(i)->port(); }
  ExceedServer& server(std::size_t i = 0) { return *servers.at(i); }
  std::string prefix() const { return "{exceed}:"; }
  void user(std::string const& name, std::string const& role = "agent", std::string const& teams = "support",
            int capacity = 3) {
    REQUIRE(add_user(unused_url, name, role, teams, capacity, "password123", "", env) == 0);
  }
  // The routing slot (the prefix's), and the primary serving it now, as the cluster itself says.
  std::uint16_t slot() const {
    return static_cast<std::uint16_t>(cluster.command(cluster.ports().front(), {"CLUSTER", "KEYSLOT", prefix()}).integer);
  }
  std::uint16_t home() const { return cluster.owner(slot()); }

  RedisCluster cluster;
  Env env;
  std::vector<std::unique_ptr<ExceedServer>> servers;
  // What the fault scenes read the store from: the primary holding the routing slot now.
  struct Home {
    ClusterDeployment const* d;
    std::uint16_t port() const { return d->home(); }
  } redis{this};

 private:
  static constexpr char const* unused_url = "redis://127.0.0.1:1";
};

}  // namespace exceed::test
