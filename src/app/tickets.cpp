#include "app/tickets.hpp"

#include "app/auth.hpp"
#include "app/wire.hpp"
#include "core/ticket.hpp"
#include "protocol/codec.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr auto close_every = std::chrono::milliseconds(1000);
constexpr int close_batch = 100;
constexpr std::size_t max_subject = 200;


json::value person_or_null(std::string_view id, std::string_view name) {
  if (id.empty()) return nullptr;
  json::object p;
  p["id"] = id;
  p["name"] = name;
  return p;
}

// An attached file's JSON as kept with a comment (null for none).
json::value file_or_null(std::string const& attachment) {
  if (attachment.empty()) return nullptr;
  std::error_code ec;
  auto v = json::parse(attachment, ec);
  return !ec && v.is_object() ? v : json::value(nullptr);
}

json::object status_change(std::string_view from, std::string_view to) {
  json::object extra;
  extra["changes"] = json::array{json::object{{"field", "status"}, {"from", from}, {"to", to}}};
  return extra;
}

}  // namespace

Tickets::Tickets(Deps deps) : d_(std::move(deps)), periodic_(d_.executor, d_.store_up, "tickets") {}

void Tickets::start() { periodic_.every(close_every, this, &Tickets::close_solved); }

void Tickets::stop() { periodic_.stop(); }

// Closes solved tickets past the configured time, once across processes.
asio::awaitable<void> Tickets::close_solved() {
  auto now = d_.clock.now();
  auto closed = co_await d_.store.close_due(now, now - d_.config.tickets.auto_close_after_s * 1000LL, close_batch);
  if (!closed) co_return;
  for (std::size_t i = 0; i < closed->size(); ++i) {
    auto rec = co_await d_.store.get((*closed)[i]);
    if (rec && *rec) announce("ticket.updated", **rec, status_change("solved", "closed"));
  }
}

asio::awaitable<store::Result<store::Ticket>> Tickets::insert(store::NewTicket t) {
  t.sla = d_.config.sla_for(t.team, t.priority);
  t.deadlines = d_.config.sla_deadlines(t.sla, t.team, t.now);
  co_return co_await d_.store.create(t);
}

json::object Tickets::to_json(store::Ticket const& t) {
  json::object j;
  j["id"] = t.id;
  j["subject"] = t.subject;
  j["status"] = core::to_string(t.status);
  j["priority"] = t.priority;
  j["team"] = t.team;
  j["requester"] = person_or_null(t.requester, t.requester_name);
  j["assignee"] = person_or_null(t.assignee, t.assignee_name);
  json::array tags;
  for (auto const& tag : t.tags) tags.emplace_back(tag);
  j["tags"] = std::move(tags);
  j["via"] = t.via;
  j["conversation_id"] = text_or_null(t.conversation);
  j["follow_up_of"] = text_or_null(t.follow_up_of);
  j["created_at"] = t.created_at;
  j["updated_at"] = t.updated_at;
  j["solved_at"] = time_or_null(t.solved_at);
  j["closed_at"] = time_or_null(t.closed_at);
  if (auto a = parse_object(t.assessment_json); !a.empty()) j["assessment"] = std::move(a);
  if (auto times = parse_object(t.times_json); !times.empty()) j["response_times"] = std::move(times);
  if (!t.sla_policy.empty()) j["sla_policy"] = t.sla_policy;
  return j;
}

void Tickets::announce(std::string_view event, store::Ticket const& ticket, json::object extra) {
  Targets targets{"team:" + ticket.team, "sup"};
  if (!ticket.assignee.empty()) targets.push_back("u:" + ticket.assignee);
  extra["ticket"] = to_json(ticket);
  d_.publisher.publish(std::move(targets), protocol::encode_event(event, std::move(extra)));
}

void Tickets::announce_ticketed(std::string const& conversation_id, std::string const& ticket_id,
                                store::Resolved const& ended) {
  json::object ev;
  ev["conversation_id"] = conversation_id;
  ev["ticket_id"] = ticket_id;
  ev["reason"] = "agent";
  d_.publisher.publish({"u:" + ended.visitor}, protocol::encode_event("conversation.ticket", ev));
  if (!ended.agent.empty() && ended.previous == core::ConversationStatus::active) {
    json::object un;
    un["conversation_id"] = conversation_id;
    un["reason"] = "ticketed";
    d_.publisher.publish({"u:" + ended.agent}, protocol::encode_event("conversation.unassigned", std::move(un)));
    d_.hooks.dispatch(ended.team);
  }
  if (ended.previous == core::ConversationStatus::queued) d_.hooks.positions(ended.team);
}

