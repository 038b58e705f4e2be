#include "app/tickets.hpp"
#include "app/mail.hpp"

#include "app/app.hpp"
#include "app/metrics.hpp"
#include "app/assessments.hpp"
#include "app/attachments.hpp"
#include "app/routing.hpp"
#include "store/scripts.hpp"
#include "app/throttle.hpp"
#include "app/wire.hpp"
#include "core/schedule.hpp"
#include "core/ticket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;
using protocol::error;

namespace {

constexpr auto close_every = std::chrono::milliseconds(1000);
constexpr std::size_t max_subject = 200;
constexpr std::size_t max_tags = 20;

json::value time_or_null(std::string_view s) { return s.empty() ? json::value(nullptr) : json::value(to_int(s)); }

json::value person_or_null(std::string_view id, std::string_view name) {
  if (id.empty()) return nullptr;
  json::object p;
  p["id"] = id;
  p["name"] = name;
  return p;
}

bool in_csv(std::string_view csv, std::string_view item) {
  for (std::size_t start = 0; start <= csv.size();) {
    auto comma = csv.find(',', start);
    auto end = comma == std::string_view::npos ? csv.size() : comma;
    if (csv.substr(start, end - start) == item) return true;
    start = end + 1;
  }
  return false;
}

// A string field of a JSON body: nullopt when absent, error text when wrong.
struct Text {
  std::optional<std::string> value;
  std::string problem;
};
Text text_field(json::object const& body, std::string_view key, std::size_t max, bool allow_empty = false) {
  auto const* v = body.if_contains(key);
  if (!v || v->is_null()) return {};
  if (!v->is_string()) return {std::nullopt, std::string(key) + " must be a string"};
  if (v->get_string().size() > max) return {std::nullopt, std::string(key) + " is too long"};
  if (!allow_empty && v->get_string().empty()) return {std::nullopt, std::string(key) + " must not be empty"};
  return {std::string(v->get_string()), {}};
}

// tags: an array of 1..64-character strings, at most 20; csv for the store.
std::optional<std::string> tags_csv(json::value const* v) {
  if (!v || !v->is_array() || v->get_array().size() > max_tags) return std::nullopt;
  std::string csv;
  for (auto const& t : v->get_array()) {
    if (!t.is_string() || t.get_string().empty() || t.get_string().size() > 64 ||
        t.get_string().find(',') != json::string::npos)
      return std::nullopt;
    if (!csv.empty()) csv += ',';
    csv += t.get_string();
  }
  return csv;
}

}  // namespace

Tickets::Tickets(App& app) : app_(app), periodic_(app.executor(), [&app] { return app.db().connected(); }, "tickets") {}

void Tickets::start() { periodic_.every(close_every, this, &Tickets::close_solved); }

void Tickets::stop() { periodic_.stop(); }

// Closes solved tickets past the configured time, once across processes.
asio::awaitable<void> Tickets::close_solved() {
  auto& db = app_.db();
  auto now = now_ms();
  auto closed = co_await db.call(db.scripts().ticket_close_due, std::to_string(now),
                                 std::to_string(now - app_.config().tickets.auto_close_after_s * 1000LL), "100");
  for (auto const& id : closed.reply.elements) {
    auto rec = co_await db.cmd("HGETALL", db.key("ticket:" + id.str));
    if (rec && !rec.reply.elements.empty()) {
      json::object extra;
      extra["changes"] = json::array{json::object{{"field", "status"}, {"from", "solved"}, {"to", "closed"}}};
      announce("ticket.updated", rec.reply, std::move(extra));
    }
  }
}

// Creates a ticket (ticket_create.lua) with the SLA policy of its team and
// priority recorded and its resolution clock running.
asio::awaitable<Outcome> Tickets::insert(std::vector<std::string> args, std::string const& team,
                                         std::string const& priority) {
  auto const& p = app_.config().sla_for(team, priority);
  args.push_back(p.name);
  args.push_back(std::to_string(p.first_response));
  args.push_back(std::to_string(p.next_response));
  args.push_back(std::to_string(p.resolution));
  args.push_back(json::serialize(json::value(p.warning_ratio)));
  auto& db = app_.db();
  co_return co_await db.run(db.scripts().ticket_create, std::move(args));
}

