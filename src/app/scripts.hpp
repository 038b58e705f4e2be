// The Lua scripts of src/app/lua, compiled into the binary.
#pragma once

#include "store/redis.hpp"

#include <vector>

namespace exceed::app {

struct Scripts {
  Scripts();
  // Every script, for loading them all into Redis at once.
  std::vector<store::Script const*> all() const;
  store::Script start, send, history, access, snapshot, offer, accept, decline, expire_offers, resolve,
      requeue, assign, presence, reap_procs, grace_due, grace_done, agent_status, csat, positions, note,
      read, followup_create, followup_update, followup_finish, followup_fire, ticket_create, ticket_update,
      ticket_comment, ticket_close_due, sla_due, metrics_live, report_facts, count,
      visitor_save, outcome;
};

}  // namespace exceed::app
