// What processes say to each other on the bus (one Redis pub/sub channel),
// and the two small protocols on it, sans-io:
// - the message format: "<process>\n<what>\n<payload>", where <what> is the
//   targets of an event ("u:<id>,team:<name>,sup") or a control word;
// - the join: a starting process counts the bus's other subscribers, says
//   `join`, and is joined once as many answered `here` (or at a deadline);
// - publishing: a process that knows it is the only live one publishes
//   nothing; any message from another process turns publishing back on.
// app/app.cpp does the I/O and keeps the timers.
#pragma once

#include "core/domain.hpp"

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::core {

struct BusMessage {
  enum class Kind : std::uint8_t {
    event,      // an encoded frame for `targets`
    positions,  // a queue's places: [[conversation, visitor, position, wait_s], ...]
    join,       // a process starts: every other answers `here`
    here,       // the answer to `join`; payload: the joining process's id
    revoke,     // a user's tokens were revoked; payload: the user's id
  };
  Kind kind = Kind::event;
  std::string from;                  // the sending process ("cli" for the command line)
  std::vector<std::string> targets;  // events only
  std::string payload;
};

std::string encode(BusMessage const& m);
// nullopt for a message of another shape (ignored).
std::optional<BusMessage> decode_bus(std::string_view text);

// A starting process's wait for the others.
class BusJoin {
 public:
  // `others`: the bus's subscribers besides this process. True: joined at
  // once (nobody else), else say `join` and wait.
  bool begin(std::size_t others) noexcept;
  // A `here` from process `from` for `joiner`; true when this completes the join.
  bool here(std::string const& from, std::string const& joiner, std::string const& self);
  // The deadline passed: joined, however many answered.
  void give_up() noexcept { joined_ = true; }
  bool joined() const noexcept { return joined_; }
  std::size_t expected() const noexcept { return expected_; }
  std::size_t heard() const noexcept { return heard_.size(); }

 private:
  std::size_t expected_ = 0;
  std::set<std::string> heard_;
  bool joined_ = false;
};

// Whether this process must publish its events for others.
class BusPublishing {
 public:
  // Another process was heard at `now`: publish.
  void heard_peer(Millis now) noexcept {
    peer_heard_at_ = now;
    publishing_ = true;
  }
  // The heartbeat's count of live processes (this one included) at `now`:
  // publishing stops only when no other is live and none was heard for
  // `quiet` ms. True when the decision changed.
  bool observe(std::int64_t live, Millis now, Millis quiet) noexcept;
  bool publishing() const noexcept { return publishing_; }

 private:
  bool publishing_ = true;  // until this process knows it is alone
  Millis peer_heard_at_ = 0;
};

}  // namespace exceed::core
