// Routing in Redis: the teams' queues and agents as a plan reads them, the
// compare-and-set steps that commit a plan (offer, accept, decline,
// assign, requeue), the timers that must fire once whatever the number of
// processes (offers that lapse, agents' grace, dead processes, SLA
// targets), and the processes' heartbeats. Which chat goes to which agent
// is core's (core/router.hpp: plan_offers); each step here only re-checks,
// atomically, that what the plan saw still holds.
#pragma once

#include "core/actor.hpp"
#include "core/domain.hpp"
#include "core/router.hpp"
#include "store/db.hpp"
#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace exceed::store {

// One team as a plan reads it: its first waiting chats (with who declined
// them) and its members who are online and connected.
struct TeamSnapshot {
  std::vector<core::QueuedChat> queue;
  std::vector<core::AgentSlot> agents;
};

// A planned offer as the offer script answered it: made (with what the
// agent is shown), or lost to a change since the snapshot.
struct OfferMade {
  bool made = false;
  std::string lost_on;  // not made: "chat" or "agent"
  std::string team, visitor, visitor_name, priority, context_json, preview;
};

// An offer still standing, as an agent who reconnects is shown it again.
struct OpenOffer {
  std::string conversation_id;
  core::Millis expires_at = 0;
  std::string team, visitor, visitor_name, priority, context_json, preview;
};

struct Accepted {
  std::string team, visitor, visitor_name;
  std::optional<core::Millis> queue_wait;  // first assigned now: how long the customer waited
};

struct ExpiredOffer {
  std::string conversation_id, agent, team;
};

// Gives a chat to an agent at once: a transfer (needs the chat active with
// `expected_agent` and the target online) or a supervisor's force-assign.
struct Assignment {
  std::string conversation_id;
  std::string to_agent;
  bool force = false;
  std::string expected_agent;  // transfer only
  core::Millis now = 0;
};

struct Assigned {
  core::ConversationStatus previous = core::ConversationStatus::queued;
  std::string previous_agent;  // who had it or had the offer ("" for a queued chat)
  std::string visitor, team, agent_name;
  std::optional<core::Millis> queue_wait;
};

struct Requeue {
  std::string conversation_id;
  std::string from_agent;  // compare-and-set: only while it is still theirs
  std::string to_team;
  double score = 0;        // its place (core::queue_score)
  core::Millis now = 0;
};

// An agent whose grace ran out, with the chats to hand back.
struct GraceDue {
  struct Chat {
    std::string conversation_id;
    core::Priority priority = core::Priority::normal;
    core::Millis created_at = 0;
    std::string team;
  };
  std::string agent;
  std::vector<Chat> chats;
};

struct AgentStatusSet {
  core::AgentStatus status = core::AgentStatus::offline;
  int capacity = 0;
};

// A waiting chat in queue order (for the positions customers are told).
struct Waiting {
  std::string conversation_id, visitor;
};

// An SLA timer that fell due, on a conversation or a ticket.
struct SlaDue {
  std::string id;
  bool ticket = false;
  std::string metric;  // first_response | next_response | resolution
  bool breach = false; // false: the warning
  core::Millis due_at = 0;
  std::string agent;   // the agent on the chat, the ticket's assignee ("" for none)
  std::string team;
};

class RoutingStore {
 public:
  explicit RoutingStore(Db& db) : db_(db) {}

