#include "store/cluster.hpp"

#include "store/cluster_view.hpp"
#include "store/link.hpp"
#include "store/map_query.hpp"

#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <map>

namespace exceed::store {
namespace {

using namespace detail;

Args const asking{"ASKING"};

std::error_code disconnected() { return make_error_code(error::disconnected); }

// One caller's command, across its redirections and retries.
struct Command {
  Args args;
  std::optional<std::uint16_t> slot;  // none: keyless, any primary serves it
  std::unique_ptr<Completion> done;   // null once delivered
  Redirects redirects;
  std::uint32_t ticket = 0;  // the slot's SlotFence epoch when it was sent
  bool out = false;          // sent and not answered: counted by the fence
  bool asking = false;       // the next send is preceded by ASKING (an ASK redirection)
  bool script = false;       // EVAL, EVALSHA, FCALL... (RedirectPolicy::scripts_follow_ask)
};
using CommandPtr = std::shared_ptr<Command>;

// The link to one primary.
struct Node {
  Node(NodeAddress a, asio::any_io_executor ex) : addr(std::move(a)), first_deadline(std::move(ex)) {}
  NodeAddress addr;
  std::shared_ptr<Connection> conn;
  // A node just learnt from the map holds its commands until its first
  // connect ends (at most connect_timeout); after that, like Connection,
  // a command for a node whose link is down fails at once.
  bool first_connect = true;
  std::deque<CommandPtr> waiting;
  asio::steady_timer first_deadline;
};
using NodePtr = std::shared_ptr<Node>;

class ClusterImpl final : public Cluster, public ClusterView {
 public:
  ClusterImpl(asio::any_io_executor ex, std::vector<Endpoint> seeds, ClusterOptions opt)
      : ex_(ex), seeds_(std::move(seeds)), opt_(opt), refresh_timer_(ex), retry_timer_(ex),
        refresh_delay_(opt.refresh_min) {
    if (!seeds_.empty()) base_ = seeds_.front();
  }
  ~ClusterImpl() override { shut(); }

  void bind_self(std::shared_ptr<ClusterImpl> const& self) { self_ = self; }

  // ------------------------------------------------------------ Connection

  void start() override {
    if (running_) return;
    if (seeds_.empty()) {
      last_error_ = "no seed to ask for the slot map";
      return;
    }
    running_ = true;
    refresh_delay_ = opt_.refresh_min;
    for (auto const& p : primaries_) node_for(p);  // a restart uses the last map while it reads a new one
    refresh_now();
  }

  void stop() override { shut(); }
  bool connected() const noexcept override { return healthy_; }
  void on_up(std::function<void()> f) override { on_up_ = std::move(f); }
  void on_down(std::function<void()> f) override { on_down_ = std::move(f); }
  std::string last_error() const override { return last_error_; }

  std::size_t in_flight() const noexcept override {
    std::size_t n = delayed_.size();
    for (auto const& [slot, queue] : held_) n += queue.size();
    for (auto const& [addr, node] : nodes_) n += node->conn->in_flight() + node->waiting.size();
    return n;
  }

  asio::awaitable<std::pair<std::error_code, Reply>> exec(Args args) override {
    auto keep = shared_from_this();  // the Cluster outlives every awaiting caller
    auto send = [&](std::unique_ptr<Completion> done) { issue(std::move(args), std::nullopt, std::move(done)); };
    auto result = co_await await_command(send);
    co_return result;
  }

  void exec_cb(Args const& args, std::function<void(std::error_code, Reply)> done) override {
    issue(args, std::nullopt, make_completion(std::move(done)));
  }

  // ------------------------------------------------------------ Cluster

  asio::awaitable<std::pair<std::error_code, Reply>> exec_at(std::string key, Args args) override {
    auto keep = shared_from_this();
    auto send = [&](std::unique_ptr<Completion> done) { issue(std::move(args), key_slot(key), std::move(done)); };
    auto result = co_await await_command(send);
    co_return result;
  }

  void exec_at_cb(std::string_view key, Args const& args, std::function<void(std::error_code, Reply)> done) override {
    issue(args, key_slot(key), make_completion(std::move(done)));
  }

