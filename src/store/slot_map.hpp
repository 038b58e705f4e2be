// The slot map of a Redis Cluster: which primary serves each of the 16384
// hash slots. Read whole from CLUSTER SLOTS and corrected slot by slot by
// the MOVED redirections the nodes answer (Redis Cluster Specification,
// "Redirection and resharding").
//
// Sans-io: built from a Reply, no socket; unit tests in
// tests/store/cluster_unit_test.cpp.
#pragma once

#include "store/redis.hpp"
#include "store/slots.hpp"

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::store {

// Where a cluster node listens, as the cluster announces it.
struct NodeAddress {
  std::string host;
  std::uint16_t port = 0;

  std::string describe() const;  // "host:port", "[v6]:port"
  friend auto operator<=>(NodeAddress const&, NodeAddress const&) = default;
};

class SlotMap {
 public:
  // Reads a CLUSTER SLOTS reply (Redis 3 to 7):
  //   [[first, last, [host, port, id, {meta}], [replica...]...], ...]
  // A NULL or empty host stands for the host that answered (`answered_by`):
  // Redis sends one when it does not know its own address or is configured
  // with cluster-preferred-endpoint-type unknown-endpoint. A '?' host (a
  // node that cannot be reached) leaves its range without an owner.
  // nullopt, with a reason in *why, when the reply does not have this shape.
  static std::optional<SlotMap> from_cluster_slots(Reply const& reply, std::string_view answered_by,
                                                   std::string* why = nullptr);

  // The primary serving `slot` (< slot_count), or nullptr when none does.
  NodeAddress const* owner(std::uint16_t slot) const noexcept;
  // Records what a MOVED said: `slot` is now served by `node`.
  void assign(std::uint16_t slot, NodeAddress const& node);

  bool complete() const noexcept { return assigned_ == slot_count; }  // every slot has an owner
  bool empty() const noexcept { return assigned_ == 0; }
  // The primaries owning at least one slot, each once, by their first slot.
  std::vector<NodeAddress> primaries() const;
  bool owns_any(NodeAddress const& node) const noexcept;
  // The replicas CLUSTER SLOTS listed (Redis 7 lists only those that have
  // synchronised): places to ask for the map when every primary is gone.
  std::vector<NodeAddress> const& replicas() const noexcept { return replicas_; }

 private:
  static constexpr std::uint16_t none = 0xFFFF;
  std::uint16_t index_of(NodeAddress const& node);  // adds an unknown node

  std::vector<NodeAddress> nodes_;
  std::vector<std::uint32_t> slots_of_;  // how many slots each of nodes_ owns
  std::vector<std::uint16_t> owner_ = std::vector<std::uint16_t>(slot_count, none);
  std::vector<NodeAddress> replicas_;
  std::size_t assigned_ = 0;
};

}  // namespace exceed::store
