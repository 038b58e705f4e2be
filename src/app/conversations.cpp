#include "app/conversations.hpp"

#include "app/auth.hpp"
#include "app/wire.hpp"
#include "core/hours.hpp"
#include "core/router.hpp"

#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;
using protocol::encode_event;

namespace {

std::string wire_role(core::Role r) { return r == core::Role::customer ? "customer" : "agent"; }

Targets both_sides(std::string const& visitor, std::string const& agent) {
  Targets t{"u:" + visitor};
  if (!agent.empty()) t.push_back("u:" + agent);
  return t;
}

// What the customer is told when a chat is kept as a ticket: what happens
// next and, after hours, when the team opens again; never the ticket's id.
struct Notices {
  std::string offline, after_hours;
};

Notices notices_for(Config::Team const* team, core::Millis now) {
  std::string reopens;
  if (team) {
    if (auto next = core::next_opening(team->business, team->zone, now); next && !core::is_open(team->business, team->zone, now)) {
      auto lt = core::local_time(*next, team->zone);
      static constexpr char const* days[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
      char clock[16];
      std::snprintf(clock, sizeof clock, "%02d:%02d", lt.minute_of_day / 60, lt.minute_of_day % 60);
      reopens = std::string(" We open again on ") + days[lt.weekday] + " at " + clock + " (" + team->time_zone + ").";
    }
  }
  return {"Nobody from our team is online right now. We kept your message and will answer you right here: you will "
          "find the reply when you come back.",
          "We are closed right now." + reopens + " We kept your message and will answer you right here when we are back."};
}

}  // namespace

json::object Conversations::message_json(store::Message const& m) { return app::message_json(m); }

asio::awaitable<Answer> Conversations::start(Sender const& s, protocol::ConversationStart const& given, Reply& reply) {
  auto const& config = d_.config;
  // A visitor's page, cart and stage, and the invitation they answer.
  protocol::ConversationStart st = given;
  if (d_.hooks.enrich) st = co_await d_.hooks.enrich(s.actor.user_id, std::move(st));
  auto team = st.team.value_or(config.routing.default_team);
  auto now = d_.clock.now();
  auto team_it = config.teams.find(team);
  Config::Team const* hours = team_it == config.teams.end() ? nullptr : &team_it->second;
  auto notices = notices_for(hours, now);
  auto priority = std::string(core::to_string(st.priority));
  store::StartChat chat;
  // Random, like every id: an id that carried its time and a counter would
  // tell anyone with two of them the shop's chat volume.
  chat.id = random_id("c_");
  chat.visitor = s.actor.user_id;
  chat.visitor_name = s.name;
  chat.team = team;
  chat.priority = priority;
  chat.context_json = st.context_json;
  chat.now = now;
  chat.score = core::queue_score(st.priority, now);
  chat.text = st.text.value_or("");
  chat.stage = st.stage.value_or("");
  // Outside the team's hours the chat becomes a ticket; so it does when
  // nobody of the team is online (the start script sees that).
  chat.team_open = !hours || core::is_open(hours->business, hours->zone, now);
  chat.ticket_id = random_id("t_");
  chat.subject = utf8_prefix(st.text.value_or("Chat from " + s.name), 200);
  chat.offline_notice = std::move(notices.offline);
  chat.after_hours_notice = std::move(notices.after_hours);
  chat.ticket_when_offline = config.routing.ticket_when_offline;
  chat.sla = config.sla_for(team, priority);
  chat.deadlines = config.sla_deadlines(chat.sla, team, now);
  auto started = co_await d_.store.start(chat);
  if (!started) co_return started.failure();
  auto const r = std::move(*started);
  json::object result;
  result["conversation_id"] = r.conversation_id;
  result["status"] = core::to_string(r.status);
  result["queue_position"] = r.queue_position;
  result["team"] = r.team;
  if (!r.ticket_id.empty()) result["ticket_id"] = r.ticket_id;
  if (!r.reason.empty()) result["reason"] = r.reason;
  reply.ack(std::move(result));
  if (r.created) {
    json::object started;
    started["conversation_id"] = r.conversation_id;
    started["status"] = core::to_string(r.status);
    started["team"] = r.team;
    started["visitor"] = person(s.actor.user_id, s.name);
    if (st.text) started["text"] = *st.text;
    if (st.stage) started["stage"] = *st.stage;
    d_.hooks.happened(encode_event("conversation.started", std::move(started)));
  }
  if (r.status == core::ConversationStatus::ticket && r.created) {
    co_await announce_ticket(r.conversation_id, s.actor.user_id, r.ticket_id, r.reason);
    co_return store::Done{};
  }
  if (r.created) {
    // New, or a conversation kept as a ticket that is live again.
    spdlog::debug("conversation {} queued in {}", r.conversation_id, r.team);
    d_.hooks.dispatch(r.team);
    if (!r.previous.empty()) co_await d_.hooks.customer_returned(r.conversation_id, r.previous);
    if (d_.hooks.visit_started) co_await d_.hooks.visit_started(s.actor.user_id, r.conversation_id, st.invitation_id);
  }
  d_.hooks.positions(r.team);
  co_return store::Done{};
}

// A chat kept as a ticket as it starts: the customer (every tab) gets the
// stored notice and the news; the team hears of the new ticket.
asio::awaitable<void> Conversations::announce_ticket(std::string conversation, std::string visitor, std::string ticket,
                                                     std::string reason) {
  auto last = co_await d_.store.last_message(conversation);
  if (last && *last) d_.publisher.publish({"u:" + visitor}, encode_event("message", message_json(**last)));
  json::object ev;
  ev["conversation_id"] = conversation;
  ev["ticket_id"] = ticket;
  ev["reason"] = reason;
  d_.publisher.publish({"u:" + visitor}, encode_event("conversation.ticket", std::move(ev)));
  co_await d_.hooks.ticket_created(ticket);
}

asio::awaitable<Answer> Conversations::send(Sender const& s, protocol::MessageSend const& m, Reply& reply) {
  store::Append a{m.conversation_id, s.actor, s.name, m.client_msg_id, m.text, d_.clock.now(), ""};
  if (m.attachment_id) {
    auto file = co_await d_.hooks.attachment(s.actor, *m.attachment_id, m.conversation_id);
    if (!file) co_return file.failure();
    a.attachment = std::move(*file);
  }
  auto stored = co_await d_.store.append(a);
  if (!stored) co_return stored.failure();
  auto const r = std::move(*stored);
  // The ack and the event are the frames of every message: written straight
  // into their text (protocol/json_out.hpp), no DOM.
  protocol::JsonOut result;
  result.text("conversation_id", m.conversation_id).integer("seq", r.seq).integer("ts", r.ts)
      .boolean("duplicate", r.duplicate);
  reply.ack(result);
  if (r.duplicate) {
    // A retried message was stored by an attempt that may have died before
    // its event went out (a lost ack, a restart, Redis gone after the
    // write): the event is sent again, as stored; clients de-duplicate by seq.
    co_await repeat_event(m.conversation_id, r.seq, both_sides(r.visitor, r.agent));
    co_return store::Done{};
  }
  remember_members(m.conversation_id, r.visitor, r.agent);
  d_.hooks.message_received();
  if (r.first_response) d_.hooks.first_response(*r.first_response);
  if (!r.breached.empty()) d_.hooks.sla_breach(r.breached);
  protocol::JsonOut ev;
  ev.text("conversation_id", m.conversation_id).integer("seq", r.seq).integer("ts", r.ts);
  ev.open("from").text("id", s.actor.user_id).text("name", s.name).text("role", wire_role(s.actor.role)).close();
  ev.text("text", m.text).text("client_msg_id", m.client_msg_id);
  if (!a.attachment.empty()) {
    // The file's JSON as the attachment feature wrote it; checked, as it was
    // when it went through a DOM, so a bad record cannot break the frame.
    std::error_code ec;
    if (auto file = json::parse(a.attachment, ec); !ec && file.is_object()) ev.raw("attachment", a.attachment);
  }
  d_.publisher.publish(both_sides(r.visitor, r.agent), encode_event("message", std::move(ev)));
  // The wait this message started was armed on the wall clock; in a team
  // that keeps business hours it falls due by those hours instead (core's
  // one response clock), moved after the ack so the hot path waits for none of it.
  if (r.wait) {
    if (auto at = d_.config.business_wait(r.wait->team, r.wait->metric, r.wait->target, r.wait->warning_ratio, r.ts)) {
      auto moved = co_await d_.store.rearm_wait(m.conversation_id, *r.wait, r.ts, *at);
      if (!moved) spdlog::warn("conversation {}: the wait stays on the wall clock: {}", m.conversation_id,
                               moved.failure().message);
    }
  }
  // In a conversation kept as a ticket, the customer's message is their reply on it.
  if (s.actor.role == core::Role::customer && r.status == core::ConversationStatus::ticket && !r.ticket.empty())
    co_await d_.hooks.ticket_reply(r.ticket, m.conversation_id, s.actor.user_id, s.name, m.text);
  co_return store::Done{};
}

asio::awaitable<void> Conversations::repeat_event(std::string conversation, std::int64_t seq, Targets targets) {
  auto stored = co_await d_.store.message(conversation, seq);
  if (!stored || !*stored) co_return;
  d_.publisher.publish(std::move(targets), encode_event("message", message_json(**stored)));
}

void Conversations::remember_members(std::string const& conversation, std::string visitor, std::string agent) {
  auto now = d_.clock.now();
  if (members_.size() >= members_sweep_at_) {
    std::erase_if(members_, [now](auto const& kv) { return kv.second.until <= now; });
    members_sweep_at_ = std::max<std::size_t>(4096, members_.size() * 2);
  }
  members_[conversation] = Members{std::move(visitor), std::move(agent), now + members_ttl_ms};
}

asio::awaitable<Answer> Conversations::typing(Sender const& s, protocol::Typing const& t) {
  bool const customer = s.actor.role == core::Role::customer;
  std::string other;
  auto known = members_.find(t.conversation_id);
  if (known != members_.end() && known->second.until > d_.clock.now() &&
      s.actor.user_id == (customer ? known->second.visitor : known->second.agent) &&
      (customer || s.actor.role == core::Role::agent)) {
    other = customer ? known->second.agent : known->second.visitor;
  } else {
    auto c = co_await d_.store.view(t.conversation_id, s.actor);
    if (!c) co_return c.failure();
    remember_members(t.conversation_id, c->visitor, c->agent);
    // Seeing a conversation (a team's queue, a supervisor) is not being in it.
    if (s.actor.user_id != (customer ? c->visitor : c->agent))
      co_return store::Failure::refused(core::Refusal::forbidden, "only the customer and the agent of a chat type in it");
    other = customer ? c->agent : c->visitor;
  }
  if (!other.empty()) {
    json::object ev;
    ev["conversation_id"] = t.conversation_id;
    ev["state"] = t.state;
    json::object from = person(s.actor.user_id, s.name);
    from["role"] = wire_role(s.actor.role);
    ev["from"] = std::move(from);
    d_.publisher.publish({"u:" + other}, encode_event("typing", std::move(ev)));
  }
  co_return store::Done{};
}

asio::awaitable<Answer> Conversations::read(Sender const& s, protocol::Read const& r) {
  auto mark = co_await d_.store.read(r.conversation_id, s.actor, r.seq);
  if (!mark) co_return mark.failure();
  std::string other = s.actor.role == core::Role::customer ? mark->agent : mark->visitor;
  if (!other.empty()) {
    json::object ev;
    ev["conversation_id"] = r.conversation_id;
    ev["seq"] = mark->seq;
    json::object from;
    from["role"] = wire_role(s.actor.role);
    from["id"] = s.actor.user_id;
    ev["from"] = std::move(from);
    d_.publisher.publish({"u:" + other}, encode_event("read", std::move(ev)));
  }
  co_return store::Done{};
}

asio::awaitable<Answer> Conversations::history(Sender const& s, protocol::HistoryGet const& h, Reply& reply) {
  // One more than asked: whether there is more.
  auto page = co_await d_.store.history(h.conversation_id, s.actor, h.after_seq, h.limit + 1);
  if (!page) co_return page.failure();
  json::array messages;
  auto const n = std::min<std::size_t>(page->size(), static_cast<std::size_t>(h.limit));
  for (std::size_t i = 0; i < n; ++i) messages.push_back(message_json((*page)[i]));
  json::object result;
  result["conversation_id"] = h.conversation_id;
  result["messages"] = std::move(messages);
  result["has_more"] = page->size() > static_cast<std::size_t>(h.limit);
  reply.ack(std::move(result));
  co_return store::Done{};
}

asio::awaitable<Answer> Conversations::note(Sender const& s, protocol::NoteAdd const& n, Reply& reply) {
  auto t = d_.clock.now();
  auto noted = co_await d_.store.note(n.conversation_id, s.actor, s.name, n.text, t);
  if (!noted) co_return noted.failure();
  json::object result;
  result["conversation_id"] = n.conversation_id;
  result["note_id"] = noted->note_id;
  result["ts"] = t;
  reply.ack(std::move(result));
  json::object ev;
  ev["conversation_id"] = n.conversation_id;
  ev["note_id"] = noted->note_id;
  ev["ts"] = t;
  json::object from = person(s.actor.user_id, s.name);
  from["role"] = "agent";
  ev["from"] = std::move(from);
  ev["text"] = n.text;
  // Never the customer: the agent on the chat, the author, the supervisors.
  Targets targets{"u:" + s.actor.user_id, "sup"};
  if (!noted->agent.empty()) targets.push_back("u:" + noted->agent);
  d_.publisher.publish(std::move(targets), encode_event("note", std::move(ev)));
  co_return store::Done{};
}

asio::awaitable<Answer> Conversations::resolve(Sender const& s, protocol::ConversationResolve const& r, Reply& reply) {
  auto done = co_await d_.store.resolve(r.conversation_id, s.actor, d_.clock.now());
  if (!done) co_return done.failure();
  auto const res = std::move(*done);
  json::object result;
  result["conversation_id"] = r.conversation_id;
  result["status"] = "resolved";
  reply.ack(std::move(result));
  json::object ev;
  ev["conversation_id"] = r.conversation_id;
  d_.publisher.publish(both_sides(res.visitor, res.agent), encode_event("conversation.resolved", ev));
  // A signed link answers the same question later, e.g. from an e-mail.
  auto expires = d_.clock.now() + d_.config.assessment.csat_window_s * 1000LL;
  auto link = sign_csat_link(d_.config.auth.token_secret, CsatLink{r.conversation_id, res.visitor, expires});
  ev["link"] = "/api/v1/csat/" + link;
  ev["expires_at"] = expires;
  d_.publisher.publish({"u:" + res.visitor}, encode_event("csat.request", std::move(ev)));
  co_await d_.hooks.csat_mail(r.conversation_id, link);
  if (res.previous == core::ConversationStatus::queued) d_.hooks.positions(res.team);
  d_.hooks.dispatch(res.team);
  if (res.previous == core::ConversationStatus::active)
    co_await d_.hooks.after_resolve(r.conversation_id, res.agent, res.stage);
  co_await d_.hooks.assess(r.conversation_id, "resolved");
  // The agent has room again in every team of theirs.
  if (s.actor.role == core::Role::agent)
    for (std::size_t i = 0; i < s.teams.size(); ++i)
      if (s.teams[i] != res.team) d_.hooks.dispatch(s.teams[i]);
  co_return store::Done{};
}

asio::awaitable<Answer> Conversations::outcome(Sender const& s, protocol::ConversationOutcome const& r, Reply& reply) {
  store::OutcomeRecord rec{r.conversation_id, s.actor, r.outcome.value_or(""), r.went_beyond.value_or(""),
                           d_.clock.now()};
  auto o = co_await d_.store.outcome(rec);
  if (!o) co_return o.failure();
  json::object result;
  result["conversation_id"] = r.conversation_id;
  result["outcome"] = o->outcome.empty() ? json::value(nullptr) : json::value(o->outcome);
  result["went_beyond"] = o->went_beyond.empty() ? json::value(nullptr) : json::value(o->went_beyond);
  reply.ack(std::move(result));
  // The agent's record of how it ended: a resolved chat is assessed again.
  if (o->status == core::ConversationStatus::resolved) co_await d_.hooks.assess(r.conversation_id, "outcome");
  co_return store::Done{};
}

}  // namespace exceed::app
