// The REST API of tickets (PROTOCOL.md, /api/v1/tickets): each request's
// body and query read and checked here, then the steps of app/tickets.cpp.
#include "app/tickets.hpp"

#include "app/auth.hpp"
#include "app/wire.hpp"
#include "core/schedule.hpp"
#include "core/ticket.hpp"
#include "protocol/codec.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;
using protocol::error;

namespace {

constexpr std::size_t max_subject = 200;
constexpr std::size_t max_tags = 20;
constexpr int max_stream_items = 1000;  // comments or timeline entries in one answer
constexpr int index_page = 100;         // index entries read per round of a list
constexpr std::size_t max_scanned = 5000;

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

constexpr std::string_view bad_tags = "tags must be up to 20 strings of 1-64 characters without commas";
constexpr std::string_view bad_priority = "priority must be low, normal, high or urgent";

bool refused_as(store::Failure const& f, core::Refusal r) {
  return f.kind == store::Failure::Kind::refused && f.refusal == r;
}

// POST /tickets, read and checked before anything is written.
struct NewTicketRequest {
  std::string subject;
  std::string requester;
  std::optional<std::string> team;
  std::optional<std::string> assignee;
  std::optional<std::string> conversation;
  core::Priority priority = core::Priority::normal;
  std::string tags;
  std::optional<std::string> first_comment;
  bool first_public = true;
};

// The request, or the answer that refuses it.
struct Parsed {
  NewTicketRequest request;
  std::optional<net::HttpResponse> refused;
};

Parsed parse_new_ticket(Actor const& actor, json::object const& body) {
  Parsed p;
  auto refuse = [&p](error code, std::string_view why) {
    p.refused = error_response(code, why);
    return std::move(p);
  };
  auto subject = text_field(body, "subject", max_subject * 4);
  auto requester = text_field(body, "requester_id", protocol::max_id_chars);
  auto team = text_field(body, "team", protocol::max_id_chars);
  auto assignee = text_field(body, "assignee_id", protocol::max_id_chars);
  auto conv = text_field(body, "conversation_id", protocol::max_id_chars);
  auto priority_text = text_field(body, "priority", 16);
  for (auto const* t : {&subject, &requester, &team, &assignee, &conv, &priority_text})
    if (!t->problem.empty()) return refuse(error::bad_request, t->problem);
  bool customer = actor.role == core::Role::customer;
  auto priority = core::parse_priority(priority_text.value.value_or("normal"));
  if (!priority) return refuse(error::bad_request, bad_priority);
  auto& r = p.request;
  r.priority = *priority;
  if (body.contains("tags")) {
    auto csv = tags_csv(body.if_contains("tags"));
    if (!csv) return refuse(error::bad_request, bad_tags);
    r.tags = *csv;
  }
  r.requester = customer ? actor.user_id : requester.value.value_or("");
  r.subject = subject.value.value_or("");
  r.team = team.value;
  r.assignee = assignee.value;
  r.conversation = conv.value;
  if (auto const* c = body.if_contains("comment")) {
    if (!c->is_object()) return refuse(error::bad_request, "comment must be an object {text, public?}");
    auto text = text_field(c->get_object(), "text", protocol::max_text_bytes);
    if (!text.value)
      return refuse(text.problem.find("too long") != std::string::npos ? error::too_large : error::bad_request,
                    text.problem.empty() ? "comment.text is required" : "comment." + text.problem);
    auto const* pub = c->get_object().if_contains("public");
    if (pub && !pub->is_bool()) return refuse(error::bad_request, "comment.public must be true or false");
    r.first_comment = text.value;
    r.first_public = customer || !pub || pub->get_bool();
  }
  if (r.conversation && customer) return refuse(error::forbidden, "agents turn conversations into tickets");
  return p;
}

// PATCH /tickets/{id}: the changes asked, checked against the ticket's
// status now (core's transitions); the answer that refuses them, if any.
std::optional<net::HttpResponse> read_changes(json::object const& body, store::Ticket const& now,
                                              store::TicketChange& c) {
  if (auto s = text_field(body, "status", 16); s.value || !s.problem.empty()) {
    auto to = core::parse_ticket_status(s.value.value_or(""));
    if (!to) return error_response(error::bad_request, "status must be new, open, pending, on_hold, solved or closed");
    if (!core::can_change(now.status, *to))
      return error_response(error::conflict, "a ticket cannot go from " + std::string(core::to_string(now.status)) +
                                                 " to " + *s.value +
                                                 (now.status == core::TicketStatus::closed ? " (closed is final)" : ""));
    c.status = *to;
  }
  if (auto p = text_field(body, "priority", 16); p.value || !p.problem.empty()) {
    if (!core::parse_priority(p.value.value_or(""))) return error_response(error::bad_request, bad_priority);
    c.priority = *p.value;
  }
  auto team = text_field(body, "team", protocol::max_id_chars);
  if (!team.problem.empty()) return error_response(error::bad_request, team.problem);
  c.team = team.value;
  auto subject = text_field(body, "subject", max_subject * 4);
  if (!subject.problem.empty()) return error_response(error::bad_request, subject.problem);
  c.subject = subject.value;
  if (auto const* a = body.if_contains("assignee_id")) {
    if (!a->is_null() && !a->is_string())
      return error_response(error::bad_request, "assignee_id must be a string or null");
    c.assignee = a->is_null() ? std::string() : std::string(a->get_string());
  }
  if (body.contains("tags")) {
    auto csv = tags_csv(body.if_contains("tags"));
    if (!csv) return error_response(error::bad_request, bad_tags);
    c.tags_csv = *csv;
  }
  if (now.status == core::TicketStatus::closed && !c.empty())
    return error_response(error::conflict, "a closed ticket cannot change");
  return std::nullopt;
}

// GET /tickets filters; an empty one matches all.
struct TicketFilter {
  std::optional<core::TicketStatus> status;
  std::string priority, team, requester, tag;
  std::optional<std::string> assignee;  // "" = none
  std::optional<core::Millis> updated_since;

