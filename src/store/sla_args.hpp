// How SLA deadlines computed in core (core::sla_deadlines, business hours
// counted) travel to the scripts that arm them: nine ARGV values, warn_at,
// due_at and the target they were computed for, for first_response,
// next_response and resolution in turn ('' where the policy has no
// target). prelude.lua's sla_deadlines(i) reads them back; sla_arm uses a
// deadline only when its target is the record's (a record started under
// another policy keeps the wall clock).
#pragma once

#include "core/response_clock.hpp"
#include "store/decode.hpp"

#include <string>
#include <vector>

namespace exceed::store {

inline void append_deadlines(std::vector<std::string>& args, core::SlaPolicy const& policy,
                             core::SlaDeadlines const& d) {
  auto add = [&](std::optional<core::SlaDeadline> const& m, core::SlaMetric metric) {
    args.push_back(m ? std::to_string(m->warn_at) : std::string());
    args.push_back(m ? std::to_string(m->due_at) : std::string());
    args.push_back(m ? std::to_string(core::sla_target(policy, metric)) : std::string());
  };
  add(d.first_response, core::SlaMetric::first_response);
  add(d.next_response, core::SlaMetric::next_response);
  add(d.resolution, core::SlaMetric::resolution);
}

// A policy as start.lua and ticket_create.lua read it: its name, three
// targets and warning ratio, then its deadlines from `now` (core's, in the
// team's hours, or the wall clock's when the caller computed none).
inline void append_policy(std::vector<std::string>& args, core::SlaPolicy const& policy,
                          std::optional<core::SlaDeadlines> const& deadlines, core::Millis now) {
  args.push_back(policy.name);
  args.push_back(std::to_string(policy.first_response));
  args.push_back(std::to_string(policy.next_response));
  args.push_back(std::to_string(policy.resolution));
  args.push_back(text_of_number(policy.warning_ratio));
  append_deadlines(args, policy,
                   deadlines ? *deadlines : core::sla_deadlines(policy, core::BusinessHours{}, core::TimeZone::utc(), now));
}

}  // namespace exceed::store