json::object Tickets::to_json(store::Reply const& flat) {
  auto f = [&](std::string_view name) { return field(flat, name); };
  json::object t;
  t["id"] = f("id");
  t["subject"] = f("subject");
  t["status"] = f("status");
  t["priority"] = f("priority");
  t["team"] = f("team");
  t["requester"] = person_or_null(f("requester"), f("requester_name"));
  t["assignee"] = person_or_null(f("assignee"), f("assignee_name"));
  json::array tags;
  for (std::size_t start = 0, n = f("tags").size(); start < n;) {
    auto csv = f("tags");
    auto comma = csv.find(',', start);
    auto end = comma == std::string_view::npos ? n : comma;
    tags.emplace_back(csv.substr(start, end - start));
    start = end + 1;
  }
  t["tags"] = std::move(tags);
  t["via"] = f("via");
  t["conversation_id"] = f("conversation").empty() ? json::value(nullptr) : json::value(f("conversation"));
  t["follow_up_of"] = f("follow_up_of").empty() ? json::value(nullptr) : json::value(f("follow_up_of"));
  t["created_at"] = to_int(f("created_at"));
  t["updated_at"] = to_int(f("updated_at"));
  t["solved_at"] = time_or_null(f("solved_at"));
  t["closed_at"] = time_or_null(f("closed_at"));
  if (auto a = parse_object(f("assessment")); !a.empty()) t["assessment"] = std::move(a);
  if (auto times = parse_object(f("times")); !times.empty()) t["response_times"] = std::move(times);
  if (!f("sla_policy").empty()) t["sla_policy"] = f("sla_policy");
  return t;
}

void Tickets::announce(std::string_view event, store::Reply const& ticket, json::object extra) {
  Targets targets{"team:" + std::string(field(ticket, "team")), "sup"};
  if (auto assignee = field(ticket, "assignee"); !assignee.empty()) targets.push_back("u:" + std::string(assignee));
  extra["ticket"] = to_json(ticket);
  app_.publish(std::move(targets), protocol::encode_event(event, std::move(extra)));
}

asio::awaitable<Outcome> Tickets::visible(Actor const& actor, std::string const& id) {
  auto& db = app_.db();
  auto rec = co_await db.cmd("HGETALL", db.key("ticket:" + id));
  if (!rec) co_return rec;
  Outcome out;
  if (rec.reply.elements.empty()) {
    out.error = error::not_found;
    out.message = "no such ticket";
    co_return out;
  }
  bool ok = actor.role == core::Role::supervisor ||
            (actor.role == core::Role::customer && field(rec.reply, "requester") == actor.user_id) ||
            (actor.role == core::Role::agent &&
             (field(rec.reply, "assignee") == actor.user_id || in_csv(actor.teams_csv, field(rec.reply, "team"))));
  if (!ok) {
    out.error = error::forbidden;
    out.message = "not your ticket";
    co_return out;
  }
  co_return rec;
}

// ------------------------------------------------------------------ HTTP

