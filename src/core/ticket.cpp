#include "core/ticket.hpp"

#include <array>
#include <utility>

namespace exceed::core {
namespace {
constexpr std::array<std::pair<std::string_view, TicketStatus>, 6> names{{{"new", TicketStatus::fresh},
                                                                            {"open", TicketStatus::open},
                                                                            {"pending", TicketStatus::pending},
                                                                            {"on_hold", TicketStatus::on_hold},
                                                                            {"solved", TicketStatus::solved},
                                                                            {"closed", TicketStatus::closed}}};
}  // namespace

std::string_view to_string(TicketStatus s) noexcept {
  for (auto const& [n, v] : names)
    if (v == s) return n;
  return "?";
}

std::optional<TicketStatus> parse_ticket_status(std::string_view s) noexcept {
  for (auto const& [n, v] : names)
    if (n == s) return v;
  return std::nullopt;
}

bool can_change(TicketStatus from, TicketStatus to) noexcept {
  if (from == to) return true;
  if (from == TicketStatus::closed || to == TicketStatus::fresh) return false;
  if (to == TicketStatus::closed) return from == TicketStatus::solved;
  return true;
}

TicketStatus after_customer_reply(TicketStatus s) noexcept {
  if (s == TicketStatus::pending || s == TicketStatus::solved) return TicketStatus::open;
  return s;
}

bool can_see_ticket(Actor const& who, std::string_view requester, std::string_view assignee,
                    std::string_view team) noexcept {
  switch (who.role) {
    case Role::supervisor: return true;
    case Role::customer: return requester == who.user_id;
    case Role::agent: break;
  }
  if (assignee == who.user_id) return true;
  std::string_view csv = who.teams_csv;
  for (std::size_t start = 0; start <= csv.size();) {
    auto comma = csv.find(',', start);
    auto end = comma == std::string_view::npos ? csv.size() : comma;
    if (csv.substr(start, end - start) == team) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace exceed::core
