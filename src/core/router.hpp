// Routing decisions: which waiting chat is offered to which agent, in what
// order chats wait, when an offer or an absent agent's grace runs out.
//
// The router is sans-io: it reads a snapshot of one team (its queue and its
// agents, as the store holds them) and the current time, and returns the
// offers to make. The store commits each offer with a compare-and-set (a Lua
// script that re-checks the agent's capacity and the chat's state), so two
// processes planning from the same snapshot can never both win one chat or
// push an agent past capacity; the loser re-plans from a fresh snapshot.
#pragma once

#include "core/actor.hpp"
#include "core/domain.hpp"
#include "core/refusal.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::core {

enum class Strategy : std::uint8_t {
  least_busy,   // fewest open chats for its capacity; ties: longest since last chat
  round_robin,  // longest since last chat, whatever the load
};

struct RoutingRules {
  Strategy strategy = Strategy::least_busy;
  Millis offer_timeout = 30'000;      // an unanswered offer goes to the next agent
  Millis decline_cooldown = 120'000;  // an agent who declined is not offered that chat again for this long
  Millis grace = 60'000;              // an agent whose last connection dropped keeps their chats this long
};

// A chat waiting in a team's queue.
struct QueuedChat {
  std::string id;
  double score = 0;  // queue_score(); lower waits less
  struct Decline {
    std::string agent_id;
    Millis at = 0;
  };
  std::vector<Decline> declines;
};

// An agent as routing sees them.
struct AgentSlot {
  std::string id;
  AgentStatus status = AgentStatus::offline;
  int capacity = 0;
  int active = 0;       // chats assigned now
  int offered = 0;      // offers pending now
  int connections = 0;  // open WebSockets, across every server process
  Millis last_assigned_at = 0;
};

struct Offer {
  std::string conversation_id;
  std::string agent_id;
  Millis expires_at = 0;
};

// Where a chat stands in its queue. Chats handed back because their agent
// left (`returned`) go to the head; the rest wait by priority, then by how
// long they have waited. Lower scores go first. Exact in a double: the
// band term is a multiple of 2^44 and timestamps stay below 2^44 until 2527.
double queue_score(Priority priority, Millis waiting_since, bool returned = false) noexcept;

// True when the agent may get one more offer now.
bool can_take_more(AgentSlot const& a) noexcept;

// True when `agent_id` declined this chat less than the cooldown ago.
bool declined_recently(QueuedChat const& chat, std::string const& agent_id, Millis now,
                       RoutingRules const& rules) noexcept;

// Offers for the chats of one team, best-first, as many as free capacity
// allows. `queue` may be in any order; `agents` are the team's members.
// Each agent's load counts the offers planned before it in the same call.
std::vector<Offer> plan_offers(std::vector<QueuedChat> queue, std::vector<AgentSlot> agents,
                               RoutingRules const& rules, Millis now);

// Estimated seconds until a chat at `position` (1 = next) is offered, from
// the recent mean interval between assignments in its team (0 when unknown:
// then a default of `fallback_s` per position).
int estimate_wait_s(int position, double mean_assign_interval_s, int fallback_s = 30) noexcept;

// The recent pace of a team's assignments, for estimated waits: the mean
// interval between them, an exponential average over roughly the last ten.
class AssignmentPace {
 public:
  void assigned(Millis now) noexcept;
  double mean_interval_s() const noexcept { return mean_interval_s_; }  // 0 until two assignments

 private:
  Millis last_ = 0;
  double mean_interval_s_ = 0;
};

// How long a team's queue positions wait before they are read and sent
// again, given how many customers waited at the last round: 100 ms for a
// short queue (changes coalesced, a customer sees their place move at
// once), then 1 ms per waiting customer up to a second, so a long queue
// under a burst is read (one HGET per waiting chat) and fanned out to every
// waiting customer a few times a second, not ten.
constexpr Millis positions_interval_ms(std::size_t waiting) noexcept {
  constexpr Millis least = 100, most = 1000;
  auto const by_length = static_cast<Millis>(waiting < static_cast<std::size_t>(most) ? waiting : most);
  return by_length < least ? least : by_length;
}

// Whole seconds an offer still stands at `now`, rounded up (what the agent
// is shown; 0 or less: it lapsed).
constexpr long long offer_seconds_left(Millis expires_at, Millis now) noexcept {
  return (expires_at - now + 999) / 1000;
}

// Why a step is refused, in the words the asker gets.
struct Denial {
  Refusal refusal;
  std::string_view reason;
};

// May `by` hand a chat held by `agent` back to a queue (a transfer to a
// team)? Only an active chat, and only by its own agent or a supervisor.
std::optional<Denial> transfer_to_team_denied(ConversationStatus status, std::string_view agent,
                                              Actor const& by) noexcept;

// What the one who had a chat is told when it is given to another agent (a
// transfer, a supervisor's assignment): an open offer is withdrawn (they
// see it lapse), a chat they had is taken away with the reason; a chat
// taken from the queue moves everyone behind it.
struct Handover {
  enum class Notice : std::uint8_t { none, offer_withdrawn, unassigned };
  Notice notice = Notice::none;
  std::string_view reason;  // unassigned: "transferred" | "reassigned"
  bool queue_moved = false;
};
Handover handover(ConversationStatus previous, std::string_view previous_agent, std::string_view to_agent,
                  bool by_supervisor) noexcept;

}  // namespace exceed::core