asio::awaitable<net::HttpResponse> Tickets::http(Actor actor, std::string method, std::string rest, Query query,
                                                 json::object body) {
  if (rest.empty() || rest == "/") {
    if (method == "GET") co_return co_await list(actor, query);
    if (method == "POST") co_return co_await create(actor, body);
    co_return error_response(error::bad_request, "use GET or POST");
  }
  auto slash = rest.find('/', 1);
  std::string id = rest.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  std::string sub = slash == std::string::npos ? "" : rest.substr(slash);
  if (id.empty() || id.size() > protocol::max_id_chars) co_return error_response(error::not_found, "no such ticket");
  if (sub.empty()) {
    if (method == "PATCH") co_return co_await update(actor, id, body);
    if (method != "GET") co_return error_response(error::bad_request, "use GET or PATCH");
    auto rec = co_await visible(actor, id);
    if (!rec) co_return from_outcome(rec);
    co_return json_response(200, to_json(rec.reply));
  }
  if (sub == "/comments" && method == "POST") co_return co_await comment(actor, id, body);
  if ((sub == "/comments" || sub == "/events") && method == "GET") {
    auto rec = co_await visible(actor, id);
    if (!rec) co_return from_outcome(rec);
    bool customer = actor.role == core::Role::customer;
    if (sub == "/events" && customer) co_return error_response(error::forbidden, "the timeline is for agents");
    auto& db = app_.db();
    auto entries = co_await db.cmd("XRANGE", db.key("ticket:" + id + ":" + sub.substr(1)), "-", "+", "COUNT", "1000");
    if (!entries) co_return from_outcome(entries);
    json::array items;
    for (auto const& e : entries.reply.elements) {
      store::Reply const& fields = e.elements.at(1);
      json::object item;
      item["id"] = str_at(e, 0);
      item["ts"] = to_int(field(fields, "ts"));
      if (sub == "/comments") {
        bool is_public = field(fields, "public") == "1";
        if (customer && !is_public) continue;  // private notes never reach customers
        item["public"] = is_public;
        json::object author;
        author["role"] = field(fields, "role");
        author["id"] = field(fields, "uid");
        author["name"] = field(fields, "name");
        item["author"] = std::move(author);
        item["text"] = field(fields, "text");
        if (auto att = field(fields, "att"); !att.empty()) item["attachment"] = json::parse(att);
      } else {
        item["actor"] = field(fields, "actor");
        item["what"] = field(fields, "what");
        item["from"] = field(fields, "from");
        item["to"] = field(fields, "to");
      }
      items.push_back(std::move(item));
    }
    json::object out;
    out["items"] = std::move(items);
    out["next_cursor"] = nullptr;
    co_return json_response(200, out);
  }
  co_return error_response(error::not_found, "no such endpoint");
}

// A customer opens at most limits.tickets_per_customer_per_hour tickets;
// nullopt: this one may go ahead.
asio::awaitable<std::optional<net::HttpResponse>> Tickets::customer_ticket_allowance(std::string const& customer) {
  auto v = co_await app_.throttle().take("tickets", customer, app_.config().limits.tickets_per_customer_per_hour,
                                         3'600'000, now_ms());
  if (!v.refused()) co_return std::nullopt;
  if (!v.failure) app_.metrics().rate_limited("tickets");
  co_return refusal(v, "too many new tickets: please wait before opening another");
}

