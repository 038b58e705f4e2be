#include "store/scripts.hpp"

#include "store/lua_scripts.hpp"  // generated from src/store/lua

namespace exceed::store {
namespace {

// What a script with the prelude runs before its body.
constexpr std::string_view begin_call = "\nprefix_(ARGV[1])\n";

Script with_prelude(std::string_view name, std::string_view body) {
  return Script(std::string(lua::prelude) + std::string(begin_call) + std::string(body), std::string(name));
}
Script plain(std::string_view name, std::string_view body) { return Script(std::string(body), std::string(name)); }

std::string short_sha1(std::vector<Script*> const& scripts) {
  std::string all;
  for (auto const* s : scripts) all += s->sha1();
  return Script(std::move(all)).sha1().substr(0, 12);
}

}  // namespace

Scripts::Scripts()
    : start(with_prelude("start", lua::start)), send(with_prelude("send", lua::send)), history(with_prelude("history", lua::history)),
      access(with_prelude("access", lua::access)), snapshot(with_prelude("snapshot", lua::snapshot)), offer(with_prelude("offer", lua::offer)),
      accept(with_prelude("accept", lua::accept)), decline(with_prelude("decline", lua::decline)),
      expire_offers(with_prelude("expire_offers", lua::expire_offers)), resolve(with_prelude("resolve", lua::resolve)),
      requeue(with_prelude("requeue", lua::requeue)), assign(with_prelude("assign", lua::assign)), presence(with_prelude("presence", lua::presence)),
      reap_procs(with_prelude("reap_procs", lua::reap_procs)), grace_due(with_prelude("grace_due", lua::grace_due)),
      grace_done(with_prelude("grace_done", lua::grace_done)), agent_status(with_prelude("agent_status", lua::agent_status)),
      csat(with_prelude("csat", lua::csat)), positions(with_prelude("positions", lua::positions)), note(with_prelude("note", lua::note)),
      read(with_prelude("read", lua::read)), followup_create(with_prelude("followup_create", lua::followup_create)),
      followup_update(with_prelude("followup_update", lua::followup_update)), followup_finish(with_prelude("followup_finish", lua::followup_finish)),
      followup_fire(with_prelude("followup_fire", lua::followup_fire)), ticket_create(with_prelude("ticket_create", lua::ticket_create)),
      ticket_update(with_prelude("ticket_update", lua::ticket_update)), ticket_comment(with_prelude("ticket_comment", lua::ticket_comment)),
      ticket_close_due(with_prelude("ticket_close_due", lua::ticket_close_due)), sla_due(with_prelude("sla_due", lua::sla_due)),
      sla_rearm(with_prelude("sla_rearm", lua::sla_rearm)),
      metrics_live(with_prelude("metrics_live", lua::metrics_live)), report_facts(with_prelude("report_facts", lua::report_facts)),
      count(plain("count", lua::count)), visitor_save(with_prelude("visitor_save", lua::visitor_save)),
      outcome(with_prelude("outcome", lua::outcome)), assessment_save(with_prelude("assessment_save", lua::assessment_save)),
      review_mark(with_prelude("review_mark", lua::review_mark)), visit_write(plain("visit_write", lua::visit_write)),
      visits_expire(plain("visits_expire", lua::visits_expire)), visits_live(plain("visits_live", lua::visits_live)),
      team_online(plain("team_online", lua::team_online)), reply_save(plain("reply_save", lua::reply_save)),
      reply_delete(plain("reply_delete", lua::reply_delete)), reply_use(plain("reply_use", lua::reply_use)),
      replies_list(plain("replies_list", lua::replies_list)), webhook_save(with_prelude("webhook_save", lua::webhook_save)),
      webhook_delete(with_prelude("webhook_delete", lua::webhook_delete)), webhook_fanout(with_prelude("webhook_fanout", lua::webhook_fanout)),
      webhook_claim(with_prelude("webhook_claim", lua::webhook_claim)), webhook_done(with_prelude("webhook_done", lua::webhook_done)),
      attachment_save(plain("attachment_save", lua::attachment_save)), mail_enqueue(plain("mail_enqueue", lua::mail_enqueue)),
      mail_claim(with_prelude("mail_claim", lua::mail_claim)), mail_done(plain("mail_done", lua::mail_done)),
      mail_retry(plain("mail_retry", lua::mail_retry)), mail_list(with_prelude("mail_list", lua::mail_list)),
      clock(with_prelude("clock", lua::clock)), copy_take(with_prelude("copy_take", lua::copy_take)), copy_put(with_prelude("copy_put", lua::copy_put)),
      copy_done(with_prelude("copy_done", lua::copy_done)), append(with_prelude("append", lua::append)) {
  build_library();
}

// The library: the prelude once, then every script as a function whose
// body is the script's own text (its top-level locals become the
// function's). KEYS and ARGV are the library's locals, set by each call, so
// the prelude's functions read them as they do under EVAL. The names carry
// the hash of every script, so two versions of the server that share a
// Redis (a rolling upgrade) each call their own.
void Scripts::build_library() {
  auto scripts = each();
  auto const tag = short_sha1(scripts);
  library_ = "#!lua name=exceed_" + tag + "\nlocal KEYS, ARGV\n" + std::string(lua::prelude) + "\n";
  std::string const head = std::string(lua::prelude) + std::string(begin_call);
  for (auto* s : scripts) {
    bool const prelude = s->source().starts_with(head);
    std::string_view body = s->source();
    if (prelude) body.remove_prefix(head.size());
    s->set_function("exceed_" + s->name() + "_" + tag);
    // allow-cross-slot-keys: on a Redis Cluster a script may touch keys of
    // several slots of its primary (the talk side and the record), as
    // scripts run by EVAL may. no-writes: a script that only reads still
    // runs when Redis is full (maxmemory), where one that may write is
    // refused before it starts.
    library_ += "redis.register_function{function_name='" + s->function() + "', flags={'allow-cross-slot-keys'" +
                (reads_only(*s) ? ", 'no-writes'" : "") + "}, callback=function(keys, argv)\nKEYS, ARGV = keys, argv\n";
    if (prelude) library_ += "prefix_(argv[1])\n";
    library_ += body;
    library_ += "\nend}\n";
  }
}

std::vector<Script const*> Scripts::all() const {
  auto scripts = const_cast<Scripts*>(this)->each();
  return {scripts.begin(), scripts.end()};
}

std::vector<Script*> Scripts::each() {
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
