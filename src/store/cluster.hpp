// Redis Cluster client on the store layer's own links, written from the
// Redis Cluster Specification: Debian's hiredis 0.14 has no cluster support.
// The single-primary and Sentinel modes (Connection::create with an
// Endpoint) are untouched; this is the third mode, `redis.cluster`.
//
// Contract, beyond the one of redis.hpp:
// - One pipelined Connection per primary of the slot map, none to replicas
//   (nothing is read from them). The map comes from CLUSTER SLOTS, asked of
//   the seeds first and then of any primary whose link is up.
// - A command goes to the primary of its routing key's slot: the key the
//   caller names (exec_at), else the command's first key (route_of in
//   slots.hpp), else any primary. MOVED updates the map for that slot and
//   is followed; ASK sends ASKING and the command to the node named, once;
//   TRYAGAIN, CLUSTERDOWN and LOADING are retried after a short doubling
//   delay; all of that bounded by ClusterOptions::redirects, and what
//   exceeds the bounds reaches the caller as the node's error reply.
// - The map is read again (at most once per refresh_min) after a MOVED, a
//   CLUSTERDOWN or a lost link, and every refresh_min..refresh_max while a
//   slot has no primary whose link is up, so a failover is followed.
// - Commands of one slot reach its primary in the order they were issued,
//   also while the slot changes owner (SlotFence, redirect.hpp); a retried
//   TRYAGAIN/CLUSTERDOWN/LOADING command is the exception.
// - As Connection: a command whose primary's link is down fails at once
//   with disconnected; one sent on a link that drops fails with
//   disconnected and is not sent again (it may have run). Only a primary
//   just learnt from the map (its first connect) holds commands, at most
//   connect_timeout.
// - connected() is true while every slot has a primary whose link is up;
//   on_up / on_down fire when that changes.
#pragma once

#include "store/redirect.hpp"
#include "store/redis.hpp"
#include "store/slot_map.hpp"
#include "store/slots.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::store {

struct ClusterOptions {
  Options node;             // every primary's link: timeouts and reconnect backoff
  RedirectPolicy redirects;  // per command
  std::chrono::milliseconds refresh_min{100};   // between two readings of the map
  std::chrono::milliseconds refresh_max{500};  // the longest wait between readings while a slot has no reachable primary
};

// Seeds as `redis.cluster` lists them: "host:port" (port 6379 when left
// out, "[v6]:port") or a redis:// URL, whose credentials then apply to every
// node of the cluster (those of the first seed that has some). A cluster
// has only database 0 and announces TCP addresses: a db or a unix socket is
// refused. nullopt with a reason in *why when an item is malformed.
std::optional<std::vector<Endpoint>> parse_cluster_seeds(std::vector<std::string> const& items,
                                                        std::string* why = nullptr);

struct ClusterStats {
  std::uint64_t moved = 0;      // MOVED redirections followed
  std::uint64_t asked = 0;      // ASK redirections followed
  std::uint64_t retried = 0;    // TRYAGAIN / CLUSTERDOWN / LOADING retried
  std::uint64_t refreshes = 0;  // readings of the slot map
  std::uint64_t fenced = 0;     // commands that waited behind a slot changing owner
};

class Cluster : public Connection {
 public:
  static std::shared_ptr<Cluster> create(boost::asio::any_io_executor ex, std::vector<Endpoint> seeds,
                                         ClusterOptions opt = {});

  // Connection::exec and exec_cb route by route_of(args); these by the slot
  // of `key`, for commands whose key route_of cannot find (or a script that
  // builds its keys from one argument, which must then share its hash tag).
  virtual boost::asio::awaitable<std::pair<std::error_code, Reply>> exec_at(std::string key, Args args) = 0;
  virtual void exec_at_cb(std::string_view key, Args const& args,
                          std::function<void(std::error_code, Reply)> done) = 0;

  // What every primary must have loaded (FUNCTION LOAD of store::Scripts'
  // library, or SCRIPT LOAD of a script): written on every primary link now
  // and first thing on each link that comes up later (a new primary after
  // a failover may lack it), so pipelined FCALL or EVALSHA never meets a
  // missing script and is never re-sent out of order. A library the node
  // already has ("already exists") is not an error. Script::run still
  // falls back to EVAL on the slot's node.
  virtual void preload(Args load) = 0;

  // A Subscriber on Redis 7's sharded pub/sub: each channel is subscribed
  // (SSUBSCRIBE) on the primary of its slot, and moved when the slot moves
  // or its primary fails over; on_up fires once every channel is confirmed
  // on its primary. Publish with exec(SPUBLISH channel payload). The
  // cluster must be started for it to find the primaries.
  virtual std::shared_ptr<Subscriber> subscriber(Subscriber::Handler on_message) = 0;

  // The map as this client knows it (metrics, tests).
  virtual std::optional<NodeAddress> owner(std::uint16_t slot) const = 0;
  virtual std::vector<NodeAddress> primaries() const = 0;
  virtual ClusterStats stats() const noexcept = 0;
};

}  // namespace exceed::store
