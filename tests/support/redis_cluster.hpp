// Test support: a real local Redis Cluster (by default 3 primaries with one
// replica each), made the way an operator makes one: six
// `redis-server --cluster-enabled yes` on free loopback ports in a temporary
// directory, then `redis-cli --cluster create ... --cluster-replicas 1`.
// The constructor returns once every node reports cluster_state:ok, knows
// every other node and every replica's link to its primary is up; the
// destructor kills every node (also on a failing test's unwinding) and
// removes the directory.
//
// The helpers talk to the nodes with hiredis's blocking API on their own
// short-lived connections, so a test may call them from a second thread
// while its io_context runs the client under test.
#pragma once

#include "support/process.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace exceed::test {

struct RedisClusterOptions {
  int primaries = 3;
  int replicas_per_primary = 1;
  int node_timeout_ms = 1000;  // how soon a silent primary is failed over
  bool require_full_coverage = true;
  std::vector<std::string> node_args;  // more redis-server settings for every node ("--appendfsync", "always")
};

// A reply of the blocking helpers, flattened enough for tests.
struct NodeReply {
  bool error = false;
  long long integer = 0;
  std::string str;                  // status, error and string replies
  std::vector<NodeReply> elements;  // arrays
};

class RedisCluster {
 public:
  using Options = RedisClusterOptions;

  // Throws std::runtime_error (with the logs' tails) when the cluster does
  // not form within a minute.
  explicit RedisCluster(Options opt = {});
  RedisCluster(RedisCluster const&) = delete;
  RedisCluster& operator=(RedisCluster const&) = delete;
  ~RedisCluster();

  std::vector<std::uint16_t> ports() const;
  std::string seed(std::size_t i = 0) const;  // "127.0.0.1:<port>" of node i

  // One command to the node on `port`; throws when it cannot be reached.
  NodeReply command(std::uint16_t port, std::vector<std::string> const& args) const;

  // The cluster's own view, asked of a live node (CLUSTER NODES).
  struct NodeInfo {
    std::string id;
    std::uint16_t port = 0;
    bool primary = false;
    bool failed = false;
    std::string primary_id;  // replicas: whose
    std::vector<std::pair<int, int>> slots;
  };
  std::vector<NodeInfo> nodes() const;
  std::uint16_t owner(std::uint16_t slot) const;  // port of the primary serving it
  std::vector<std::uint16_t> primaries() const;
  std::uint16_t replica_of(std::uint16_t primary) const;  // 0 when it has none

  // SIGKILL: a crash; the node's data stays on disk.
  void kill9(std::uint16_t port);

  // Waits until a live node's view shows `slot` served by another primary
  // than `old_owner`, and every live node says cluster_state:ok; returns the
  // new owner, or 0 after `limit`.
  std::uint16_t wait_for_failover(std::uint16_t slot, std::uint16_t old_owner, std::chrono::milliseconds limit) const;

  // Moving a slot as redis-cli --cluster reshard does, in steps a test can
  // interleave with its load: IMPORTING on the target and MIGRATING on the
  // source; MIGRATE of up to `count` keys; SETSLOT NODE on the target, the
  // source, then every other primary. migrate_slot does all three.
  void begin_migration(std::uint16_t slot, std::uint16_t to) const;
  std::size_t migrate_keys(std::uint16_t slot, std::uint16_t to, std::size_t count) const;  // how many moved
  void finish_migration(std::uint16_t slot, std::uint16_t to) const;
  void migrate_slot(std::uint16_t slot, std::uint16_t to) const;

 private:
  struct Node;
  void start_node(Node& n);
  void create_cluster();
  bool formed() const;
  std::string id_of(std::uint16_t port) const;
  std::string logs_tail() const;

  Options opt_;
  std::string dir_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace exceed::test