  bool matches(store::Ticket const& t) const {
    return (!status || t.status == *status) && (priority.empty() || t.priority == priority) &&
           (team.empty() || t.team == team) && (requester.empty() || t.requester == requester) &&
           (tag.empty() || std::find(t.tags.begin(), t.tags.end(), tag) != t.tags.end()) &&
           (!assignee || t.assignee == *assignee) && (!updated_since || t.updated_at >= *updated_since);
  }
};

}  // namespace

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
    if (!rec) co_return from_failure(rec.failure());
    co_return json_response(200, to_json(*rec));
  }
  if (sub == "/comments" && method == "POST") co_return co_await comment(actor, id, body);
  if ((sub == "/comments" || sub == "/events") && method == "GET") co_return co_await read_stream(actor, id, sub);
  co_return error_response(error::not_found, "no such endpoint");
}

// GET /tickets/{id}/comments (customers: the public ones) and /events (the
// timeline, agents only).
asio::awaitable<net::HttpResponse> Tickets::read_stream(Actor const& actor, std::string const& id,
                                                        std::string const& which) {
  auto rec = co_await visible(actor, id);
  if (!rec) co_return from_failure(rec.failure());
  bool customer = actor.role == core::Role::customer;
  json::array items;
  if (which == "/events") {
    if (customer) co_return error_response(error::forbidden, "the timeline is for agents");
    auto entries = co_await d_.store.timeline(id, max_stream_items);
    if (!entries) co_return from_failure(entries.failure());
    for (std::size_t i = 0; i < entries->size(); ++i) {
      auto const& e = (*entries)[i];
      items.push_back(json::object{{"id", e.id}, {"ts", e.ts}, {"actor", e.actor}, {"what", e.what},
                                   {"from", e.from}, {"to", e.to}});
    }
  } else {
    auto entries = co_await d_.store.comments(id, max_stream_items);
    if (!entries) co_return from_failure(entries.failure());
    for (std::size_t i = 0; i < entries->size(); ++i) {
      auto const& e = (*entries)[i];
      if (customer && !e.is_public) continue;  // private notes never reach customers
      json::object author{{"role", e.role}, {"id", e.author_id}, {"name", e.author_name}};
      json::object item{{"id", e.id}, {"ts", e.ts}, {"public", e.is_public}, {"author", std::move(author)},
                        {"text", e.text}};
      if (!e.attachment.empty()) {
        std::error_code ec;
        if (auto file = json::parse(e.attachment, ec); !ec && file.is_object()) item["attachment"] = std::move(file);
      }
      items.push_back(std::move(item));
    }
  }
  json::object out;
  out["items"] = std::move(items);
  out["next_cursor"] = nullptr;
  co_return json_response(200, out);
}

