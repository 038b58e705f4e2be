// The Lua scripts of src/store/lua, compiled into the binary. Each runs a
// step that must be atomic; the typed functions of the store modules
// (conversations.hpp, routing.hpp, ...) are their only callers outside tests.
// Every script but the small ones that take KEYS gets lua/prelude.lua
// and ARGV[1] = the key prefix. They run as Redis Functions, one library
// loaded as each link comes up (store::Db::load_scripts), or by EVALSHA
// where Redis has no functions.
#pragma once

#include "store/redis.hpp"

#include <vector>

namespace exceed::store {

struct Scripts {
  Scripts();
  // Every script, for loading them all into Redis at once (SCRIPT LOAD,
  // where Redis has no functions).
  std::vector<Script const*> all() const;
  // Every script as one Redis Functions library (FUNCTION LOAD): the
  // prelude is evaluated once when it loads, not on every call.
  std::string const& library() const noexcept { return library_; }
  Script start, send, history, access, snapshot, offer, accept, decline, expire_offers, resolve, requeue, assign,
      presence, reap_procs, grace_due, grace_done, agent_status, csat, positions, note, read, followup_create,
      followup_update, followup_finish, followup_fire, ticket_create, ticket_update, ticket_comment,
      ticket_close_due, sla_due, sla_rearm, metrics_live, report_facts, count, visitor_save, outcome, assessment_save,
      review_mark;
  // Visitors browsing and saved replies (KEYS given, no prelude).
  Script visit_write, visits_expire, visits_live, team_online, reply_save, reply_delete, reply_use, replies_list;
  // Webhooks, attachments and the e-mail queue.
  Script webhook_save, webhook_delete, webhook_fanout, webhook_claim, webhook_done, attachment_save, mail_enqueue,
      mail_claim, mail_done, mail_retry, mail_list;
  // A conversation's two sides on a Redis Cluster (lua/prelude.lua): the
  // clock's half of a message, the copies of the record into the talk side,
  // and the messages the server appends there.
  Script clock, copy_take, copy_put, copy_done, append;
  // Whether `s` only reads (it writes no key, nor does any prelude function
  // it calls): such a script runs while Redis is full, the others are
  // refused there before they start. A script that wrote would fail.
  bool reads_only(Script const& s) const noexcept {
    for (auto const* r : {&access, &history, &positions, &replies_list, &report_facts, &snapshot, &team_online,
                          &visits_live})
      if (r == &s) return true;
    return false;
  }
  // Whether `s` may change a conversation record's COPIED fields (it calls
  // touch()): on a cluster the copies are brought up to date after it.
  bool changes_conversations(Script const& s) const noexcept {
    for (auto const* c : {&start, &offer, &accept, &decline, &expire_offers, &resolve, &requeue, &assign,
                          &ticket_create})
      if (c == &s) return true;
    return false;
  }

 private:
  std::vector<Script*> each();
  void build_library();
  std::string library_;
};

}  // namespace exceed::store