asio::awaitable<net::HttpResponse> Tickets::create(Actor const& actor, json::object const& body) {
  auto& db = app_.db();
  auto subject = text_field(body, "subject", max_subject * 4);
  auto requester = text_field(body, "requester_id", protocol::max_id_chars);
  auto team = text_field(body, "team", protocol::max_id_chars);
  auto assignee = text_field(body, "assignee_id", protocol::max_id_chars);
  auto conv = text_field(body, "conversation_id", protocol::max_id_chars);
  auto priority_text = text_field(body, "priority", 16);
  for (auto const* t : {&subject, &requester, &team, &assignee, &conv, &priority_text})
    if (!t->problem.empty()) co_return error_response(error::bad_request, t->problem);
  bool customer = actor.role == core::Role::customer;
  auto priority = core::parse_priority(priority_text.value.value_or("normal"));
  if (!priority) co_return error_response(error::bad_request, "priority must be low, normal, high or urgent");
  std::string tags;
  if (body.contains("tags")) {
    auto csv = tags_csv(body.if_contains("tags"));
    if (!csv) co_return error_response(error::bad_request, "tags must be up to 20 strings of 1-64 characters without commas");
    tags = *csv;
  }
  std::string requester_id = customer ? actor.user_id : requester.value.value_or("");
  std::string team_name = team.value.value_or(app_.config().routing.default_team);
  std::string subject_text = subject.value.value_or("");

  // The first comment is checked before anything is written.
  std::optional<std::string> first_comment;
  bool first_public = true;
  if (auto const* c = body.if_contains("comment")) {
    if (!c->is_object()) co_return error_response(error::bad_request, "comment must be an object {text, public?}");
    auto text = text_field(c->get_object(), "text", protocol::max_text_bytes);
    if (!text.value) co_return error_response(text.problem.find("too long") != std::string::npos ? error::too_large : error::bad_request,
                                              text.problem.empty() ? "comment.text is required" : "comment." + text.problem);
    auto const* pub = c->get_object().if_contains("public");
    if (pub && !pub->is_bool()) co_return error_response(error::bad_request, "comment.public must be true or false");
    first_comment = text.value;
    first_public = customer || !pub || pub->get_bool();
  }

  // An agent turning a conversation into a ticket: it keeps its history and
  // customer, and leaves the agent's chats.
  store::Reply conversation;
  if (conv.value && customer) co_return error_response(error::forbidden, "agents turn conversations into tickets");
  if (conv.value) {
    auto rec = co_await db.call(db.scripts().access, *conv.value, actor.role_name(), actor.user_id, actor.teams_csv);
    if (!rec) co_return from_outcome(rec);
    if (!field(rec.reply, "ticket").empty())
      co_return error_response(error::conflict, "the conversation already has a ticket");
    conversation = std::move(rec.reply);
    requester_id = std::string(field(conversation, "visitor"));
    if (!team.value) team_name = std::string(field(conversation, "team"));
    if (subject_text.empty()) subject_text = utf8_prefix(field(conversation, "preview"), max_subject);
  }
  if (subject_text.empty()) co_return error_response(error::bad_request, "a ticket needs a subject");
  if (customer && assignee.value) co_return error_response(error::forbidden, "customers cannot assign tickets");
  if (customer) {
    auto limit = co_await customer_ticket_allowance(actor.user_id);
    if (limit) co_return std::move(*limit);
  }

  auto id = random_id("t_");
  auto now = std::to_string(now_ms());
  // The chat ends first (only its agent or a supervisor may do that), so a
  // refused step leaves no ticket behind.
  Outcome ended;
  if (conv.value) {
    ended = co_await db.call(db.scripts().resolve, *conv.value, actor.role_name(), actor.user_id, actor.teams_csv, now,
                             "ticket");
    if (!ended) co_return from_outcome(ended);
  }
  std::string status = assignee.value ? "open" : "new";
  std::string via = conv.value ? "chat" : customer ? "web" : "agent";
  auto actor_tag = actor.role_name() + ":" + actor.user_id;
  std::string priority_name(core::to_string(*priority));
  std::vector<std::string> args{id, subject_text, requester_id, "", status, priority_name, team_name,
                                assignee.value.value_or(""), tags, via, conv.value.value_or(""), "", actor_tag, now};
  auto o = co_await insert(std::move(args), team_name, priority_name);
  if (!o) co_return from_outcome(o);
  announce("ticket.created", o.reply);
  if (assignee.value) announce("ticket.assigned", o.reply);

  if (conv.value) {
    auto const& r = ended;
    {
      json::object ev;
      ev["conversation_id"] = *conv.value;
      ev["ticket_id"] = id;
      ev["reason"] = "agent";
      app_.publish({"u:" + str_at(r.reply, 0)}, protocol::encode_event("conversation.ticket", ev));
      if (auto const& agent = str_at(r.reply, 1); !agent.empty() && str_at(r.reply, 3) == "active") {
        json::object un;
        un["conversation_id"] = *conv.value;
        un["reason"] = "ticketed";
        app_.publish({"u:" + agent}, protocol::encode_event("conversation.unassigned", std::move(un)));
        app_.routing().dispatch(str_at(r.reply, 2));
      }
      if (str_at(r.reply, 3) == "queued") app_.routing().positions(str_at(r.reply, 2));
    }
  }
  if (first_comment) co_await add_comment(id, actor.role, actor.user_id, "", first_public, *first_comment, true);
  auto rec = co_await db.cmd("HGETALL", db.key("ticket:" + id));
  co_return json_response(201, to_json(rec.reply));
}

