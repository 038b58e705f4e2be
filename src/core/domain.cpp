#include "core/domain.hpp"
#include "core/refusal.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace exceed::core {
namespace {

template <class E, std::size_t N>
std::optional<E> lookup(std::array<std::pair<std::string_view, E>, N> const& table,
                        std::string_view s) noexcept {
  for (auto const& [name, value] : table)
    if (name == s) return value;
  return std::nullopt;
}

constexpr std::array<std::pair<std::string_view, Role>, 3> roles{{
    {"customer", Role::customer}, {"agent", Role::agent}, {"supervisor", Role::supervisor}}};
constexpr std::array<std::pair<std::string_view, AgentStatus>, 3> agent_statuses{{
    {"online", AgentStatus::online}, {"away", AgentStatus::away}, {"offline", AgentStatus::offline}}};
constexpr std::array<std::pair<std::string_view, Priority>, 4> priorities{{
    {"low", Priority::low}, {"normal", Priority::normal}, {"high", Priority::high},
    {"urgent", Priority::urgent}}};
constexpr std::array<std::pair<std::string_view, ConversationStatus>, 5> conversation_statuses{{
    {"queued", ConversationStatus::queued}, {"offered", ConversationStatus::offered},
    {"active", ConversationStatus::active}, {"resolved", ConversationStatus::resolved},
    {"ticket", ConversationStatus::ticket}}};
constexpr std::array<std::pair<std::string_view, Refusal>, 7> refusals{{
    {"bad_request", Refusal::bad_request}, {"unauthorized", Refusal::unauthorized},
    {"forbidden", Refusal::forbidden}, {"not_found", Refusal::not_found}, {"conflict", Refusal::conflict},
    {"rate_limited", Refusal::rate_limited}, {"too_large", Refusal::too_large}}};

template <class E, std::size_t N>
std::string_view name_of(std::array<std::pair<std::string_view, E>, N> const& table, E e) noexcept {
  for (auto const& [name, value] : table)
    if (value == e) return name;
  return "?";
}

}  // namespace

std::string_view to_string(Role r) noexcept { return name_of(roles, r); }
std::string_view to_string(AgentStatus s) noexcept { return name_of(agent_statuses, s); }
std::string_view to_string(Priority p) noexcept { return name_of(priorities, p); }
std::string_view to_string(ConversationStatus s) noexcept { return name_of(conversation_statuses, s); }

std::optional<Role> parse_role(std::string_view s) noexcept { return lookup(roles, s); }
std::optional<AgentStatus> parse_agent_status(std::string_view s) noexcept {
  return lookup(agent_statuses, s);
}
std::optional<Priority> parse_priority(std::string_view s) noexcept { return lookup(priorities, s); }
std::optional<ConversationStatus> parse_conversation_status(std::string_view s) noexcept {
  return lookup(conversation_statuses, s);
}
std::string_view to_string(Refusal r) noexcept { return name_of(refusals, r); }
std::optional<Refusal> parse_refusal(std::string_view s) noexcept { return lookup(refusals, s); }


bool TokenBucket::take(Millis now) noexcept {
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(now - last_) * rate_ / 1000.0);
    last_ = now;
  }
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

bool FloodGuard::reject(Millis now) noexcept {
  if (count_ == 0 || now - window_start_ > window_) {
    window_start_ = now;
    count_ = 0;
  }
  return ++count_ >= max_;
}

}  // namespace exceed::core