  void preload(Args load) override {
    if (std::find(loads_.begin(), loads_.end(), load) != loads_.end()) return;
    loads_.push_back(std::move(load));
    for (auto const& [addr, node] : nodes_)
      if (node->conn->connected()) load_script(*node, loads_.back());
  }

  std::shared_ptr<Subscriber> subscriber(Subscriber::Handler on_message) override {
    return make_shard_subscriber(ex_, std::static_pointer_cast<ClusterImpl>(shared_from_this()),
                                 std::move(on_message), opt_.node);
  }

  std::optional<NodeAddress> owner(std::uint16_t slot) const override {
    if (auto const* o = map_.owner(slot)) return *o;
    return std::nullopt;
  }
  std::vector<NodeAddress> primaries() const override { return primaries_; }
  ClusterStats stats() const noexcept override { return stats_; }

  // ------------------------------------------------------------ ClusterView

  NodeAddress const* owner_of(std::uint16_t slot) const override { return map_.owner(slot); }

  Endpoint endpoint_of(NodeAddress const& node) const override {
    Endpoint ep = base_;  // the seeds' credentials
    ep.host = node.host;
    ep.port = node.port;
    ep.unix_path.clear();
    ep.db = 0;
    return ep;
  }

  std::uint64_t watch(std::function<void()> on_map) override {
    watchers_.emplace(++watch_id_, std::move(on_map));
    return watch_id_;
  }
  void unwatch(std::uint64_t id) override { watchers_.erase(id); }

  void moved(std::uint16_t slot, NodeAddress const& node) override {
    if (!running_) return;
    assign(slot, node);
    update_health();
    tell_watchers();
    refresh_soon();
  }

  void map_stale() override { refresh_soon(); }

 private:
  // ------------------------------------------------------------ commands

  // The command is kept (moved in, or copied from exec_cb's reference) for
  // the redirections that may send it again.
  void issue(Args args, std::optional<std::uint16_t> slot, std::unique_ptr<Completion> done) {
    auto const route = route_of(args);
    if (route.kind == CommandRoute::Kind::refused) {
      std::move(*done).post(ex_, std::make_error_code(std::errc::invalid_argument), {});
      return;
    }
    if (!slot && route.kind == CommandRoute::Kind::keyed) slot = key_slot(args[route.key_index]);
    auto cmd = std::make_shared<Command>();
    cmd->script = is_script(args.front());
    cmd->args = std::move(args);
    cmd->slot = slot;
    cmd->done = std::move(done);
    send(cmd);
  }

  // Routes by the map: behind the slot's fence if it is closed, else to
  // the slot's primary (any primary for a keyless command).
  void send(CommandPtr const& cmd) {
    if (!running_) return deliver(*cmd, disconnected(), {});
    NodePtr node;
    if (cmd->slot) {
      auto const s = *cmd->slot;
      if (fence_.closed(s) || held_.contains(s)) {
        held_[s].push_back(cmd);
        ++stats_.fenced;
        return;
      }
      if (auto const* o = map_.owner(s)) node = node_for(*o);
    } else {
      node = any_primary();
    }
    if (!node) {
      refresh_soon();
      return deliver(*cmd, disconnected(), {});
    }
    dispatch(node, cmd);
  }

  // To this node, whatever the map says (redirections come here directly).
  void dispatch(NodePtr const& node, CommandPtr const& cmd) {
    if (cmd->slot) {
      cmd->ticket = fence_.sent(*cmd->slot);
      cmd->out = true;
    }
    if (node->conn->connected()) return write(node, cmd);
    if (node->first_connect) return node->waiting.push_back(cmd);
    answered(node, cmd, disconnected(), {});
  }

  // ASKING and the command leave in the same turn, so nothing of another
  // caller comes between them on the link.
  void write(NodePtr const& node, CommandPtr const& cmd) {
    if (cmd->asking) node->conn->exec_cb(asking, [](std::error_code, Reply) {});
    node->conn->exec_cb(cmd->args, [w = self_, ex = ex_, node, cmd](std::error_code ec, Reply r) {
      if (auto self = w.lock()) return self->answered(node, cmd, ec, std::move(r));
      if (auto done = std::move(cmd->done)) std::move(*done).post(ex, ec, std::move(r));
    });
  }

