// Internal to the store layer: what a sharded Subscriber needs of its
// Cluster (cluster.cpp implements it, cluster_subscriber.cpp uses it).
#pragma once

#include "store/link.hpp"
#include "store/slot_map.hpp"

#include <cstdint>
#include <functional>
#include <memory>

namespace exceed::store::detail {

class ClusterView {
 public:
  // The primary of `slot` in the current map; nullptr while none is known.
  virtual NodeAddress const* owner_of(std::uint16_t slot) const = 0;
  // How to reach and authenticate to `node`.
  virtual Endpoint endpoint_of(NodeAddress const& node) const = 0;
  // `on_map` runs (on the executor) after every reading of the map and every
  // correction of it; unwatch with the id returned.
  virtual std::uint64_t watch(std::function<void()> on_map) = 0;
  virtual void unwatch(std::uint64_t id) = 0;
  // A subscriber met MOVED: record it (watchers hear of it) and re-read the map.
  virtual void moved(std::uint16_t slot, NodeAddress const& node) = 0;
  // A subscriber lost a channel or a link: the map may be stale.
  virtual void map_stale() = 0;

 protected:
  ~ClusterView() = default;
};

std::shared_ptr<Subscriber> make_shard_subscriber(asio::any_io_executor ex, std::shared_ptr<ClusterView> cluster,
                                                  Subscriber::Handler on_message, Options opt);

}  // namespace exceed::store::detail