asio::awaitable<std::optional<net::HttpResponse>> Tickets::customer_ticket_allowance(std::string const& customer) {
  auto v = co_await d_.hooks.new_ticket_allowed(customer);
  if (!v.refused()) co_return std::nullopt;
  if (!v.failure && d_.hooks.rate_limited) d_.hooks.rate_limited("tickets");
  co_return refusal(v, "too many new tickets: please wait before opening another");
}

// POST /tickets: by a customer, by an agent for a customer, or an agent
// turning a conversation into a ticket (it keeps its history and customer,
// and leaves the agent's chats). The chat ends first (only its agent or a
// supervisor may end it), so a refused step leaves no ticket behind.
asio::awaitable<net::HttpResponse> Tickets::create(Actor const& actor, json::object const& body) {
  auto parsed = parse_new_ticket(actor, body);
  if (parsed.refused) co_return std::move(*parsed.refused);
  auto const& r = parsed.request;
  store::NewTicket t;
  t.subject = r.subject;
  t.requester = r.requester;
  t.team = r.team.value_or(d_.config.routing.default_team);
  if (r.conversation) {
    auto chat = co_await d_.conversations.view(*r.conversation, actor);
    if (!chat) co_return from_failure(chat.failure());
    if (!chat->ticket.empty()) co_return error_response(error::conflict, "the conversation already has a ticket");
    t.requester = chat->visitor;
    if (!r.team) t.team = chat->team;
    if (t.subject.empty()) t.subject = utf8_prefix(chat->fields.text("preview"), max_subject);
  }
  if (t.subject.empty()) co_return error_response(error::bad_request, "a ticket needs a subject");
  bool customer = actor.role == core::Role::customer;
  if (customer && r.assignee) co_return error_response(error::forbidden, "customers cannot assign tickets");
  if (customer) {
    if (auto limit = co_await customer_ticket_allowance(actor.user_id)) co_return std::move(*limit);
  }

  t.id = random_id("t_");
  t.now = d_.clock.now();
  std::optional<store::Resolved> ended;
  if (r.conversation) {
    auto done = co_await d_.conversations.resolve(*r.conversation, actor, t.now, true);
    if (!done) co_return from_failure(done.failure());
    ended = std::move(*done);
  }
  t.status = r.assignee ? core::TicketStatus::open : core::TicketStatus::fresh;
  t.priority = core::to_string(r.priority);
  t.assignee = r.assignee.value_or("");
  t.tags_csv = r.tags;
  t.via = r.conversation ? "chat" : customer ? "web" : "agent";
  t.conversation = r.conversation.value_or("");
  t.actor = actor.role_name() + ":" + actor.user_id;
  auto created = co_await insert(t);
  if (!created) co_return from_failure(created.failure());
  announce("ticket.created", *created);
  if (r.assignee) announce("ticket.assigned", *created);
  if (ended) announce_ticketed(*r.conversation, t.id, *ended);
  if (r.first_comment) {
    store::TicketComment first;
    first.ticket_id = t.id;
    first.by_customer = customer;
    first.author = actor.user_id;
    first.is_public = r.first_public;
    first.text = *r.first_comment;
    co_await add_comment(first);
  }
  auto fresh = co_await d_.store.get(t.id);
  co_return json_response(201, to_json(fresh && *fresh ? **fresh : *created));
}

