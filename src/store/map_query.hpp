// Internal to the store layer: asking cluster nodes for the slot map when
// the Cluster has no primary link up to ask (at start, and when every
// primary it knows is unreachable).
#pragma once

#include "store/link.hpp"
#include "store/slot_map.hpp"

#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace exceed::store::detail {

inline Args const cluster_slots{"CLUSTER", "SLOTS"};

// Asks every candidate node at once for CLUSTER SLOTS, each over a
// Connection of its own (so AUTH is done as for any link): the first
// non-empty map wins, so a dead seed costs nothing and a replica will do.
// Bounded by connect_timeout + command_timeout. `done` runs once, never
// after cancel().
class MapQuery final : public std::enable_shared_from_this<MapQuery> {
 public:
  using Done = std::function<void(std::optional<SlotMap>, std::string const& why)>;

  MapQuery(asio::any_io_executor ex, std::vector<Endpoint> candidates, Options opt, Done done);
  MapQuery(MapQuery const&) = delete;
  MapQuery& operator=(MapQuery const&) = delete;
  ~MapQuery();

  void start();   // call once, after make_shared
  void cancel();  // no callback after this

 private:
  void answer(std::string const& host, std::error_code ec, Reply const& r);
  void timed_out();
  void note(std::string const& why);
  void finish(std::optional<SlotMap> map);

  asio::any_io_executor ex_;
  std::vector<Endpoint> candidates_;
  Options opt_;
  Done done_;
  asio::steady_timer timer_;
  std::vector<std::shared_ptr<Connection>> conns_;
  std::size_t answered_ = 0;
  std::string errors_;
};

}  // namespace exceed::store::detail