  void answered(NodePtr const& node, CommandPtr const& cmd, std::error_code ec, Reply reply) {
    bool opened = false;
    if (cmd->out) {
      cmd->out = false;
      opened = fence_.answered(*cmd->slot, cmd->ticket);
    }
    if (!running_) return deliver(*cmd, ec, std::move(reply));
    Step const step = cmd->redirects.next(opt_.redirects, ec, reply, node->addr.host, cmd->script);
    switch (step.action) {
      case Step::Action::deliver:
        deliver(*cmd, ec, std::move(reply));
        break;
      case Step::Action::moved:
        ++stats_.moved;
        cmd->asking = false;
        assign(step.slot, step.node);
        dispatch(node_for(step.node), cmd);  // ahead of what the fence now holds
        break;
      case Step::Action::ask:
        ++stats_.asked;
        cmd->asking = true;
        dispatch(node_for(step.node), cmd);
        break;
      case Step::Action::retry:
        ++stats_.retried;
        cmd->asking = false;
        delay(cmd, step.delay);
        break;
    }
    if (step.refresh) refresh_soon();
    if (opened) release(*cmd->slot);
    if (!map_.owns_any(node->addr)) retire(node);
    if (step.action == Step::Action::moved) update_health();
  }

  void deliver(Command& cmd, std::error_code ec, Reply reply) {
    if (auto done = std::move(cmd.done)) std::move(*done).post(ex_, ec, std::move(reply));
  }

  // The slot's fence opened: what it held goes out in the order it came.
  void release(std::uint16_t slot) {
    auto it = held_.find(slot);
    if (it == held_.end()) return;
    auto queue = std::move(it->second);
    held_.erase(it);
    for (auto const& cmd : queue) send(cmd);
  }

  void delay(CommandPtr const& cmd, std::chrono::milliseconds d) {
    auto const at = Clock::now() + d;
    bool const earliest = delayed_.empty() || at < delayed_.begin()->first;
    delayed_.emplace(at, cmd);
    if (earliest) arm_retry_timer(at);
  }

  void arm_retry_timer(Clock::time_point at) {
    retry_timer_.expires_at(at);
    retry_timer_.async_wait([w = self_](boost::system::error_code ec) {
      if (auto self = w.lock(); self && !ec) self->retry_due();
    });
  }

  void retry_due() {
    auto const now = Clock::now();
    std::vector<CommandPtr> due;
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      due.push_back(std::move(delayed_.begin()->second));
      delayed_.erase(delayed_.begin());
    }
    if (!delayed_.empty()) arm_retry_timer(delayed_.begin()->first);
    for (auto const& cmd : due) send(cmd);
  }

  // ------------------------------------------------------------ nodes

  NodePtr node_for(NodeAddress const& addr) {
    if (auto it = nodes_.find(addr); it != nodes_.end()) return it->second;
    auto node = std::make_shared<Node>(addr, ex_);
    node->conn = Connection::create(ex_, endpoint_of(addr), opt_.node);
    std::weak_ptr<Node> wn = node;
    node->conn->on_up([w = self_, wn] {
      auto self = w.lock();
      auto n = wn.lock();
      if (self && n) self->node_up(n);
    });
    node->conn->on_down([w = self_, wn] {
      auto self = w.lock();
      auto n = wn.lock();
      if (self && n) self->node_down(n);
    });
    nodes_.emplace(addr, node);
    node->conn->start();
    node->first_deadline.expires_after(opt_.node.connect_timeout);
    node->first_deadline.async_wait([w = self_, wn](boost::system::error_code ec) {
      auto self = w.lock();
      auto n = wn.lock();
      if (!ec && self && n) self->first_connect_over(n);
    });
    return node;
  }

  bool current(NodePtr const& node) const {
    auto it = nodes_.find(node->addr);
    return running_ && it != nodes_.end() && it->second == node;
  }

