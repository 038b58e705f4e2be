// How SLA deadlines computed in core (core::sla_deadlines, business hours
// counted) travel to the scripts that arm them: nine ARGV values, warn_at,
// due_at and the target they were computed for, for first_response,
// next_response and resolution in turn ('' where the policy has no
// target). prelude.lua's sla_deadlines(i) reads them back; sla_arm uses a
// deadline only when its target is the record's (a record started under
// another policy keeps the wall clock).
#pragma once

#include "core/response_clock.hpp"

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

}  // namespace exceed::store
