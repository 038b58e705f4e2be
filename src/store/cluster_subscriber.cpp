// Sharded pub/sub on a Redis Cluster (Redis 7: SSUBSCRIBE / SPUBLISH): each
// channel lives in the slot of its name, its messages travel only within
// that slot's shard, and a subscriber must subscribe on a node of the shard.
// Here: on the slot's primary, one link per primary that holds channels.
//
// hiredis 0.14 predates sharded pub/sub. It hands a push frame to the
// callback registered for the frame's channel name by SUBSCRIBE, asserts on
// a frame it cannot place, and ends a subscribed link on any error reply.
// So every channel is also SUBSCRIBEd (classic) under its own name before
// its SSUBSCRIBE, and "message" frames of that classic subscription are
// ignored. The classic one is never UNSUBSCRIBEd: hiredis leaves pub/sub
// mode when the UNSUBSCRIBE count reaches zero, which Redis counts without
// shard channels, and the next "smessage" would abort the process. An
// SSUBSCRIBE of a slot the node does not serve ends the link with MOVED,
// which is read as a redirection.
#include "store/cluster_view.hpp"
#include "store/session.hpp"
#include "store/redirect.hpp"
#include "store/slots.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <set>

namespace exceed::store::detail {
namespace {

class ShardSubscriber;

// The channels held on one primary: a Session (reconnect, backoff, AUTH)
// whose link is in pub/sub mode. It is up once every channel it holds is
// confirmed.
class ShardLink final : public Session {
 public:
  ShardLink(asio::any_io_executor ex, Endpoint ep, Options opt, std::weak_ptr<ShardSubscriber> owner)
      : Session(ex, std::move(ep), opt, "shard subscriber"), owner_(std::move(owner)) {}

  void start() { begin(); }
  void stop() { end(); }
  bool empty() const noexcept { return channels_.empty(); }
  bool confirmed(std::string const& channel) const { return confirmed_.contains(channel); }
  std::string const& last_error() const noexcept { return last_error_; }

  // Holds `channel` here; (re)sent at once when the link is past AUTH and
  // the channel is not confirmed, e.g. after its slot came back.
  void add(std::string const& channel) {
    channels_.insert(channel);
    if (link_ && authed_ && !confirmed_.contains(channel)) ssubscribe(*link_, Args{channel});
  }

  void remove(std::string const& channel) {
    if (channels_.erase(channel) == 0) return;
    confirmed_.erase(channel);
    if (link_ && authed_) link_->push_command(Args{"SUNSUBSCRIBE", channel});
  }

 private:
  // One SSUBSCRIBE per channel: several in one command must share a slot.
  static void ssubscribe(Link& link, Args const& channels) {
    link.subscribe(channels);
    for (auto const& channel : channels) link.push_command(Args{"SSUBSCRIBE", channel});
  }

  void after_auth(Link& link) override {
    authed_ = true;
    if (channels_.empty()) return ready(link);
    ssubscribe(link, Args(channels_.begin(), channels_.end()));
  }

  void link_connected(Link& link) override {
    authed_ = false;
    confirmed_.clear();
    Session::link_connected(link);
  }

  void went_down() override {
    authed_ = false;
    confirmed_.clear();
  }

  void link_push(Link& link, Reply r) override;
  void link_lost(Link& link, std::string const& why) override;

  std::weak_ptr<ShardSubscriber> owner_;
  std::set<std::string> channels_;
  std::set<std::string> confirmed_;
  bool authed_ = false;
};

class ShardSubscriber final : public Subscriber {
 public:
  ShardSubscriber(asio::any_io_executor ex, std::shared_ptr<ClusterView> cluster, Handler on_message, Options opt)
      : ex_(ex), cluster_(std::move(cluster)), on_message_(std::move(on_message)), opt_(opt) {}
  ShardSubscriber(ShardSubscriber const&) = delete;
  ShardSubscriber& operator=(ShardSubscriber const&) = delete;
  ~ShardSubscriber() override { shut(); }

  void bind_self(std::shared_ptr<ShardSubscriber> const& self) { self_ = self; }

  void start() override {
    if (running_) return;
    running_ = true;
    watch_ = cluster_->watch([w = self_] {
      if (auto self = w.lock()) self->place_all();
    });
    place_all();
  }

  void stop() override { shut(); }
  bool connected() const noexcept override { return up_; }
  void on_up(std::function<void()> f) override { on_up_ = std::move(f); }
  void on_down(std::function<void()> f) override { on_down_ = std::move(f); }

  std::string last_error() const override {
    for (auto const& [addr, link] : links_)
      if (auto const& e = link->last_error(); !e.empty()) return addr.describe() + ": " + e;
    return {};
  }

  void subscribe(std::string channel) override {
    auto [it, inserted] = channels_.insert(std::move(channel));
    if (!inserted || !running_) return;
    place(*it);
    check_up();
  }

  void unsubscribe(std::string const& channel) override {
    if (channels_.erase(channel) == 0) return;
    unplace(channel);
    check_up();
  }