  // The scripts go first on a new link: Redis loads them before anything
  // routed to it runs, so no FCALL or EVALSHA there misses its script.
  void node_up(NodePtr const& node) {
    if (!current(node)) return;
    for (auto const& load : loads_) load_script(*node, load);
    node->first_connect = false;
    node->first_deadline.cancel();
    auto waiting = std::move(node->waiting);
    node->waiting.clear();
    for (auto const& cmd : waiting) write(node, cmd);
    update_health();
  }

  void node_down(NodePtr const& node) {
    if (!current(node)) return;
    update_health();
    refresh_soon();
  }

  void first_connect_over(NodePtr const& node) {
    if (!current(node) || !node->first_connect) return;
    node->first_connect = false;
    auto waiting = std::move(node->waiting);
    node->waiting.clear();
    for (auto const& cmd : waiting) answered(node, cmd, disconnected(), {});
    update_health();
    refresh_soon();
  }

  // A library loaded (or already there) turns the cluster's functions on
  // again after a call that found none had turned them off.
  void load_script(Node& node, Args const& load) {
    node.conn->exec_cb(load, [self = weak_from_this(), where = node.addr.describe(), what = load[0] + " " + load[1]](
                                 std::error_code ec, Reply r) {
      bool const loaded = !ec && (!r.is_error() || r.str.find("already exists") != std::string::npos);
      if (!loaded) spdlog::warn("redis cluster {}: {} failed: {}", where, what, ec ? ec.message() : r.str);
      else if (what == "FUNCTION LOAD")
        if (auto cluster = self.lock()) cluster->functions(true);
    });
  }

  // A node that serves no slot any more is closed once nothing is out on it.
  void retire(NodePtr const& node) {
    if (node->conn->in_flight() > 0 || !node->waiting.empty() || !current(node)) return;
    nodes_.erase(node->addr);
    node->first_deadline.cancel();
    node->conn->stop();
    spdlog::info("redis cluster: {} serves no slot now; its link is closed", node->addr.describe());
  }

  NodePtr any_primary() {
    for (std::size_t i = 0; i < primaries_.size(); ++i) {
      auto const k = (next_primary_ + i) % primaries_.size();
      auto it = nodes_.find(primaries_[k]);
      if (it != nodes_.end() && it->second->conn->connected()) {
        next_primary_ = k + 1;
        return it->second;
      }
    }
    return nullptr;
  }

  void update_health() {
    bool ok = running_ && map_.complete();
    for (std::size_t i = 0; ok && i < primaries_.size(); ++i) {
      auto it = nodes_.find(primaries_[i]);
      ok = it != nodes_.end() && it->second->conn->connected();
    }
    if (ok == healthy_) return;
    healthy_ = ok;
    auto keep = self_.lock();  // the callbacks may drop the last reference
    if (ok) {
      refresh_delay_ = opt_.refresh_min;
      last_error_.clear();
      spdlog::info("redis cluster: up, {} primaries serve the {} slots", primaries_.size(), slot_count);
      if (on_up_) on_up_();
    } else {
      spdlog::warn("redis cluster: a slot has no reachable primary; reading the map until one has");
      refresh_soon();
      if (on_down_) on_down_();
    }
  }

  // ------------------------------------------------------------ the map

  void assign(std::uint16_t slot, NodeAddress const& to) {
    if (auto const* cur = map_.owner(slot); cur != nullptr && *cur == to) return;
    map_.assign(slot, to);
    fence_.owner_changed(slot);
    primaries_ = map_.primaries();
    remember(to);
    node_for(to);
  }