asio::awaitable<net::HttpResponse> Tickets::update(Actor const& actor, std::string const& id,
                                                   json::object const& body) {
  if (actor.role == core::Role::customer) co_return error_response(error::forbidden, "customers cannot change tickets");
  auto rec = co_await visible(actor, id);
  if (!rec) co_return from_failure(rec.failure());
  store::TicketChange c;
  c.id = id;
  c.actor = actor.role_name() + ":" + actor.user_id;
  c.expected = rec->status;
  c.now = d_.clock.now();
  if (auto refused = read_changes(body, *rec, c)) co_return std::move(*refused);
  auto updated = co_await d_.store.update(c);
  if (!updated) co_return from_failure(updated.failure());
  auto const& ticket = updated->ticket;
  json::array changes;
  bool reassigned = false;
  for (std::size_t i = 0; i < updated->changes.size(); ++i) {
    auto const& ch = updated->changes[i];
    changes.push_back(json::object{{"field", ch.field}, {"from", ch.from}, {"to", ch.to}});
    reassigned = reassigned || ch.field == "assignee";
  }
  if (!changes.empty()) {
    json::object extra;
    extra["changes"] = changes;
    announce(reassigned ? "ticket.assigned" : "ticket.updated", ticket, std::move(extra));
  }
  if (ticket.status == core::TicketStatus::solved && !changes.empty()) {
    co_await d_.hooks.assess(id, "solved");
    auto fresh = co_await d_.store.get(id);
    if (fresh && *fresh) co_return json_response(200, to_json(**fresh));
  }
  co_return json_response(200, to_json(ticket));
}

asio::awaitable<net::HttpResponse> Tickets::comment(Actor const& actor, std::string const& id,
                                                    json::object const& body) {
  auto rec = co_await visible(actor, id);
  if (!rec) co_return from_failure(rec.failure());
  auto text = text_field(body, "text", protocol::max_text_bytes);
  if (!text.problem.empty() && text.problem.find("too long") != std::string::npos)
    co_return error_response(error::too_large, text.problem);
  if (!text.value) co_return error_response(error::bad_request, text.problem.empty() ? "text is required" : text.problem);
  auto const* pub = body.if_contains("public");
  if (pub && !pub->is_bool()) co_return error_response(error::bad_request, "public must be true or false");
  bool is_public = !pub || pub->get_bool();
  bool customer = actor.role == core::Role::customer;
  if (customer && !is_public) co_return error_response(error::forbidden, "customers write public replies only");
  store::TicketComment c;
  c.ticket_id = id;
  c.by_customer = customer;
  c.author = actor.user_id;
  c.is_public = is_public;
  c.text = *text.value;
  // A file uploaded to this ticket by the author (POST /api/v1/attachments?ticket_id=).
  if (auto const* a = body.if_contains("attachment_id"); a && !a->is_null()) {
    if (!a->is_string() || a->get_string().empty() || a->get_string().size() > protocol::max_id_chars)
      co_return error_response(error::bad_request, "attachment_id must be an id");
    if (!d_.hooks.attachment) co_return error_response(error::bad_request, "attachments are off");
    auto file = co_await d_.hooks.attachment(actor, std::string(a->get_string()), id);
    if (!file) co_return from_failure(file.failure());
    c.attachment = std::move(*file);
  }
  auto o = co_await add_comment(c);
  if (!o && customer && refused_as(o.failure(), core::Refusal::conflict)) {
    // Closed is final: the customer's new message opens a follow-up ticket.
    if (auto limit = co_await customer_ticket_allowance(actor.user_id)) co_return std::move(*limit);
    auto created = co_await follow_up(*rec, actor.user_id, "", "web");
    if (!created) co_return from_failure(created.failure());
    c.ticket_id = created->id;
    c.is_public = true;
    o = co_await add_comment(c);
  }
  if (!o) co_return from_failure(o.failure());
  json::object out;
  out["id"] = o->comment_id;
  out["ticket_id"] = c.ticket_id;
  out["public"] = is_public;
  out["text"] = *text.value;
  if (!c.attachment.empty()) {
    std::error_code ec;
    if (auto file = json::parse(c.attachment, ec); !ec && file.is_object()) out["attachment"] = std::move(file);
  }
  out["ticket_status"] = core::to_string(o->status);
  co_return json_response(201, out);
}