  // ---- what the links report
  void message(std::string const& channel, std::string const& payload) {
    if (running_ && on_message_) on_message_(channel, payload);
  }
  void confirmed() { check_up(); }
  void channel_lost(std::string const& channel, NodeAddress const& from) {
    spdlog::info("redis shard subscriber: {} was dropped by {} (its slot moved); finding its primary", channel,
                 from.describe());
    cluster_->map_stale();
    check_up();
  }
  void moved(Redirect const& r) { cluster_->moved(r.slot, r.node); }  // the cluster's watchers re-place
  void link_lost() {
    cluster_->map_stale();
    check_up();
  }

 private:
  void place_all() {
    if (!running_) return;
    for (auto const& channel : channels_) place(channel);
    check_up();
  }

  // On the primary of the channel's slot; where it already is, only sent
  // again if not confirmed.
  void place(std::string const& channel) {
    auto const* owner = cluster_->owner_of(key_slot(channel));
    if (owner == nullptr) return;  // no map yet: the next reading places it
    if (auto it = placed_.find(channel); it != placed_.end() && it->second != *owner) unplace(channel);
    auto& link = links_[*owner];
    if (!link) {
      link = std::make_shared<ShardLink>(ex_, cluster_->endpoint_of(*owner), opt_, self_);
      link->bind_self(link);
      link->start();
    }
    link->add(channel);
    placed_[channel] = *owner;
  }

  // A primary left without channels has its link closed.
  void unplace(std::string const& channel) {
    auto it = placed_.find(channel);
    if (it == placed_.end()) return;
    auto link = links_.find(it->second);
    placed_.erase(it);
    if (link == links_.end()) return;
    link->second->remove(channel);
    if (!link->second->empty()) return;
    link->second->stop();
    links_.erase(link);
  }

  void check_up() {
    bool ok = running_;
    for (auto it = channels_.begin(); ok && it != channels_.end(); ++it) {
      auto p = placed_.find(*it);
      auto link = p == placed_.end() ? links_.end() : links_.find(p->second);
      ok = link != links_.end() && link->second->confirmed(*it);
    }
    if (ok == up_) return;
    up_ = ok;
    auto keep = self_.lock();  // the callbacks may drop the last reference
    if (ok) {
      if (on_up_) on_up_();
    } else if (on_down_) {
      on_down_();
    }
  }

  void shut() {
    if (!running_) return;
    running_ = false;
    up_ = false;
    cluster_->unwatch(watch_);
    auto links = std::move(links_);
    links_.clear();
    placed_.clear();
    for (auto& [addr, link] : links) link->stop();
  }

  asio::any_io_executor ex_;
  std::shared_ptr<ClusterView> cluster_;
  Handler on_message_;
  Options opt_;
  std::weak_ptr<ShardSubscriber> self_;
  std::function<void()> on_up_, on_down_;
  std::set<std::string> channels_;
  std::map<std::string, NodeAddress> placed_;  // channel -> the primary holding it
  std::map<NodeAddress, std::shared_ptr<ShardLink>> links_;
  std::uint64_t watch_ = 0;
  bool running_ = false;
  bool up_ = false;
};

// Frames are [kind, channel, payload-or-count]. A channel not held here is
// one we dropped (SUNSUBSCRIBE's answer) and is ignored, as are the frames
// of the classic subscriptions.
void ShardLink::link_push(Link& link, Reply r) {
  if (&link != link_.get() || !r.is_array() || r.elements.size() < 3) return;
  auto const& kind = r.elements[0].str;
  auto const& channel = r.elements[1].str;
  if (!channels_.contains(channel)) return;
  auto owner = owner_.lock();
  if (kind == "smessage") {
    if (owner) owner->message(channel, r.elements[2].str);
  } else if (kind == "ssubscribe") {
    confirmed_.insert(channel);
    if (!up() && confirmed_.size() == channels_.size()) ready(link);
    if (owner) owner->confirmed();
  } else if (kind == "sunsubscribe") {
    // Not asked for: Redis drops a shard channel's subscribers when its slot
    // leaves the node (resharding, or the node turned replica).
    confirmed_.erase(channel);
    if (owner) owner->channel_lost(channel, NodeAddress{ep_.host, ep_.port});
  }
}

void ShardLink::link_lost(Link& link, std::string const& why) {
  if (&link != link_.get()) return;
  auto const redirect = parse_redirect(why, ep_.host);  // an SSUBSCRIBE met MOVED
  confirmed_.clear();
  authed_ = false;
  Session::link_lost(link, why);
  if (auto owner = owner_.lock()) {
    if (redirect) owner->moved(*redirect);
    owner->link_lost();
  }
}

}  // namespace

std::shared_ptr<Subscriber> make_shard_subscriber(asio::any_io_executor ex, std::shared_ptr<ClusterView> cluster,
                                                  Subscriber::Handler on_message, Options opt) {
  auto sub = std::make_shared<ShardSubscriber>(ex, std::move(cluster), std::move(on_message), opt);
  sub->bind_self(sub);
  return sub;
}

}  // namespace exceed::store::detail