asio::awaitable<net::HttpResponse> Tickets::update(Actor const& actor, std::string const& id,
                                                   json::object const& body) {
  if (actor.role == core::Role::customer) co_return error_response(error::forbidden, "customers cannot change tickets");
  auto rec = co_await visible(actor, id);
  if (!rec) co_return from_outcome(rec);
  std::string current(field(rec.reply, "status"));
  std::vector<std::string> args{id, actor.role_name() + ":" + actor.user_id, current, std::to_string(now_ms())};
  if (auto s = text_field(body, "status", 16); s.value || !s.problem.empty()) {
    auto to = core::parse_ticket_status(s.value.value_or(""));
    if (!to) co_return error_response(error::bad_request, "status must be new, open, pending, on_hold, solved or closed");
    auto from = core::parse_ticket_status(current).value_or(core::TicketStatus::open);
    if (!core::can_change(from, *to))
      co_return error_response(error::conflict, "a ticket cannot go from " + current + " to " + *s.value +
                                                    (from == core::TicketStatus::closed ? " (closed is final)" : ""));
    args.insert(args.end(), {"status", *s.value});
  }
  if (auto p = text_field(body, "priority", 16); p.value || !p.problem.empty()) {
    if (!core::parse_priority(p.value.value_or(""))) co_return error_response(error::bad_request, "priority must be low, normal, high or urgent");
    args.insert(args.end(), {"priority", *p.value});
  }
  for (auto const& [key, field_name, max] : {std::tuple{"team", "team", protocol::max_id_chars},
                                             std::tuple{"subject", "subject", max_subject * 4}}) {
    auto t = text_field(body, key, max);
    if (!t.problem.empty()) co_return error_response(error::bad_request, t.problem);
    if (t.value) args.insert(args.end(), {field_name, *t.value});
  }
  if (body.contains("assignee_id")) {
    auto const* a = body.if_contains("assignee_id");
    if (!a->is_null() && !a->is_string()) co_return error_response(error::bad_request, "assignee_id must be a string or null");
    args.insert(args.end(), {"assignee", a->is_null() ? std::string() : std::string(a->get_string())});
  }
  if (body.contains("tags")) {
    auto csv = tags_csv(body.if_contains("tags"));
    if (!csv) co_return error_response(error::bad_request, "tags must be up to 20 strings of 1-64 characters without commas");
    args.insert(args.end(), {"tags", *csv});
  }
  if (field(rec.reply, "status") == "closed" && args.size() > 4)
    co_return error_response(error::conflict, "a closed ticket cannot change");
  auto& db = app_.db();
  auto o = co_await db.run(db.scripts().ticket_update, std::move(args));
  if (!o) co_return from_outcome(o);
  auto const& ticket = o.reply.elements.at(0);
  auto const& flat = o.reply.elements.at(1).elements;
  json::array changes;
  bool reassigned = false;
  for (std::size_t i = 0; i + 2 < flat.size(); i += 3) {
    changes.push_back(json::object{{"field", flat[i].str}, {"from", flat[i + 1].str}, {"to", flat[i + 2].str}});
    reassigned = reassigned || flat[i].str == "assignee";
  }
  if (!changes.empty()) {
    json::object extra;
    extra["changes"] = changes;
    announce(reassigned ? "ticket.assigned" : "ticket.updated", ticket, std::move(extra));
  }
  if (field(ticket, "status") == "solved" && !changes.empty()) {
    co_await app_.assessments().assess_ticket(id, "solved");
    auto fresh = co_await db.cmd("HGETALL", db.key("ticket:" + id));
    if (fresh && !fresh.reply.elements.empty()) co_return json_response(200, to_json(fresh.reply));
  }
  co_return json_response(200, to_json(ticket));
}

