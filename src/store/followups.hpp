// Follow-up tasks in Redis: the record, the durable timer that fires it once
// across every process, and the indexes a list reads (open ones by due time,
// an agent's, a conversation's and a ticket's). Each function is one atomic
// step or one read; the rules about who may do what and which times make
// sense are checked by the scripts (access) and by the app (core::check_due).
#pragma once

#include "core/actor.hpp"
#include "core/domain.hpp"
#include "store/db.hpp"
#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace exceed::store {

struct Followup {
  std::string id;
  std::string conversation_id;  // one of these two
  std::string ticket_id;
  std::string owner;            // the agent who does it
  std::string created_by;
  core::Millis due_at = 0;
  std::string kind;
  std::string note;
  std::string status;           // open | done | cancelled
  core::Millis created_at = 0;
  bool fired = false;
  std::optional<core::Millis> done_at;
  std::string done_by;
};

struct NewFollowupRecord {
  std::string id;
  std::string owner;
  std::string created_by;
  std::string conversation_id;
  std::string ticket_id;
  core::Millis due_at = 0;
  std::string kind;
  std::string note;
  core::Millis now = 0;
};

struct FollowupChange {
  std::string id;
  core::Actor by;
  std::optional<core::Millis> due_at;  // re-arms the timer
  std::optional<std::string> owner;
  std::optional<std::string> note;
  core::Millis now = 0;
};

// A follow-up whose timer fired: its owner was connected (deliver now) or not
// (it waits in the owner's pending set for their next hello).
struct Fired {
  std::string id;
  std::string owner;
  bool owner_connected = false;
};

class FollowupStore {
 public:
  explicit FollowupStore(Db& db) : db_(db) {}

  // Refused: the owner is not an agent (bad_request), the conversation or
  // ticket does not exist (not_found).
  boost::asio::awaitable<Result<Followup>> create(NewFollowupRecord const& f);
  // done or cancelled, once; only its owner, its creator or a supervisor.
  boost::asio::awaitable<Result<Followup>> finish(std::string const& id, core::Actor const& by, std::string const& status,
                                                  core::Millis now);
  boost::asio::awaitable<Result<Followup>> update(FollowupChange const& change);
  // nullopt when there is no such follow-up.
  boost::asio::awaitable<Result<std::optional<Followup>>> get(std::string const& id);
  // Claims the timers due at `now`, at most `max`, each exactly once.
  boost::asio::awaitable<Result<std::vector<Fired>>> fire_due(core::Millis now, int max);
  // The follow-ups that fell due while the agent was away; take_pending
  // removes one once it was delivered.
  boost::asio::awaitable<Result<std::vector<std::string>>> pending(std::string const& agent_id);
  boost::asio::awaitable<Result<Done>> take_pending(std::string const& agent_id, std::string const& id);
  // Every follow-up of a conversation or of a ticket, any status.
  boost::asio::awaitable<Result<std::vector<Followup>>> of_conversation(std::string const& id);
  boost::asio::awaitable<Result<std::vector<Followup>>> of_ticket(std::string const& id);
  // Open follow-ups by due time (of one owner, or everyone's with an empty
  // owner), due within [from, to], from `from` on after `after_id` when a
  // page continues, at most `limit`.
  struct OpenPage {
    std::string owner;
    std::string from = "-inf";  // a score, or "-inf"
    std::string after_id;
    std::optional<core::Millis> to;
    int limit = 50;
  };
  boost::asio::awaitable<Result<std::vector<Followup>>> open(OpenPage const& page);
  struct Counts {
    std::int64_t open = 0;
    std::int64_t overdue = 0;
  };
  boost::asio::awaitable<Result<Counts>> counts(std::string const& owner, core::Millis now);

 private:
  boost::asio::awaitable<Result<std::vector<Followup>>> records(std::vector<std::string> const& ids);

  Db& db_;
};

}  // namespace exceed::store
