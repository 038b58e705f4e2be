#include "store/scripts.hpp"

#include "store/lua_scripts.hpp"  // generated from src/store/lua

namespace exceed::store {
namespace {

Script with_prelude(std::string_view body) { return Script(std::string(lua::prelude) + "\n" + std::string(body)); }

}  // namespace

Scripts::Scripts()
    : start(with_prelude(lua::start)), send(with_prelude(lua::send)), history(with_prelude(lua::history)),
      access(with_prelude(lua::access)), snapshot(with_prelude(lua::snapshot)), offer(with_prelude(lua::offer)),
      accept(with_prelude(lua::accept)), decline(with_prelude(lua::decline)),
      expire_offers(with_prelude(lua::expire_offers)), resolve(with_prelude(lua::resolve)),
      requeue(with_prelude(lua::requeue)), assign(with_prelude(lua::assign)), presence(with_prelude(lua::presence)),
      reap_procs(with_prelude(lua::reap_procs)), grace_due(with_prelude(lua::grace_due)),
      grace_done(with_prelude(lua::grace_done)), agent_status(with_prelude(lua::agent_status)),
      csat(with_prelude(lua::csat)), positions(with_prelude(lua::positions)), note(with_prelude(lua::note)),
      read(with_prelude(lua::read)), followup_create(with_prelude(lua::followup_create)),
      followup_update(with_prelude(lua::followup_update)), followup_finish(with_prelude(lua::followup_finish)),
      followup_fire(with_prelude(lua::followup_fire)), ticket_create(with_prelude(lua::ticket_create)),
      ticket_update(with_prelude(lua::ticket_update)), ticket_comment(with_prelude(lua::ticket_comment)),
      ticket_close_due(with_prelude(lua::ticket_close_due)), sla_due(with_prelude(lua::sla_due)),
      sla_rearm(with_prelude(lua::sla_rearm)),
      metrics_live(with_prelude(lua::metrics_live)), report_facts(with_prelude(lua::report_facts)),
      count(std::string(lua::count)), visitor_save(with_prelude(lua::visitor_save)),
      outcome(with_prelude(lua::outcome)), assessment_save(with_prelude(lua::assessment_save)),
      review_mark(with_prelude(lua::review_mark)), visit_write(std::string(lua::visit_write)),
      visits_expire(std::string(lua::visits_expire)), visits_live(std::string(lua::visits_live)),
      team_online(std::string(lua::team_online)), reply_save(std::string(lua::reply_save)),
      reply_delete(std::string(lua::reply_delete)), reply_use(std::string(lua::reply_use)),
      replies_list(std::string(lua::replies_list)), webhook_save(with_prelude(lua::webhook_save)),
      webhook_delete(with_prelude(lua::webhook_delete)), webhook_fanout(with_prelude(lua::webhook_fanout)),
      webhook_claim(with_prelude(lua::webhook_claim)), webhook_done(with_prelude(lua::webhook_done)),
      attachment_save(std::string(lua::attachment_save)), mail_enqueue(std::string(lua::mail_enqueue)),
      mail_claim(with_prelude(lua::mail_claim)), mail_done(std::string(lua::mail_done)),
      mail_retry(std::string(lua::mail_retry)), mail_list(with_prelude(lua::mail_list)),
      clock(with_prelude(lua::clock)), copy_take(with_prelude(lua::copy_take)), copy_put(with_prelude(lua::copy_put)),
      copy_done(with_prelude(lua::copy_done)), append(with_prelude(lua::append)) {}

std::vector<Script const*> Scripts::all() const {
  return {&start,  &send,     &history,       &access,     &snapshot,       &offer,           &accept,
          &decline, &expire_offers, &resolve, &requeue,    &assign,         &presence,        &reap_procs,
          &grace_due, &grace_done, &agent_status, &csat, &positions,      &note,            &read,
          &followup_create, &followup_update, &followup_finish, &followup_fire, &ticket_create, &ticket_update,
          &ticket_comment, &ticket_close_due, &sla_due, &sla_rearm, &metrics_live, &report_facts, &count, &visitor_save,
          &outcome, &assessment_save, &review_mark, &visit_write, &visits_expire, &visits_live, &team_online,
          &reply_save, &reply_delete, &reply_use, &replies_list, &webhook_save, &webhook_delete, &webhook_fanout,
          &webhook_claim, &webhook_done, &attachment_save, &mail_enqueue, &mail_claim, &mail_done,
          &mail_retry, &mail_list, &clock, &copy_take, &copy_put, &copy_done, &append};
}

}  // namespace exceed::store
