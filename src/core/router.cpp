#include "core/router.hpp"

#include <algorithm>
#include <cmath>

namespace exceed::core {
namespace {

constexpr double band_width = 17592186044416.0;  // 2^44 ms: about 557 years

int band(Priority p, bool returned) noexcept {
  if (returned) return 0;
  switch (p) {
    case Priority::urgent: return 1;
    case Priority::high: return 2;
    case Priority::normal: return 3;
    case Priority::low: return 4;
  }
  return 3;
}

// Load as a share of capacity, compared without division.
bool less_busy(AgentSlot const& a, AgentSlot const& b) noexcept {
  long lhs = static_cast<long>(a.active + a.offered) * std::max(b.capacity, 1);
  long rhs = static_cast<long>(b.active + b.offered) * std::max(a.capacity, 1);
  if (lhs != rhs) return lhs < rhs;
  if (a.last_assigned_at != b.last_assigned_at) return a.last_assigned_at < b.last_assigned_at;
  return a.id < b.id;
}

bool longer_idle(AgentSlot const& a, AgentSlot const& b) noexcept {
  if (a.last_assigned_at != b.last_assigned_at) return a.last_assigned_at < b.last_assigned_at;
  return a.id < b.id;
}

}  // namespace

double queue_score(Priority priority, Millis waiting_since, bool returned) noexcept {
  return band(priority, returned) * band_width + static_cast<double>(std::max<Millis>(waiting_since, 0));
}

bool can_take_more(AgentSlot const& a) noexcept {
  return a.status == AgentStatus::online && a.connections > 0 &&
         a.active + a.offered < a.capacity;
}

bool declined_recently(QueuedChat const& chat, std::string const& agent_id, Millis now,
                       RoutingRules const& rules) noexcept {
  return std::any_of(chat.declines.begin(), chat.declines.end(), [&](auto const& d) {
    return d.agent_id == agent_id && now - d.at < rules.decline_cooldown;
  });
}

std::vector<Offer> plan_offers(std::vector<QueuedChat> queue, std::vector<AgentSlot> agents,
                               RoutingRules const& rules, Millis now) {
  std::stable_sort(queue.begin(), queue.end(), [](auto const& a, auto const& b) {
    return a.score < b.score || (a.score == b.score && a.id < b.id);
  });
  std::vector<Offer> offers;
  for (auto const& chat : queue) {
    AgentSlot* best = nullptr;
    for (auto& agent : agents) {
      if (!can_take_more(agent) || declined_recently(chat, agent.id, now, rules)) continue;
      if (!best) {
        best = &agent;
        continue;
      }
      bool better = rules.strategy == Strategy::least_busy ? less_busy(agent, *best)
                                                           : longer_idle(agent, *best);
      if (better) best = &agent;
    }
    if (!best) continue;  // a later chat may still fit an agent this one declined
    offers.push_back({chat.id, best->id, now + rules.offer_timeout});
    ++best->offered;
    best->last_assigned_at = now;  // the next chat of this plan prefers someone else
  }
  return offers;
}

int estimate_wait_s(int position, double mean_assign_interval_s, int fallback_s) noexcept {
  if (position <= 0) return 0;
  double per = mean_assign_interval_s > 0 ? mean_assign_interval_s : fallback_s;
  return static_cast<int>(std::ceil(per * position));
}

void AssignmentPace::assigned(Millis now) noexcept {
  if (last_ > 0) {
    double interval = static_cast<double>(now - last_) / 1000.0;
    mean_interval_s_ = mean_interval_s_ == 0 ? interval : 0.9 * mean_interval_s_ + 0.1 * interval;
  }
  last_ = now;
}

std::optional<Denial> transfer_to_team_denied(ConversationStatus status, std::string_view agent,
                                              Actor const& by) noexcept {
  if (status != ConversationStatus::active)
    return Denial{Refusal::conflict, "only an active conversation can be transferred"};
  if (by.role != Role::supervisor && agent != by.user_id)
    return Denial{Refusal::forbidden, "the conversation is not assigned to you"};
  return std::nullopt;
}

Handover handover(ConversationStatus previous, std::string_view previous_agent, std::string_view to_agent,
                  bool by_supervisor) noexcept {
  Handover h;
  h.queue_moved = previous == ConversationStatus::queued;
  if (previous_agent.empty() || previous_agent == to_agent) return h;
  if (previous == ConversationStatus::offered) {
    h.notice = Handover::Notice::offer_withdrawn;
  } else {
    h.notice = Handover::Notice::unassigned;
    h.reason = by_supervisor ? "reassigned" : "transferred";
  }
  return h;
}

}  // namespace exceed::core