  boost::asio::awaitable<Result<TeamSnapshot>> snapshot(std::string const& team, int max_chats);
  // Commits every offer of one plan in one round trip (each a
  // compare-and-set); the answers come in the order of `offers`.
  boost::asio::awaitable<std::vector<Result<OfferMade>>> offer(std::vector<core::Offer> const& offers,
                                                                core::Millis now);
  // Refused: no such conversation (not_found), the offer is gone (conflict).
  boost::asio::awaitable<Result<Accepted>> accept(std::string const& conversation_id, std::string const& agent,
                                                  std::string const& agent_name, core::Millis now);
  // The chat goes back to its queue; the answer is its team.
  boost::asio::awaitable<Result<std::string>> decline(std::string const& conversation_id, std::string const& agent,
                                                      core::Millis now);
  // Claims the offers that lapsed by `now` (each once), at most `max`.
  boost::asio::awaitable<Result<std::vector<ExpiredOffer>>> expire_offers(core::Millis now, int max);
  // Refused: resolved, changed hands, the target full or (transfer) away.
  boost::asio::awaitable<Result<Assigned>> assign(Assignment const& a);
  // Refused: not theirs any more (conflict), an unknown team (bad_request).
  // The answer is the chat's customer.
  boost::asio::awaitable<Result<std::string>> requeue(Requeue const& r);
  // The offers still open for an agent (with their expiry; the caller
  // drops those that lapsed).
  boost::asio::awaitable<Result<std::vector<OpenOffer>>> open_offers(std::string const& agent);

  // An agent's connections counted across processes (delta +1 or -1, this
  // process's share kept apart): the last one gone starts the grace period
  // (`grace_ms`), a new one ends it. The answer is the count.
  boost::asio::awaitable<Result<std::int64_t>> presence(std::string const& agent, std::string const& process,
                                                        int delta, core::Millis now, core::Millis grace_ms);
  // Agents whose grace ran out by `now`, at most `max`; grace_done ends one
  // (they are offline) once their chats are handed back, unless they came back.
  boost::asio::awaitable<Result<std::vector<GraceDue>>> grace_due(core::Millis now, int max);
  boost::asio::awaitable<Result<bool>> grace_done(std::string const& agent);
  // Refused: not an agent (not_found). Capacity kept when not given.
  boost::asio::awaitable<Result<AgentStatusSet>> set_status(std::string const& agent, core::AgentStatus status,
                                                            std::optional<int> capacity);
  boost::asio::awaitable<Result<std::vector<Waiting>>> waiting(std::string const& team, int max);
  // Fires the SLA timers due by `now` (each once), at most `max` per place:
  // the routing slot's, and on a Redis Cluster (Keys::split) a quarter of
  // the talk buckets in turn (each bucket about every fourth call), whose
  // breaches this tells the conversations' records (lua/clock.lua).
  boost::asio::awaitable<Result<std::vector<SlaDue>>> sla_due(core::Millis now, int max);
  boost::asio::awaitable<Result<std::vector<std::string>>> teams();

  // Processes: a heartbeat, the reaping of those that stopped beating
  // before `dead_before` (their agents' connections counted out, grace
  // started), how many beat since then, and leaving for good.
  boost::asio::awaitable<Result<Done>> beat(std::string const& process, core::Millis now);
  // On a cluster: the talk sides a process left behind (Db::sync_copies).
  boost::asio::awaitable<void> repair_copies() { return db_.sync_copies(); }
  boost::asio::awaitable<Result<std::int64_t>> reap(core::Millis now, core::Millis dead_before, core::Millis grace_ms);
  boost::asio::awaitable<Result<std::int64_t>> live_processes(core::Millis since);
  // How many connections subscribe to the bus (PUBSUB NUMSUB): the live
  // processes, whatever `procs` says (a killed process's subscription ends
  // with its socket), this one included once it subscribed.
  boost::asio::awaitable<Result<std::int64_t>> bus_subscribers();
  // Puts one message on the bus for the other processes (written, not
  // awaited: the bus carries no reply, and its order is the link's).
  void publish_bus(std::string payload);
  boost::asio::awaitable<Result<Done>> leave(std::string const& process);
  // As a link comes up: this process beats, and the default team exists
  // (written, not awaited: the first commands on the new link).
  void arrive(std::string const& process, std::string const& default_team, core::Millis now);

 private:
  Db& db_;
  int next_bucket_ = 0;  // the talk bucket sla_due sweeps next
};

// A PUBSUB NUMSUB reply for one channel ([channel, count]) read: the count;
// a protocol failure for any other shape or channel.
Result<std::int64_t> subscribers_of(Reply const& reply, std::string_view channel);

}  // namespace exceed::store