  void apply(SlotMap m) {
    bool const first = map_.empty();
    std::size_t changed = 0;
    for (std::uint32_t s = 0; s < slot_count; ++s) {
      auto const slot = static_cast<std::uint16_t>(s);
      auto const *a = map_.owner(slot), *b = m.owner(slot);
      if (a == b || (a != nullptr && b != nullptr && *a == *b)) continue;
      fence_.owner_changed(slot);
      ++changed;
    }
    map_ = std::move(m);
    primaries_ = map_.primaries();
    for (auto const& r : map_.replicas()) remember(r);
    for (auto const& p : primaries_) {
      remember(p);
      node_for(p);
    }
    for (auto it = nodes_.begin(); it != nodes_.end();) {
      auto node = (it++)->second;  // retire() erases this entry only
      if (!map_.owns_any(node->addr)) retire(node);
    }
    if (first)
      spdlog::info("redis cluster: slot map read, {} primaries{}", primaries_.size(),
                   map_.complete() ? "" : ", some slots unassigned");
    else if (changed > 0)
      spdlog::info("redis cluster: slot map read again, {} primaries, {} slots changed owner", primaries_.size(),
                   changed);
  }

  void remember(NodeAddress const& a) {
    if (std::find(known_.begin(), known_.end(), a) == known_.end()) known_.push_back(a);
  }

  // The seeds, then every node a map named: where to ask when no primary's
  // link is up.
  std::vector<Endpoint> candidates() const {
    std::vector<Endpoint> out = seeds_;
    for (auto const& a : known_) {
      bool const seed = std::any_of(seeds_.begin(), seeds_.end(),
                                    [&](Endpoint const& s) { return s.host == a.host && s.port == a.port; });
      if (!seed) out.push_back(endpoint_of(a));
    }
    return out;
  }

  // At most one reading per refresh_min, however many ask for one.
  void refresh_soon() {
    if (!running_) return;
    if (refreshing_) {
      refresh_again_ = true;
      return;
    }
    if (!refresh_armed_) arm_refresh(std::max(Clock::now(), next_refresh_));
  }

  void arm_refresh(Clock::time_point at) {
    refresh_armed_ = true;
    auto const gen = ++refresh_gen_;
    refresh_timer_.expires_at(at);
    refresh_timer_.async_wait([w = self_, gen](boost::system::error_code ec) {
      auto self = w.lock();
      if (!self || ec || gen != self->refresh_gen_) return;
      self->refresh_armed_ = false;
      self->refresh_now();
    });
  }

  // CLUSTER SLOTS on a primary whose link is up (a different one each
  // time), else on every seed and known node at once.
  void refresh_now() {
    if (!running_ || refreshing_) return;
    refreshing_ = true;
    next_refresh_ = Clock::now() + opt_.refresh_min;
    ++stats_.refreshes;
    auto const gen = ++read_gen_;
    if (auto node = any_primary()) {
      node->conn->exec_cb(cluster_slots, [w = self_, gen, host = node->addr.host](std::error_code ec, Reply r) {
        auto self = w.lock();
        if (!self || gen != self->read_gen_) return;
        std::string why = ec ? ec.message() : "no slot is assigned";
        auto map = ec ? std::nullopt : SlotMap::from_cluster_slots(r, host, &why);
        self->map_read(std::move(map), host + ": " + why);
      });
      return;
    }
    query_ = std::make_shared<MapQuery>(ex_, candidates(), opt_.node,
                                        [w = self_, gen](std::optional<SlotMap> map, std::string const& why) {
                                          auto self = w.lock();
                                          if (!self || gen != self->read_gen_) return;
                                          self->query_.reset();
                                          self->map_read(std::move(map), why);
                                        });
    query_->start();
  }

  void map_read(std::optional<SlotMap> map, std::string const& why) {
    refreshing_ = false;
    if (!running_) return;
    if (map && !map->empty()) {
      apply(std::move(*map));
      failed_reads_ = 0;
    } else {
      last_error_ = "cluster map: " + why;
      if (failed_reads_++ == 0) spdlog::warn("redis cluster: cannot read the slot map: {}", why);
    }
    update_health();
    if (!running_) return;  // on_up or on_down stopped us
    tell_watchers();
    if (!running_ || refreshing_ || refresh_armed_) return;
    if (!refresh_again_ && healthy_) return;
    refresh_again_ = false;
    auto const wait = healthy_ ? opt_.refresh_min : refresh_delay_;
    if (!healthy_) refresh_delay_ = std::min(refresh_delay_ * 2, opt_.refresh_max);
    arm_refresh(Clock::now() + wait);
  }

