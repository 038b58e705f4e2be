// Ticket states and the rules between them.
#pragma once

#include "core/actor.hpp"
#include "core/domain.hpp"

#include <optional>
#include <string_view>

namespace exceed::core {

// new -> open -> pending / on_hold -> solved -> closed. Closed is final.
enum class TicketStatus : std::uint8_t { fresh, open, pending, on_hold, solved, closed };

std::string_view to_string(TicketStatus s) noexcept;  // "new", "open", ...
std::optional<TicketStatus> parse_ticket_status(std::string_view s) noexcept;

// May an agent move a ticket from `from` to `to`? Nothing leaves closed;
// nothing goes back to new; closing needs a solved ticket first.
bool can_change(TicketStatus from, TicketStatus to) noexcept;

// What a customer's reply does: pending and solved tickets reopen; a
// closed one stays closed (the reply starts a follow-up ticket instead).
TicketStatus after_customer_reply(TicketStatus s) noexcept;

// May `who` see a ticket? A supervisor every one, a customer those they
// asked for, an agent those of their teams and those assigned to them.
bool can_see_ticket(Actor const& who, std::string_view requester, std::string_view assignee,
                    std::string_view team) noexcept;

// True when a solved ticket is due to close by itself.
constexpr bool close_due(Millis solved_at, Millis close_after, Millis now) noexcept {
  return now - solved_at >= close_after;
}

}  // namespace exceed::core