asio::awaitable<store::Result<store::Ticket>> Tickets::visible(Actor const& actor, std::string const& id) {
  auto rec = co_await d_.store.get(id);
  if (!rec) co_return rec.failure();
  if (!*rec) co_return store::Failure::refused(core::Refusal::not_found, "no such ticket");
  auto const& t = **rec;
  if (!core::can_see_ticket(actor, t.requester, t.assignee, t.team))
    co_return store::Failure::refused(core::Refusal::forbidden, "not your ticket");
  co_return std::move(**rec);
}

asio::awaitable<store::Result<store::Commented>> Tickets::add_comment(store::TicketComment c) {
  c.now = d_.clock.now();
  if (c.by_customer && c.is_public) {
    // A customer's reply may start a wait: its deadline counts the team's
    // business hours, from the ticket's team and priority.
    auto rec = co_await d_.store.get(c.ticket_id);
    if (rec && *rec) {
      c.sla = d_.config.sla_for((*rec)->team, (*rec)->priority);
      c.deadlines = d_.config.sla_deadlines(c.sla, (*rec)->team, c.now);
    }
  }
  auto done = co_await d_.store.comment(c);
  if (!done) co_return done;
  auto const& o = *done;
  std::string role = c.by_customer ? "customer" : "agent";
  auto file = file_or_null(c.attachment);
  if (o.seq > 0 && !o.visitor.empty()) {
    // The customer reads the reply in their conversation, live or on return.
    json::object ev;
    ev["conversation_id"] = o.conversation;
    ev["seq"] = o.seq;
    ev["ts"] = c.now;
    ev["from"] = json::object{{"role", role}, {"id", c.author}, {"name", o.author_name}};
    ev["text"] = c.text;
    ev["client_msg_id"] = "ticket:" + o.comment_id;
    if (!file.is_null()) ev["attachment"] = file;
    d_.publisher.publish({"u:" + o.visitor}, protocol::encode_event("message", std::move(ev)));
  }
  auto rec = co_await d_.store.get(c.ticket_id);
  if (rec && *rec) {
    json::object extra;
    extra["comment"] = json::object{{"id", o.comment_id}, {"public", c.is_public}, {"ts", c.now},
                                    {"author", json::object{{"role", role}, {"id", c.author}, {"name", o.author_name}}},
                                    {"text", c.text}};
    if (!file.is_null()) extra["comment"].as_object()["attachment"] = file;
    announce("ticket.commented", **rec, std::move(extra));
    // The customer reads an agent's reply by e-mail too, when they left an address.
    if (c.is_public && !c.by_customer && d_.hooks.reply_mailed)
      co_await d_.hooks.reply_mailed(c.ticket_id, o.author_name, c.text);
    if (o.status != o.previous)
      announce("ticket.updated", **rec, status_change(core::to_string(o.previous), core::to_string(o.status)));
  }
  co_return done;
}

asio::awaitable<store::Result<store::Ticket>> Tickets::follow_up(store::Ticket const& closed, std::string customer,
                                                                 std::string customer_name, std::string via) {
  store::NewTicket t;
  t.id = random_id("t_");
  t.subject = "Follow-up: " + utf8_prefix(closed.subject, max_subject - 12);
  t.requester = customer;
  t.requester_name = std::move(customer_name);
  t.status = core::TicketStatus::fresh;
  t.priority = closed.priority;
  t.team = closed.team;
  t.via = std::move(via);
  t.conversation = closed.conversation;
  t.follow_up_of = closed.id;
  t.actor = "customer:" + customer;
  t.now = d_.clock.now();
  auto created = co_await insert(std::move(t));
  if (created) announce("ticket.created", *created);
  co_return created;
}

asio::awaitable<void> Tickets::announce_created(std::string ticket_id) {
  auto rec = co_await d_.store.get(ticket_id);
  if (rec && *rec) announce("ticket.created", **rec);
}

asio::awaitable<std::string> Tickets::customer_message(std::string ticket_id, std::string conversation_id,
                                                       std::string visitor_id, std::string visitor_name,
                                                       std::string text, bool mirror) {
  store::TicketComment c;
  c.ticket_id = ticket_id;
  c.by_customer = true;
  c.author = visitor_id;
  c.author_name = visitor_name;
  c.text = text;
  c.mirror = mirror;  // a chat message is in the conversation already; an e-mail reply is not
  auto o = co_await add_comment(c);
  if (o) co_return ticket_id;
  if (o.failure().kind != store::Failure::Kind::refused || o.failure().refusal != core::Refusal::conflict)
    co_return std::string();
  auto old = co_await d_.store.get(ticket_id);
  if (!old || !*old) co_return std::string();
  auto closed = std::move(**old);
  closed.conversation = conversation_id;
  auto created = co_await follow_up(closed, visitor_id, visitor_name, "chat");
  if (!created) co_return std::string();
  c.ticket_id = created->id;
  auto again = co_await add_comment(c);
  co_return again ? c.ticket_id : std::string();
}

}  // namespace exceed::app
