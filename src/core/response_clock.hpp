// The response clock of one conversation (or ticket): what the customer
// waited for, measured from what happened in it. Pure: events carry their
// own times; business-hours figures count only the team's open minutes.
#pragma once

#include "core/domain.hpp"
#include "core/hours.hpp"

#include <optional>
#include <vector>

namespace exceed::core {

struct ClockEvent {
  enum class Kind : std::uint8_t {
    started,           // the customer asked for help (chat start, ticket created)
    assigned,          // an agent took it
    customer_message,  // a customer's message
    agent_reply,       // a public reply from an agent (notes do not count)
    resolved,          // solved; a later customer message or reopen starts a new round
    reopened,
  };
  Kind kind;
  Millis at;
};

// Durations in milliseconds; empty until the thing happened.
struct ResponseTimes {
  std::optional<Millis> queue_wait;      // started -> first assigned
  std::optional<Millis> first_response;  // first customer message -> first agent reply
  std::vector<Millis> next_responses;    // each later customer message that waited -> the next agent reply
  std::optional<Millis> handle_time;     // first assigned -> last resolved
  std::optional<Millis> resolution;      // started -> last resolved
  int reopens = 0;
  // The same figures counting only business hours (equal to the above when
  // the team has none).
  std::optional<Millis> first_response_business;
  std::optional<Millis> resolution_business;
  // Still waiting for an answer: since when (for SLA timers).
  std::optional<Millis> waiting_since;
  bool first_reply_pending = false;
};

// Replays the events (in time order) into the figures.
ResponseTimes measure(std::vector<ClockEvent> const& events, BusinessHours const& hours = {},
                      TimeZone const& tz = TimeZone::utc());

// Milliseconds between two instants that fall inside business hours
// (minute resolution). Without hours, simply to - from.
Millis business_duration(BusinessHours const& hours, TimeZone const& tz, Millis from, Millis to);

// SLA targets of one policy, in milliseconds; 0 = no target.
struct SlaPolicy {
  std::string name = "default";
  Millis first_response = 0;
  Millis next_response = 0;
  Millis resolution = 0;
  double warning_ratio = 0.8;  // warn when this share of a target has passed unanswered
};

enum class SlaMetric : std::uint8_t { first_response, next_response, resolution };
std::string_view to_string(SlaMetric m) noexcept;

// Where one pending target stands at `now`.
struct SlaState {
  SlaMetric metric;
  Millis due_at;      // breach time
  Millis warn_at;     // warning time
  bool warned;        // now >= warn_at
  bool breached;      // now >= due_at
};

// The targets still running for a conversation at `now` (none once answered
// or resolved): the first response while the first reply is pending, the
// next response while a customer waits, the resolution until resolved. Each
// falls due as sla_deadline says: in the team's business hours when given.
std::vector<SlaState> sla_pending(SlaPolicy const& policy, std::vector<ClockEvent> const& events, Millis now,
                                  BusinessHours const& hours = {}, TimeZone const& tz = TimeZone::utc());

// What an SLA warning or breach tells people at `now` about a target due at
// `due_at`: whole seconds left (rounded up; 0 once breached) and, for a
// breach, whole seconds late.
struct SlaCountdown {
  long long due_in_s = 0;
  std::optional<long long> late_s;
};
SlaCountdown sla_countdown(Millis due_at, bool breached, Millis now) noexcept;

// The earliest instant d with business_duration(hours, tz, from, d) ==
// target: a wait that starts while the team is closed counts from the next
// opening, and nights, weekends and days off do not count. Without hours,
// from + target. A target <= 0 gives `from`. Like business_duration it looks
// 60 days ahead; a target not reached in that window ends there plus what
// is left of it (hours that are almost never open are a configuration slip).
Millis business_deadline(BusinessHours const& hours, TimeZone const& tz, Millis from, Millis target);

// When one SLA target started at `from` warns and is breached, counting
// business hours: due after `target`, warned after `target * warning_ratio`
// (rounded down to the millisecond). These are the instants the store arms.
struct SlaDeadline {
  Millis warn_at;
  Millis due_at;
};
Millis sla_target(SlaPolicy const& policy, SlaMetric metric) noexcept;
// nullopt when the policy has no target for the metric.
std::optional<SlaDeadline> sla_deadline(SlaPolicy const& policy, SlaMetric metric, BusinessHours const& hours,
                                        TimeZone const& tz, Millis from);
// The three targets of a policy started at `from` (each nullopt without a
// target): what a store call that may arm any of them is given.
struct SlaDeadlines {
  std::optional<SlaDeadline> first_response, next_response, resolution;
};
SlaDeadlines sla_deadlines(SlaPolicy const& policy, BusinessHours const& hours, TimeZone const& tz, Millis from);

}  // namespace exceed::core