asio::awaitable<Outcome> Tickets::add_comment(std::string const& id, core::Role role, std::string const& author,
                                              std::string const& author_name, bool is_public, std::string const& text,
                                              bool mirror, std::string const& attachment) {
  auto& db = app_.db();
  std::string name = author_name;
  if (name.empty() && role != core::Role::customer) {
    auto n = co_await db.cmd("HGET", db.key("user:" + author), "name");
    name = n.reply.str;
  } else if (name.empty()) {
    auto n = co_await db.cmd("HGET", db.key("visitor:" + author), "name");
    name = n.reply.str;
  }
  auto now = now_ms();
  std::string wire_role = role == core::Role::customer ? "customer" : "agent";
  auto o = co_await db.call(db.scripts().ticket_comment, id, wire_role, author, name, is_public ? "1" : "0", text,
                            std::to_string(now), mirror ? "1" : "0", attachment);
  json::value file;  // the attached file's JSON, or null
  if (!attachment.empty()) file = json::parse(attachment);
  if (!o) co_return o;
  auto const& comment_id = str_at(o.reply, 0);
  auto seq = int_at(o.reply, 1);
  auto const& visitor = str_at(o.reply, 2);
  auto const& conversation = str_at(o.reply, 5);
  if (seq > 0 && !visitor.empty()) {
    // The customer reads the reply in their conversation, live or on return.
    json::object ev;
    ev["conversation_id"] = conversation;
    ev["seq"] = seq;
    ev["ts"] = now;
    ev["from"] = json::object{{"role", wire_role}, {"id", author}, {"name", name}};
    ev["text"] = text;
    ev["client_msg_id"] = "ticket:" + comment_id;
    if (!file.is_null()) ev["attachment"] = file;
    app_.publish({"u:" + visitor}, protocol::encode_event("message", std::move(ev)));
  }
  auto rec = co_await db.cmd("HGETALL", db.key("ticket:" + id));
  if (rec && !rec.reply.elements.empty()) {
    json::object extra;
    extra["comment"] = json::object{{"id", comment_id}, {"public", is_public}, {"ts", now},
                                    {"author", json::object{{"role", wire_role}, {"id", author}, {"name", name}}},
                                    {"text", text}};
    if (!file.is_null()) extra["comment"].as_object()["attachment"] = file;
    announce("ticket.commented", rec.reply, std::move(extra));
    // The customer reads an agent's reply by e-mail too, when they left an address.
    if (is_public && role != core::Role::customer) co_await app_.mail().ticket_reply(id, name, text);
    if (str_at(o.reply, 3) != str_at(o.reply, 4)) {
      json::object changes;
      changes["changes"] = json::array{json::object{{"field", "status"}, {"from", str_at(o.reply, 4)}, {"to", str_at(o.reply, 3)}}};
      announce("ticket.updated", rec.reply, std::move(changes));
    }
  }
  co_return o;
}

