// What a cluster client does with a node's answer, and how it keeps the
// commands of one slot in order while that slot changes hands. Both follow
// the Redis Cluster Specification ("Redirection and resharding", "MOVED
// Redirection", "ASK redirection").
//
// Sans-io: replies and counters in, decisions out; unit tests in
// tests/store/cluster_unit_test.cpp. Cluster (cluster.cpp) does the I/O.
#pragma once

#include "store/redis.hpp"
#include "store/slot_map.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

namespace exceed::store {

// "MOVED <slot> <host>:<port>" or "ASK <slot> <host>:<port>".
struct Redirect {
  enum class Kind : std::uint8_t { moved, ask };
  Kind kind = Kind::moved;
  std::uint16_t slot = 0;
  NodeAddress node;
};

// Parses an error reply's text; nullopt when it is no redirection. An empty
// host (":6380", sent by a node that does not know its address) stands for
// `from_host`, the host that answered. An IPv6 host comes without brackets.
std::optional<Redirect> parse_redirect(std::string_view error, std::string_view from_host);

struct RedirectPolicy {
  unsigned max_redirects = 5;  // MOVED and ASK followed, per command
  unsigned max_retries = 5;    // TRYAGAIN, CLUSTERDOWN, LOADING retried, per command
  std::chrono::milliseconds retry_delay{20};  // before the first retry, doubling after
  // False: a script (EVAL, EVALSHA, FCALL and their _RO forms) answered ASK
  // gets the ASK reply instead of being sent to the importing node. For
  // scripts that reach keys they do not declare: on the importing node they
  // would find only the keys moved so far (and on the old one a key already
  // moved stops them midway), so they must not run while their slot moves.
  bool scripts_follow_ask = true;
};

// The next thing to do with one command, given what its last attempt got.
struct Step {
  enum class Action : std::uint8_t {
    deliver,  // hand the result to the caller
    moved,    // the slot lives on `node` now: record it, send the command there
    ask,      // send ASKING then the command to `node`, once; the map stays
    retry,    // send the command again after `delay`, routed afresh
  };
  Action action = Action::deliver;
  std::uint16_t slot = 0;
  NodeAddress node;
  std::chrono::milliseconds delay{0};
  bool refresh = false;  // the slot map is stale: read it again (MOVED, CLUSTERDOWN, a lost link)
};

// One command's redirections and retries so far. Every error it retries
// is one Redis answers before executing anything (MOVED, ASK, TRYAGAIN,
// CLUSTERDOWN, LOADING), so a retry never runs a command twice; a command
// whose link dropped is delivered as disconnected, never sent again, since
// it may have run.
class Redirects {
 public:
  // `script`: the command is a script (see RedirectPolicy::scripts_follow_ask).
  Step next(RedirectPolicy const& policy, std::error_code ec, Reply const& reply, std::string_view from_host,
            bool script = false);
  unsigned redirects() const noexcept { return redirects_; }
  unsigned retries() const noexcept { return retries_; }

 private:
  unsigned redirects_ = 0;
  unsigned retries_ = 0;
};

// Keeps the commands of one slot in the order they were issued while the
// slot changes owner. Commands sent to the old owner come back with MOVED
// and are sent on to the new one; a command issued after the change would
// reach the new owner first. So when a slot's owner changes while commands
// are out for it, the fence closes: new commands for that slot wait (the
// caller queues them) until every command sent before the change has been
// answered, and so re-sent ahead of them.
//
// Tickets: sent() returns the slot's epoch; owner_changed() starts a new
// epoch and counts every command still out as stale.
class SlotFence {
 public:
  SlotFence();
  bool closed(std::uint16_t slot) const noexcept { return stale_[slot] > 0; }
  std::uint32_t sent(std::uint16_t slot) noexcept;
  // True when this answer was the last stale one: the fence just opened.
  bool answered(std::uint16_t slot, std::uint32_t ticket) noexcept;
  void owner_changed(std::uint16_t slot) noexcept;
  std::uint32_t out(std::uint16_t slot) const noexcept { return out_[slot]; }

 private:
  std::vector<std::uint32_t> epoch_, out_, stale_;
};

}  // namespace exceed::store
