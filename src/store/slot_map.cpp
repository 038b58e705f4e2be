#include "store/slot_map.hpp"

#include <algorithm>

namespace exceed::store {
namespace {

std::optional<SlotMap> reject(std::string* why, std::string reason) {
  if (why != nullptr) *why = std::move(reason);
  return std::nullopt;
}

bool is_int(Reply const& r) { return r.kind == Reply::Kind::integer; }

// [host, port, id, ...] -> the node's address; nullopt for '?' (unknown)
// or a malformed entry. `malformed` tells the two apart.
std::optional<NodeAddress> node_of(Reply const& r, std::string_view answered_by, bool& malformed) {
  malformed = !r.is_array() || r.elements.size() < 2 || !is_int(r.elements[1]) || r.elements[1].integer < 0 ||
              r.elements[1].integer > 65535 ||
              !(r.elements[0].is_nil() || r.elements[0].kind == Reply::Kind::string);
  if (malformed) return std::nullopt;
  std::string const& host = r.elements[0].str;
  if (host == "?" || r.elements[1].integer == 0) return std::nullopt;
  return NodeAddress{host.empty() ? std::string(answered_by) : host, static_cast<std::uint16_t>(r.elements[1].integer)};
}

}  // namespace

std::string NodeAddress::describe() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<SlotMap> SlotMap::from_cluster_slots(Reply const& reply, std::string_view answered_by,
                                                   std::string* why) {
  if (!reply.is_array()) return reject(why, reply.is_error() ? reply.str : "CLUSTER SLOTS: not an array");
  SlotMap map;
  for (auto const& range : reply.elements) {
    if (!range.is_array() || range.elements.size() < 3 || !is_int(range.elements[0]) || !is_int(range.elements[1]))
      return reject(why, "CLUSTER SLOTS: a range is not [first, last, node...]");
    long long const first = range.elements[0].integer, last = range.elements[1].integer;
    if (first < 0 || last < first || last >= slot_count)
      return reject(why, "CLUSTER SLOTS: range " + std::to_string(first) + "-" + std::to_string(last));
    bool malformed = false;
    auto primary = node_of(range.elements[2], answered_by, malformed);
    if (malformed) return reject(why, "CLUSTER SLOTS: a node is not [host, port, ...]");
    for (std::size_t i = 3; i < range.elements.size(); ++i) {
      auto replica = node_of(range.elements[i], answered_by, malformed);
      if (malformed) return reject(why, "CLUSTER SLOTS: a node is not [host, port, ...]");
      if (replica && std::find(map.replicas_.begin(), map.replicas_.end(), *replica) == map.replicas_.end())
        map.replicas_.push_back(std::move(*replica));
    }
    if (!primary) continue;
    for (long long s = first; s <= last; ++s) map.assign(static_cast<std::uint16_t>(s), *primary);
  }
  return map;
}

NodeAddress const* SlotMap::owner(std::uint16_t slot) const noexcept {
  auto i = owner_[slot];
  return i == none ? nullptr : &nodes_[i];
}

std::uint16_t SlotMap::index_of(NodeAddress const& node) {
  auto it = std::find(nodes_.begin(), nodes_.end(), node);
  if (it != nodes_.end()) return static_cast<std::uint16_t>(it - nodes_.begin());
  nodes_.push_back(node);
  slots_of_.push_back(0);
  return static_cast<std::uint16_t>(nodes_.size() - 1);
}

void SlotMap::assign(std::uint16_t slot, NodeAddress const& node) {
  auto const i = index_of(node);
  auto& cur = owner_[slot];
  if (cur == i) return;
  if (cur == none)
    ++assigned_;
  else
    --slots_of_[cur];
  cur = i;
  ++slots_of_[i];
}

std::vector<NodeAddress> SlotMap::primaries() const {
  std::vector<NodeAddress> out;
  std::vector<bool> seen(nodes_.size(), false);
  for (auto i : owner_) {
    if (i == none || seen[i]) continue;
    seen[i] = true;
    out.push_back(nodes_[i]);
  }
  return out;
}

bool SlotMap::owns_any(NodeAddress const& node) const noexcept {
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i] == node) return slots_of_[i] > 0;
  return false;
}

}  // namespace exceed::store