// Newest first (by creation, or by last update with sort=updated); the
// cursor is the last item's "<score>:<id>", so tickets created meanwhile
// never shift a page when sorted by creation.
asio::awaitable<net::HttpResponse> Tickets::list(Actor const& actor, Query const& query) {
  auto limit = parse_number(query_value(query, "limit").empty() ? "50" : query_value(query, "limit"), 1, 200);
  if (!limit) co_return error_response(error::bad_request, "limit must be 1..200");
  auto sort = query_value(query, "sort").empty() ? std::string("created") : query_value(query, "sort");
  if (sort != "created" && sort != "updated") co_return error_response(error::bad_request, "sort must be created or updated");
  TicketFilter filter;
  std::string since = "-inf";
  if (auto s = query_value(query, "updated_since"); !s.empty()) {
    auto t = parse_number(s, 0, 1LL << 53);
    auto parsed = t ? std::optional<core::Millis>(*t) : core::parse_rfc3339(s);
    if (!parsed) co_return error_response(error::bad_request, "updated_since must be ms since the epoch or an RFC 3339 time");
    since = std::to_string(*parsed);
    filter.updated_since = *parsed;
  }
  if (auto status = query_value(query, "status"); !status.empty()) {
    filter.status = core::parse_ticket_status(status);
    if (!filter.status) co_return error_response(error::bad_request, "unknown status");
  }
  filter.priority = query_value(query, "priority");
  if (!filter.priority.empty() && !core::parse_priority(filter.priority))
    co_return error_response(error::bad_request, "unknown priority");
  filter.team = query_value(query, "team");
  filter.tag = query_value(query, "tag");
  filter.requester = query_value(query, "requester");
  if (auto assignee = query_value(query, "assignee"); !assignee.empty())
    filter.assignee = assignee == "me" ? actor.user_id : assignee == "none" ? std::string() : assignee;

  store::TicketIndexPage page;
  page.index = actor.role == core::Role::customer ? store::TicketIndexPage::Index::of_customer
               : sort == "updated"                ? store::TicketIndexPage::Index::updated
                                                  : store::TicketIndexPage::Index::created;
  page.customer = actor.user_id;
  page.limit = index_page;
  std::string after_id;
  if (auto c = query_value(query, "cursor"); !c.empty()) {
    auto colon = c.find(':');
    if (colon == std::string::npos || !parse_number(c.substr(0, colon), 0, 1LL << 53))
      co_return error_response(error::bad_request, "malformed cursor");
    page.max_score = c.substr(0, colon);
    after_id = c.substr(colon + 1);
  }
  if (sort == "updated") page.min_score = since;
  json::array items;
  std::optional<std::string> next;
  bool exhausted = false;
  std::size_t scanned = 0;
  auto const wanted = static_cast<std::size_t>(*limit);
  while (items.size() < wanted && !exhausted && scanned < max_scanned) {
    auto ids = co_await d_.store.page(page);
    if (!ids) co_return from_failure(ids.failure());
    exhausted = ids->size() < static_cast<std::size_t>(index_page);
    bool progressed = false;
    for (std::size_t i = 0; i < ids->size() && items.size() < wanted; ++i) {
      auto const& entry = (*ids)[i];
      if (entry.score == page.max_score && !after_id.empty() && entry.id >= after_id) continue;  // up to the cursor
      progressed = true;
      ++scanned;
      page.max_score = entry.score;
      after_id = entry.id;
      auto rec = co_await visible(actor, entry.id);
      if (!rec || !filter.matches(*rec)) continue;
      items.push_back(to_json(*rec));
      next = entry.score + ":" + entry.id;
    }
    if (!progressed) break;
  }
  if (exhausted && items.size() < wanted) next.reset();
  json::object out;
  out["items"] = std::move(items);
  out["next_cursor"] = next ? json::value(*next) : json::value(nullptr);
  co_return json_response(200, out);
}

}  // namespace exceed::app
