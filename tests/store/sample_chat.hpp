// The chat the conversation store's tests start: Casey asks team "support"
// about a parcel, with the default SLA targets (60 s first response, 120 s
// next, an hour to resolve) and the notices of a chat kept as a ticket.
#pragma once

#include "store/conversations.hpp"

#include <string>

namespace exceed::test {

inline store::StartChat sample_chat(std::string id, std::string text, core::Millis now) {
  store::StartChat c;
  c.id = std::move(id);
  c.visitor = "v_casey";
  c.visitor_name = "Casey";
  c.team = "support";
  c.priority = "normal";
  c.context_json = "{}";
  c.now = now;
  c.score = static_cast<double>(now);
  c.text = std::move(text);
  c.ticket_id = "t_" + c.id;
  c.subject = "Where is my parcel?";
  c.offline_notice = "Nobody is online";
  c.after_hours_notice = "We are closed";
  c.sla.first_response = 60'000;
  c.sla.next_response = 120'000;
  c.sla.resolution = 3'600'000;
  return c;
}

}  // namespace exceed::test