asio::awaitable<net::HttpResponse> Tickets::comment(Actor const& actor, std::string const& id,
                                                    json::object const& body) {
  auto rec = co_await visible(actor, id);
  if (!rec) co_return from_outcome(rec);
  auto text = text_field(body, "text", protocol::max_text_bytes);
  if (!text.problem.empty() && text.problem.find("too long") != std::string::npos)
    co_return error_response(error::too_large, text.problem);
  if (!text.value) co_return error_response(error::bad_request, text.problem.empty() ? "text is required" : text.problem);
  auto const* pub = body.if_contains("public");
  if (pub && !pub->is_bool()) co_return error_response(error::bad_request, "public must be true or false");
  bool is_public = !pub || pub->get_bool();
  if (actor.role == core::Role::customer && !is_public)
    co_return error_response(error::forbidden, "customers write public replies only");
  std::string ticket = id;
  std::string attachment;  // a file uploaded to this ticket by the author (POST /api/v1/attachments?ticket_id=)
  if (auto const* a = body.if_contains("attachment_id"); a && !a->is_null()) {
    if (!a->is_string() || a->get_string().empty() || a->get_string().size() > protocol::max_id_chars)
      co_return error_response(error::bad_request, "attachment_id must be an id");
    auto file = co_await app_.attachments().for_ticket(actor, std::string(a->get_string()), id);
    if (!file) co_return from_failure(file.failure());
    attachment = json::serialize(Attachments::to_json(*file));
  }
  auto o = co_await add_comment(ticket, actor.role, actor.user_id, "", is_public, *text.value, true, attachment);
  if (!o && o.error == error::conflict && actor.role == core::Role::customer) {
    // Closed is final: the customer's new message opens a follow-up ticket.
    if (auto limit = co_await customer_ticket_allowance(actor.user_id)) co_return std::move(*limit);
    ticket = random_id("t_");
    auto subject = "Follow-up: " + utf8_prefix(field(rec.reply, "subject"), max_subject - 12);
    std::string team(field(rec.reply, "team")), priority(field(rec.reply, "priority"));
    std::vector<std::string> args{ticket, subject, actor.user_id, "", "new", priority, team, "", "", "web",
                                  std::string(field(rec.reply, "conversation")), id, "customer:" + actor.user_id,
                                  std::to_string(now_ms())};
    auto created = co_await insert(std::move(args), team, priority);
    if (!created) co_return from_outcome(created);
    announce("ticket.created", created.reply);
    o = co_await add_comment(ticket, actor.role, actor.user_id, "", true, *text.value, true);
  }
  if (!o) co_return from_outcome(o);
  json::object out;
  out["id"] = str_at(o.reply, 0);
  out["ticket_id"] = ticket;
  out["public"] = is_public;
  out["text"] = *text.value;
  if (!attachment.empty()) out["attachment"] = json::parse(attachment);
  out["ticket_status"] = str_at(o.reply, 3);
  co_return json_response(201, out);
}

asio::awaitable<void> Tickets::announce_created(std::string ticket_id) {
  auto& db = app_.db();
  auto rec = co_await db.cmd("HGETALL", db.key("ticket:" + ticket_id));
  if (rec && !rec.reply.elements.empty()) announce("ticket.created", rec.reply);
}

asio::awaitable<std::string> Tickets::customer_message(std::string ticket_id, std::string conversation_id,
                                                       std::string visitor_id, std::string visitor_name,
                                                       std::string text, bool mirror) {
  auto o = co_await add_comment(ticket_id, core::Role::customer, visitor_id, visitor_name, true, text, mirror);
  if (o) co_return ticket_id;
  if (o.error != error::conflict) co_return std::string();
  auto& db = app_.db();
  auto old = co_await db.cmd("HGETALL", db.key("ticket:" + ticket_id));
  auto id = random_id("t_");
  auto subject = "Follow-up: " + utf8_prefix(field(old.reply, "subject"), max_subject - 12);
  std::string team(field(old.reply, "team")), priority(field(old.reply, "priority"));
  std::vector<std::string> args{id, subject, visitor_id, visitor_name, "new", priority, team, "", "", "chat",
                                conversation_id, ticket_id, "customer:" + visitor_id, std::to_string(now_ms())};
  auto created = co_await insert(std::move(args), team, priority);
  if (!created) co_return std::string();
  announce("ticket.created", created.reply);
  auto c = co_await add_comment(id, core::Role::customer, visitor_id, visitor_name, true, text, mirror);
  co_return c ? id : std::string();
}

