#include "core/response_clock.hpp"

#include <algorithm>

namespace exceed::core {

Millis business_duration(BusinessHours const& hours, TimeZone const& tz, Millis from, Millis to) {
  if (to <= from) return 0;
  if (hours.empty()) return to - from;
  // Minute steps: exact enough for service figures and cheap for days; a
  // wait longer than 60 days counts its first 60 days of open minutes.
  Millis total = 0;
  Millis t = from;
  Millis const limit = std::min<Millis>(to, from + 60LL * 86'400'000);
  while (t < limit) {
    Millis step_end = std::min<Millis>(limit, t - (t % 60'000) + 60'000);
    if (is_open(hours, tz, t)) total += step_end - t;
    t = step_end;
  }
  return total;
}

ResponseTimes measure(std::vector<ClockEvent> const& events, BusinessHours const& hours, TimeZone const& tz) {
  ResponseTimes r;
  std::optional<Millis> started, assigned, first_customer, waiting;
  bool replied = false;
  for (auto const& e : events) {
    switch (e.kind) {
      case ClockEvent::Kind::started:
        if (!started) started = e.at;
        break;
      case ClockEvent::Kind::assigned:
        if (!assigned) {
          assigned = e.at;
          if (started) r.queue_wait = e.at - *started;
        }
        break;
      case ClockEvent::Kind::customer_message:
        if (!first_customer) first_customer = e.at;
        if (!waiting) waiting = e.at;  // the clock runs from the first unanswered message
        break;
      case ClockEvent::Kind::agent_reply:
        if (!replied && first_customer) {
          replied = true;
          r.first_response = e.at - *first_customer;
          r.first_response_business = business_duration(hours, tz, *first_customer, e.at);
        } else if (replied && waiting) {
          r.next_responses.push_back(e.at - *waiting);
        }
        waiting.reset();
        break;
      case ClockEvent::Kind::resolved:
        if (started) {
          r.resolution = e.at - *started;
          r.resolution_business = business_duration(hours, tz, *started, e.at);
        }
        if (assigned) r.handle_time = e.at - *assigned;
        waiting.reset();
        break;
      case ClockEvent::Kind::reopened:
        ++r.reopens;
        break;
    }
  }
  r.waiting_since = waiting;
  r.first_reply_pending = first_customer.has_value() && !replied;
  return r;
}

std::string_view to_string(SlaMetric m) noexcept {
  switch (m) {
    case SlaMetric::first_response: return "first_response";
    case SlaMetric::next_response: return "next_response";
    case SlaMetric::resolution: return "resolution";
  }
  return "?";
}

std::vector<SlaState> sla_pending(SlaPolicy const& policy, std::vector<ClockEvent> const& events, Millis now,
                                  BusinessHours const& hours, TimeZone const& tz) {
  std::vector<SlaState> out;
  auto times = measure(events);
  bool resolved = false;
  std::optional<Millis> started, first_customer;
  for (auto const& e : events) {
    if (e.kind == ClockEvent::Kind::started && !started) started = e.at;
    if (e.kind == ClockEvent::Kind::customer_message && !first_customer) first_customer = e.at;
    if (e.kind == ClockEvent::Kind::resolved) resolved = true;
    if (e.kind == ClockEvent::Kind::reopened || e.kind == ClockEvent::Kind::customer_message) resolved = false;
  }
  auto add = [&](SlaMetric m, Millis from) {
    auto d = sla_deadline(policy, m, hours, tz, from);
    if (d) out.push_back({m, d->due_at, d->warn_at, now >= d->warn_at, now >= d->due_at});
  };
  if (resolved) return out;
  if (times.first_reply_pending && first_customer) add(SlaMetric::first_response, *first_customer);
  else if (times.waiting_since) add(SlaMetric::next_response, *times.waiting_since);
  if (started) add(SlaMetric::resolution, *started);
  return out;
}

SlaCountdown sla_countdown(Millis due_at, bool breached, Millis now) noexcept {
  SlaCountdown c;
  if (breached) c.late_s = std::max<Millis>(0, (now - due_at) / 1000);
  else c.due_in_s = std::max<Millis>(0, (due_at - now + 999) / 1000);
  return c;
}

Millis business_deadline(BusinessHours const& hours, TimeZone const& tz, Millis from, Millis target) {
  if (target <= 0) return from;
  if (hours.empty()) return from + target;
  // The same minute steps as business_duration, so that the two agree: an
  // open step counts whole, and the deadline falls inside the step where
  // the remaining time runs out.
  Millis left = target;
  Millis t = from;
  Millis const limit = from + 60LL * 86'400'000;
  while (t < limit) {
    Millis step_end = t - (t % 60'000) + 60'000;
    if (is_open(hours, tz, t)) {
      if (left <= step_end - t) return t + left;
      left -= step_end - t;
    }
    t = step_end;
  }
  return limit + left;
}

Millis sla_target(SlaPolicy const& policy, SlaMetric metric) noexcept {
  switch (metric) {
    case SlaMetric::first_response: return policy.first_response;
    case SlaMetric::next_response: return policy.next_response;
    case SlaMetric::resolution: return policy.resolution;
  }
  return 0;
}

std::optional<SlaDeadline> sla_deadline(SlaPolicy const& policy, SlaMetric metric, BusinessHours const& hours,
                                        TimeZone const& tz, Millis from) {
  Millis const target = sla_target(policy, metric);
  if (target <= 0) return std::nullopt;
  // Truncated as the store used to (math.floor of a positive product).
  auto const warn_after = static_cast<Millis>(static_cast<double>(target) * policy.warning_ratio);
  return SlaDeadline{business_deadline(hours, tz, from, warn_after), business_deadline(hours, tz, from, target)};
}

SlaDeadlines sla_deadlines(SlaPolicy const& policy, BusinessHours const& hours, TimeZone const& tz, Millis from) {
  return {sla_deadline(policy, SlaMetric::first_response, hours, tz, from),
          sla_deadline(policy, SlaMetric::next_response, hours, tz, from),
          sla_deadline(policy, SlaMetric::resolution, hours, tz, from)};
}

}  // namespace exceed::core