  void tell_watchers() {
    std::vector<std::function<void()>> calls;
    for (auto const& [id, f] : watchers_) calls.push_back(f);
    for (auto const& f : calls) f();
  }

  // stop() and the destructor: every command not on a link fails now, those
  // on a link as it closes.
  void shut() {
    running_ = false;
    healthy_ = false;
    refreshing_ = refresh_again_ = refresh_armed_ = false;
    ++refresh_gen_;
    ++read_gen_;
    refresh_timer_.cancel();
    retry_timer_.cancel();
    if (auto q = std::move(query_)) q->cancel();
    auto held = std::move(held_);
    auto delayed = std::move(delayed_);
    auto nodes = std::move(nodes_);
    held_.clear();
    delayed_.clear();
    nodes_.clear();
    for (auto& [slot, queue] : held)
      for (auto& cmd : queue) deliver(*cmd, disconnected(), {});
    for (auto& [at, cmd] : delayed) deliver(*cmd, disconnected(), {});
    for (auto& [addr, node] : nodes) {
      node->first_deadline.cancel();
      for (auto& cmd : node->waiting) deliver(*cmd, disconnected(), {});
      node->waiting.clear();
      node->conn->stop();
    }
    fence_ = SlotFence();
  }

  asio::any_io_executor ex_;
  std::vector<Endpoint> seeds_;
  Endpoint base_;
  ClusterOptions opt_;
  std::weak_ptr<ClusterImpl> self_;
  std::function<void()> on_up_, on_down_;
  std::string last_error_;
  bool running_ = false;
  bool healthy_ = false;

  SlotMap map_;
  std::vector<NodeAddress> primaries_;  // map_.primaries(), kept: a keyless command reads it
  std::vector<NodeAddress> known_;      // every node a map named
  std::map<NodeAddress, NodePtr> nodes_;
  std::size_t next_primary_ = 0;
  std::vector<Args> loads_;  // preload()

  SlotFence fence_;
  std::map<std::uint16_t, std::deque<CommandPtr>> held_;  // behind a closed fence
  std::multimap<Clock::time_point, CommandPtr> delayed_;  // TRYAGAIN and the like
  asio::steady_timer refresh_timer_, retry_timer_;
  std::chrono::milliseconds refresh_delay_;
  Clock::time_point next_refresh_{};
  bool refreshing_ = false, refresh_again_ = false, refresh_armed_ = false;
  std::uint64_t refresh_gen_ = 0, read_gen_ = 0;
  unsigned failed_reads_ = 0;
  std::shared_ptr<MapQuery> query_;

  std::map<std::uint64_t, std::function<void()>> watchers_;
  std::uint64_t watch_id_ = 0;
  ClusterStats stats_;
};

}  // namespace

std::optional<std::vector<Endpoint>> parse_cluster_seeds(std::vector<std::string> const& items, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<std::vector<Endpoint>> {
    if (why != nullptr) *why = std::move(reason);
    return std::nullopt;
  };
  if (items.empty()) return fail("no seed given");
  std::vector<Endpoint> out;
  for (auto const& item : items) {
    std::string reason;
    auto ep = Endpoint::parse(item.find("://") == std::string::npos ? "redis://" + item : item, &reason);
    if (!ep) return fail("'" + item + "': " + reason);
    if (!ep->unix_path.empty()) return fail("'" + item + "': cluster nodes are reached over TCP");
    if (ep->db != 0) return fail("'" + item + "': a cluster has only database 0");
    out.push_back(std::move(*ep));
  }
  auto with = std::find_if(out.begin(), out.end(), [](Endpoint const& e) { return !e.password.empty(); });
  if (with != out.end()) {
    auto const user = with->username, pass = with->password;
    for (auto& e : out) {
      e.username = user;
      e.password = pass;
    }
  }
  return out;
}

std::shared_ptr<Cluster> Cluster::create(boost::asio::any_io_executor ex, std::vector<Endpoint> seeds,
                                         ClusterOptions opt) {
  auto impl = std::make_shared<ClusterImpl>(ex, std::move(seeds), opt);
  impl->bind_self(impl);
  return impl;
}

}  // namespace exceed::store
