#include "support/redis_cluster.hpp"

#include <hiredis/hiredis.h>

#include <sys/time.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace exceed::test {

struct RedisCluster::Node {
  std::uint16_t port = 0;
  std::uint16_t bus_port = 0;
  std::string dir;
  std::optional<Process> proc;
};

namespace {

using namespace std::chrono_literals;

NodeReply flatten(redisReply const& r) {
  NodeReply out;
  switch (r.type) {
    case REDIS_REPLY_ERROR:
      out.error = true;
      [[fallthrough]];
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_STRING:
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(flatten(*r.element[i]));
      break;
    default:
      break;
  }
  return out;
}

std::string tail(std::string const& path, std::size_t lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += all[i] + "\n";
  return out;
}

// "0-5460" or "42"; a migration marker ("[42->-id]") is no ownership.
std::optional<std::pair<int, int>> slot_range(std::string const& token) {
  if (token.empty() || token[0] == '[') return std::nullopt;
  auto dash = token.find('-');
  if (dash == std::string::npos) return std::pair<int, int>(std::stoi(token), std::stoi(token));
  return std::pair<int, int>(std::stoi(token.substr(0, dash)), std::stoi(token.substr(dash + 1)));
}

std::vector<RedisCluster::NodeInfo> parse_nodes(std::string const& text) {
  std::vector<RedisCluster::NodeInfo> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string id, addr, flags, primary, ping, pong, epoch, link;
    if (!(words >> id >> addr >> flags >> primary >> ping >> pong >> epoch >> link)) continue;
    RedisCluster::NodeInfo n;
    n.id = id;
    auto colon = addr.rfind(':', addr.find('@'));
    n.port = static_cast<std::uint16_t>(std::stoi(addr.substr(colon + 1)));
    n.primary = flags.find("master") != std::string::npos;
    n.failed = flags.find("fail") != std::string::npos && flags.find("fail?") == std::string::npos;
    if (primary != "-") n.primary_id = primary;
    for (std::string token; words >> token;)
      if (auto r = slot_range(token)) n.slots.push_back(*r);
    out.push_back(std::move(n));
  }
  return out;
}

std::uint16_t owner_in(std::vector<RedisCluster::NodeInfo> const& nodes, std::uint16_t slot) {
  for (auto const& n : nodes) {
    if (!n.primary || n.failed) continue;
    for (auto [first, last] : n.slots)
      if (slot >= first && slot <= last) return n.port;
  }
  return 0;
}

void expect_ok(NodeReply const& r, std::string const& what) {
  if (r.error) throw std::runtime_error(what + ": " + r.str);
}

}  // namespace

RedisCluster::RedisCluster(Options opt) : opt_(opt), dir_(make_temp_dir("exceed-cluster-")) {
  try {
    int const count = opt_.primaries * (1 + opt_.replicas_per_primary);
    for (int i = 0; i < count; ++i) {
      auto n = std::make_unique<Node>();
      start_node(*n);
      nodes_.push_back(std::move(n));
    }
    create_cluster();
    auto const deadline = std::chrono::steady_clock::now() + 60s;
    while (!formed()) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("the cluster did not reach cluster_state:ok:\n" + logs_tail());
      std::this_thread::sleep_for(20ms);  // CLUSTER INFO has no event to wait on
    }
  } catch (...) {
    nodes_.clear();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

RedisCluster::~RedisCluster() {
  nodes_.clear();  // each Process kills and reaps its server
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

// Another process may take a port between free_port() and the bind: retry
// with fresh ports a few times, as RedisServer does.
void RedisCluster::start_node(Node& n) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    n.port = free_port();
    do n.bus_port = free_port();
    while (n.bus_port == n.port);
    n.dir = dir_ + "/" + std::to_string(n.port);
    std::filesystem::create_directories(n.dir);
    std::vector<std::string> argv{"redis-server",
                                  "--port", std::to_string(n.port),
                                  "--cluster-port", std::to_string(n.bus_port),
                                  "--bind", "127.0.0.1",
                                  "--cluster-enabled", "yes",
                                  "--cluster-config-file", "nodes.conf",
                                  "--cluster-node-timeout", std::to_string(opt_.node_timeout_ms),
                                  "--cluster-require-full-coverage", opt_.require_full_coverage ? "yes" : "no",
                                  "--dir", n.dir,
                                  "--appendonly", "yes",
                                  // A replica's first sync starts at once (Redis waits 5 s for more by default).
                                  "--repl-diskless-sync-delay", "0",
                                  "--save", "",
                                  "--protected-mode", "no",
                                  "--daemonize", "no",
                                  "--enable-debug-command", "local",
                                  "--logfile", ""};
    argv.insert(argv.end(), opt_.node_args.begin(), opt_.node_args.end());
    n.proc.emplace(std::move(argv), std::vector<std::pair<std::string, std::string>>{}, n.dir + "/redis.log");
    auto const deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline && n.proc->running()) {
      try {
        if (command(n.port, {"PING"}).str == "PONG") return;
      } catch (std::exception const&) {
      }
      std::this_thread::sleep_for(10ms);
    }
    n.proc.reset();
  }
  throw std::runtime_error("a cluster node did not start:\n" + tail(n.dir + "/redis.log", 20));
}