// Newest first (by creation, or by last update with sort=updated); the
// cursor is the last item's "<score>:<id>", so tickets created meanwhile
// never shift a page when sorted by creation.
asio::awaitable<net::HttpResponse> Tickets::list(Actor const& actor, Query const& query) {
  auto& db = app_.db();
  auto limit = parse_number(query_value(query, "limit").empty() ? "50" : query_value(query, "limit"), 1, 200);
  if (!limit) co_return error_response(error::bad_request, "limit must be 1..200");
  auto sort = query_value(query, "sort").empty() ? std::string("created") : query_value(query, "sort");
  if (sort != "created" && sort != "updated") co_return error_response(error::bad_request, "sort must be created or updated");
  std::string since = "-inf";
  if (auto s = query_value(query, "updated_since"); !s.empty()) {
    auto t = parse_number(s, 0, 1LL << 53);
    auto parsed = t ? std::optional<core::Millis>(*t) : core::parse_rfc3339(s);
    if (!parsed) co_return error_response(error::bad_request, "updated_since must be ms since the epoch or an RFC 3339 time");
    since = std::to_string(*parsed);
  }
  std::string status = query_value(query, "status"), priority = query_value(query, "priority"),
              assignee = query_value(query, "assignee"), team = query_value(query, "team"),
              tag = query_value(query, "tag"), requester = query_value(query, "requester");
  if (assignee == "me") assignee = actor.user_id;
  if (!status.empty() && !core::parse_ticket_status(status)) co_return error_response(error::bad_request, "unknown status");
  if (!priority.empty() && !core::parse_priority(priority)) co_return error_response(error::bad_request, "unknown priority");

  std::string key = actor.role == core::Role::customer ? db.key("visitor:" + actor.user_id + ":tickets")
                    : sort == "updated"                ? db.key("tickets:updated")
                                                       : db.key("tickets");
  std::string max_score = "+inf", after_id;
  if (auto c = query_value(query, "cursor"); !c.empty()) {
    auto colon = c.find(':');
    if (colon == std::string::npos || !parse_number(c.substr(0, colon), 0, 1LL << 53))
      co_return error_response(error::bad_request, "malformed cursor");
    max_score = c.substr(0, colon);
    after_id = c.substr(colon + 1);
  }
  std::string min_score = sort == "updated" ? since : "-inf";
  json::array items;
  std::optional<std::string> next;
  bool exhausted = false;
  std::size_t scanned = 0;
  while (items.size() < static_cast<std::size_t>(*limit) && !exhausted && scanned < 5000) {
    auto page = co_await db.cmd("ZREVRANGEBYSCORE", key, max_score, min_score, "WITHSCORES", "LIMIT", "0", "100");
    if (!page) co_return from_outcome(page);
    auto const& e = page.reply.elements;
    exhausted = e.size() < 200;
    bool progressed = false;
    for (std::size_t i = 0; i + 1 < e.size() && items.size() < static_cast<std::size_t>(*limit); i += 2) {
      auto const& id = e[i].str;
      auto const& score = e[i + 1].str;
      if (score == max_score && !after_id.empty() && id >= after_id) continue;  // up to the cursor
      progressed = true;
      ++scanned;
      max_score = score;
      after_id = id;
      auto rec = co_await visible(actor, id);
      if (!rec) continue;
      auto const& r = rec.reply;
      auto f = [&](std::string_view n) { return field(r, n); };
      if ((!status.empty() && f("status") != status) || (!priority.empty() && f("priority") != priority) ||
          (!team.empty() && f("team") != team) || (!requester.empty() && f("requester") != requester) ||
          (!tag.empty() && !in_csv(f("tags"), tag)) ||
          (!assignee.empty() && f("assignee") != (assignee == "none" ? std::string_view() : std::string_view(assignee))) ||
          (since != "-inf" && to_int(f("updated_at")) < to_int(since)))
        continue;
      items.push_back(to_json(r));
      next = score + ":" + id;
    }
    if (!progressed) break;
  }
  if (exhausted && items.size() < static_cast<std::size_t>(*limit)) next.reset();
  json::object out;
  out["items"] = std::move(items);
  out["next_cursor"] = next ? json::value(*next) : json::value(nullptr);
  co_return json_response(200, out);
}

}  // namespace exceed::app
