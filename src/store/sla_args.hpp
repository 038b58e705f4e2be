// How SLA deadlines computed in core (core::sla_deadlines, business hours
// counted) travel to the scripts that arm them: six ARGV values, warn_at
// then due_at for first_response, next_response and resolution, '' where
// the policy has no target. prelude.lua's sla_deadlines(i) reads them back.
#pragma once

#include "core/response_clock.hpp"

#include <string>
#include <vector>

namespace exceed::store {

inline void append_deadlines(std::vector<std::string>& args, core::SlaDeadlines const& d) {
  for (auto const* m : {&d.first_response, &d.next_response, &d.resolution}) {
    args.push_back(*m ? std::to_string((*m)->warn_at) : std::string());
    args.push_back(*m ? std::to_string((*m)->due_at) : std::string());
  }
}

}  // namespace exceed::store