void RedisCluster::create_cluster() {
  std::vector<std::string> argv{"redis-cli", "--cluster", "create"};
  for (auto const& n : nodes_) argv.push_back("127.0.0.1:" + std::to_string(n->port));
  argv.insert(argv.end(), {"--cluster-replicas", std::to_string(opt_.replicas_per_primary), "--cluster-yes"});
  Process cli(std::move(argv), {}, dir_ + "/create.log");
  int const rc = cli.wait(60s);
  if (rc != 0)
    throw std::runtime_error("redis-cli --cluster create exited with " + std::to_string(rc) + ":\n" +
                             tail(dir_ + "/create.log", 30));
}

bool RedisCluster::formed() const {
  auto const count = std::to_string(nodes_.size());
  for (auto const& n : nodes_) {
    auto info = command(n->port, {"CLUSTER", "INFO"}).str;
    if (info.find("cluster_state:ok") == std::string::npos ||
        info.find("cluster_known_nodes:" + count + "\r") == std::string::npos ||
        info.find("cluster_slots_ok:16384") == std::string::npos)
      return false;
    auto repl = command(n->port, {"INFO", "replication"}).str;
    if (repl.find("role:slave") != std::string::npos && repl.find("master_link_status:up") == std::string::npos)
      return false;
    // Every node has heard by gossip which nodes are replicas of which (a
    // node may know a replica before it knows its role): the tests ask any
    // node for a primary's replica.
    int replicas = 0;
    for (auto const& info : parse_nodes(command(n->port, {"CLUSTER", "NODES"}).str))
      if (!info.primary && !info.primary_id.empty()) ++replicas;
    if (replicas != opt_.primaries * opt_.replicas_per_primary) return false;
  }
  return true;
}

NodeReply RedisCluster::command(std::uint16_t port, std::vector<std::string> const& args) const {
  timeval tv{5, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (c == nullptr || c->err != 0) {
    std::string why = c != nullptr ? c->errstr : "out of memory";
    if (c != nullptr) redisFree(c);
    throw std::runtime_error("127.0.0.1:" + std::to_string(port) + ": " + why);
  }
  redisSetTimeout(c, tv);
  std::vector<char const*> argv;
  std::vector<std::size_t> len;
  for (auto const& a : args) {
    argv.push_back(a.data());
    len.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), len.data()));
  if (r == nullptr) {
    std::string why = c->errstr;
    redisFree(c);
    throw std::runtime_error("127.0.0.1:" + std::to_string(port) + ": " + why);
  }
  NodeReply out = flatten(*r);
  freeReplyObject(r);
  redisFree(c);
  return out;
}

std::vector<std::uint16_t> RedisCluster::ports() const {
  std::vector<std::uint16_t> out;
  for (auto const& n : nodes_) out.push_back(n->port);
  return out;
}

std::string RedisCluster::seed(std::size_t i) const { return "127.0.0.1:" + std::to_string(nodes_.at(i)->port); }

std::vector<RedisCluster::NodeInfo> RedisCluster::nodes() const {
  for (auto const& n : nodes_) {
    if (!n->proc || !n->proc->running()) continue;
    return parse_nodes(command(n->port, {"CLUSTER", "NODES"}).str);
  }
  throw std::runtime_error("no cluster node is running");
}

std::uint16_t RedisCluster::owner(std::uint16_t slot) const { return owner_in(nodes(), slot); }

std::vector<std::uint16_t> RedisCluster::primaries() const {
  std::vector<std::uint16_t> out;
  for (auto const& n : nodes())
    if (n.primary && !n.failed && !n.slots.empty()) out.push_back(n.port);
  return out;
}

std::uint16_t RedisCluster::replica_of(std::uint16_t primary) const {
  auto all = nodes();
  std::string id;
  for (auto const& n : all)
    if (n.port == primary) id = n.id;
  for (auto const& n : all)
    if (!n.primary && !n.failed && n.primary_id == id) return n.port;
  return 0;
}

std::string RedisCluster::id_of(std::uint16_t port) const {
  auto r = command(port, {"CLUSTER", "MYID"});
  expect_ok(r, "CLUSTER MYID");
  return r.str;
}

void RedisCluster::kill9(std::uint16_t port) {
  for (auto& n : nodes_) {
    if (n->port != port || !n->proc) continue;
    n->proc->signal(SIGKILL);
    n->proc->wait(10s);
    n->proc.reset();
  }
}

std::uint16_t RedisCluster::wait_for_failover(std::uint16_t slot, std::uint16_t old_owner,
                                              std::chrono::milliseconds limit) const {
  auto const deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    std::uint16_t agreed = 0;
    bool all = true;
    for (auto const& n : nodes_) {
      if (!n->proc || !n->proc->running()) continue;
      auto const o = owner_in(parse_nodes(command(n->port, {"CLUSTER", "NODES"}).str), slot);
      bool const ok = command(n->port, {"CLUSTER", "INFO"}).str.find("cluster_state:ok") != std::string::npos;
      if (!ok || o == 0 || o == old_owner || (agreed != 0 && o != agreed)) {
        all = false;
        break;
      }
      agreed = o;
    }
    if (all && agreed != 0) return agreed;
    std::this_thread::sleep_for(20ms);  // the cluster's view has no event to wait on
  }
  return 0;
}

void RedisCluster::begin_migration(std::uint16_t slot, std::uint16_t to) const {
  auto const from = owner(slot);
  auto const s = std::to_string(slot);
  expect_ok(command(to, {"CLUSTER", "SETSLOT", s, "IMPORTING", id_of(from)}), "SETSLOT IMPORTING");
  expect_ok(command(from, {"CLUSTER", "SETSLOT", s, "MIGRATING", id_of(to)}), "SETSLOT MIGRATING");
}

std::size_t RedisCluster::migrate_keys(std::uint16_t slot, std::uint16_t to, std::size_t count) const {
  auto const from = owner(slot);
  auto keys = command(from, {"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), std::to_string(count)});
  expect_ok(keys, "GETKEYSINSLOT");
  if (keys.elements.empty()) return 0;
  std::vector<std::string> migrate{"MIGRATE", "127.0.0.1", std::to_string(to), "", "0", "5000", "KEYS"};
  for (auto const& k : keys.elements) migrate.push_back(k.str);
  expect_ok(command(from, migrate), "MIGRATE");
  return keys.elements.size();
}

void RedisCluster::finish_migration(std::uint16_t slot, std::uint16_t to) const {
  while (migrate_keys(slot, to, 100) > 0) {
  }
  auto const from = owner(slot);
  auto const s = std::to_string(slot);
  auto const to_id = id_of(to);
  expect_ok(command(to, {"CLUSTER", "SETSLOT", s, "NODE", to_id}), "SETSLOT NODE (target)");
  expect_ok(command(from, {"CLUSTER", "SETSLOT", s, "NODE", to_id}), "SETSLOT NODE (source)");
  for (auto p : primaries())
    if (p != to && p != from) expect_ok(command(p, {"CLUSTER", "SETSLOT", s, "NODE", to_id}), "SETSLOT NODE");
}

void RedisCluster::migrate_slot(std::uint16_t slot, std::uint16_t to) const {
  begin_migration(slot, to);
  finish_migration(slot, to);
}

std::string RedisCluster::logs_tail() const {
  std::string out = "create.log:\n" + tail(dir_ + "/create.log", 10);
  for (auto const& n : nodes_) out += std::to_string(n->port) + ":\n" + tail(n->dir + "/redis.log", 5);
  return out;
}

}  // namespace exceed::test
