#include "store/tickets.hpp"
#include "store/sla_args.hpp"

#include "store/decode.hpp"
#include "store/scripts.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <spdlog/spdlog.h>

namespace exceed::store {
namespace asio = boost::asio;
namespace {

// "a,b" -> {"a", "b"}; "" -> {}.
std::vector<std::string> split_tags(std::string_view csv) {
  std::vector<std::string> out;
  for (std::size_t start = 0; start < csv.size();) {
    auto comma = csv.find(',', start);
    auto end = comma == std::string_view::npos ? csv.size() : comma;
    out.emplace_back(csv.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Result<core::TicketStatus> status_of(std::string_view s, std::string_view what) {
  auto st = core::parse_ticket_status(s);
  if (!st) return Failure::protocol(std::string(what) + ": unknown ticket status '" + std::string(s) + "'");
  return *st;
}

// A script or command that answers with the record.
Result<Ticket> written(Result<Reply> r, std::string_view what) {
  if (!r) return r.failure();
  return ticket_of(*r, what);
}

// A stream entry: {id, {field, value, ...}}.
struct Entry {
  std::string id;
  Fields fields;
};
Result<std::vector<Entry>> entries_of(Result<Reply> r, std::string_view what) {
  if (!r) return r.failure();
  if (!r->is_array()) return Failure::protocol(std::string(what) + ": expected an array reply");
  std::vector<Entry> out;
  out.reserve(r->elements.size());
  for (std::size_t i = 0; i < r->elements.size(); ++i) {
    Row row(r->elements[i], what);
    Entry e;
    e.id = row.text();
    auto const& body = row.nested();
    if (!row.ok()) return row.failure();
    auto fields = Fields::read(body, what);
    if (!fields) return fields.failure();
    e.fields = std::move(*fields);
    out.push_back(std::move(e));
  }
  return out;
}

std::string index_key(Keys const& keys, TicketIndexPage const& p) {
  switch (p.index) {
    case TicketIndexPage::Index::created: break;
    case TicketIndexPage::Index::updated: return keys.tickets_updated();
    case TicketIndexPage::Index::of_customer: return keys.visitor_tickets(p.customer);
  }
  return keys.tickets();
}

}  // namespace

Result<Ticket> ticket_of(Reply const& flat, std::string_view what) {
  auto fields = Fields::read(flat, what);
  if (!fields) return fields.failure();
  auto const& f = *fields;
  if (!f.has("id") || !f.has("status")) return Failure::protocol(std::string(what) + ": not a ticket record");
  auto status = status_of(f.text("status"), what);
  if (!status) return status.failure();
  Ticket t;
  t.id = f.text("id");
  t.subject = f.text("subject");
  t.status = *status;
  t.priority = f.text("priority");
  t.team = f.text("team");
  t.requester = f.text("requester");
  t.requester_name = f.text("requester_name");
  t.assignee = f.text("assignee");
  t.assignee_name = f.text("assignee_name");
  t.tags = split_tags(f.text("tags"));
  t.via = f.text("via");
  t.conversation = f.text("conversation");
  t.follow_up_of = f.text("follow_up_of");
  t.created_at = f.integer("created_at");
  t.updated_at = f.integer("updated_at");
  t.solved_at = f.maybe_integer("solved_at");
  t.closed_at = f.maybe_integer("closed_at");
  t.assessment_json = f.text("assessment");
  t.times_json = f.text("times");
  t.sla_policy = f.text("sla_policy");
  return t;
}

asio::awaitable<Result<Ticket>> TicketStore::create(NewTicket const& t) {
  std::vector<std::string> args{t.id,
                                t.subject,
                                t.requester,
                                t.requester_name,
                                std::string(core::to_string(t.status)),
                                t.priority,
                                t.team,
                                t.assignee,
                                t.tags_csv,
                                t.via,
                                t.conversation,
                                t.follow_up_of,
                                t.actor,
                                std::to_string(t.now)};
  append_policy(args, t.sla, t.deadlines, t.now);
  co_return written(co_await db_.run(db_.scripts().ticket_create, std::move(args)), "ticket_create");
}

asio::awaitable<Result<TicketUpdated>> TicketStore::update(TicketChange const& c) {
  std::vector<std::string> args{c.id, c.actor, std::string(core::to_string(c.expected)), std::to_string(c.now)};
  // In this order: the timeline and the changes announced follow it.
  auto change = [&args](char const* field, std::optional<std::string> const& v) {
    if (!v) return;
    args.emplace_back(field);
    args.push_back(*v);
  };
  if (c.status) change("status", std::string(core::to_string(*c.status)));
  change("priority", c.priority);
  change("team", c.team);
  change("subject", c.subject);
  change("assignee", c.assignee);
  change("tags", c.tags_csv);
  auto r = co_await db_.run(db_.scripts().ticket_update, std::move(args));
  if (!r) co_return r.failure();
  Row row(*r, "ticket_update");
  auto const& record = row.nested();
  Row changes(row.nested(), "ticket_update changes");
  if (!row.ok()) co_return row.failure();
  auto ticket = ticket_of(record, "ticket_update");
  if (!ticket) co_return ticket.failure();
  TicketUpdated out;
  out.ticket = std::move(*ticket);
  while (changes.ok() && !changes.at_end()) {
    TicketUpdated::Change ch;
    ch.field = changes.text();
    ch.from = changes.text();
    ch.to = changes.text();
    out.changes.push_back(std::move(ch));
  }
  if (!changes.ok()) co_return changes.failure();
  co_return out;
}

asio::awaitable<Result<Commented>> TicketStore::comment(TicketComment const& c) {
  std::string role = c.by_customer ? "customer" : "agent";
  std::vector<std::string> args{c.ticket_id, role, c.author, c.author_name, c.is_public ? "1" : "0", c.text,
                                std::to_string(c.now), c.mirror ? "1" : "0", c.attachment};
  if (c.deadlines) append_deadlines(args, c.sla, *c.deadlines);
  auto r = co_await db_.run(db_.scripts().ticket_comment, std::move(args));
  if (!r) co_return r.failure();
  Row row(*r, "ticket_comment");
  Commented out;
  out.comment_id = row.text();
  out.seq = row.integer();
  out.visitor = row.text();
  auto status = row.text();
  auto previous = row.text();
  out.conversation = row.text();
  out.author_name = row.text();
  if (!row.ok()) co_return row.failure();
  if (out.seq < 0) {
    // Split (a Redis Cluster): the mirror goes to the conversation's talk
    // side now, keyed by the comment. The comment is stored already, so a
    // failure here is not the caller's to retry (that would post it twice):
    // the reply stands, without its copy in the chat.
    Db::TalkMessage mirror{out.conversation, "ticket:" + out.comment_id, role, c.author, out.author_name, c.text,
                           "ticket:" + out.comment_id, c.attachment, c.now, ""};
    auto seq = co_await db_.append_talk(std::move(mirror));
    if (!seq) spdlog::warn("store: ticket {} reply {} not mirrored into its chat: {}", c.ticket_id, out.comment_id,
                           seq.failure().message);
    out.seq = seq ? *seq : 0;
  }
  auto now_status = status_of(status, "ticket_comment");
  if (!now_status) co_return now_status.failure();
  auto before = status_of(previous, "ticket_comment");
  if (!before) co_return before.failure();
  out.status = *now_status;
  out.previous = *before;
  co_return out;
}

asio::awaitable<Result<std::vector<std::string>>> TicketStore::close_due(core::Millis now, core::Millis solved_before,
                                                                         int max) {
  auto r = co_await db_.call(db_.scripts().ticket_close_due, std::to_string(now), std::to_string(solved_before),
                             std::to_string(max));
  if (!r) co_return r.failure();
  Row row(*r, "ticket_close_due");
  std::vector<std::string> out;
  while (row.ok() && !row.at_end()) out.push_back(row.text());
  if (!row.ok()) co_return row.failure();
  co_return out;
}

asio::awaitable<Result<std::optional<Ticket>>> TicketStore::get(std::string const& id) {
  auto r = co_await db_.cmd("HGETALL", db_.keys().ticket(id));
  if (!r) co_return r.failure();
  if (r->is_array() && r->elements.empty()) co_return std::optional<Ticket>{};
  auto t = ticket_of(*r, "ticket");
  if (!t) co_return t.failure();
  co_return std::optional<Ticket>(std::move(*t));
}

asio::awaitable<Result<std::vector<TicketCommentEntry>>> TicketStore::comments(std::string const& id, int max) {
  auto entries = entries_of(co_await db_.cmd("XRANGE", db_.keys().ticket_comments(id), "-", "+", "COUNT",
                                             std::to_string(max)),
                            "ticket comments");
  if (!entries) co_return entries.failure();
  std::vector<TicketCommentEntry> out;
  out.reserve(entries->size());
  for (std::size_t i = 0; i < entries->size(); ++i) {
    auto const& f = (*entries)[i].fields;
    TicketCommentEntry c;
    c.id = (*entries)[i].id;
    c.ts = f.integer("ts");
    c.role = f.text("role");
    c.author_id = f.text("uid");
    c.author_name = f.text("name");
    c.is_public = f.text("public") == "1";
    c.text = f.text("text");
    c.attachment = f.text("att");
    out.push_back(std::move(c));
  }
  co_return out;
}

asio::awaitable<Result<std::vector<TimelineEntry>>> TicketStore::timeline(std::string const& id, int max) {
  auto entries = entries_of(co_await db_.cmd("XRANGE", db_.keys().ticket_events(id), "-", "+", "COUNT",
                                             std::to_string(max)),
                            "ticket timeline");
  if (!entries) co_return entries.failure();
  std::vector<TimelineEntry> out;
  out.reserve(entries->size());
  for (std::size_t i = 0; i < entries->size(); ++i) {
    auto const& f = (*entries)[i].fields;
    TimelineEntry e;
    e.id = (*entries)[i].id;
    e.ts = f.integer("ts");
    e.actor = f.text("actor");
    e.what = f.text("what");
    e.from = f.text("from");
    e.to = f.text("to");
    out.push_back(std::move(e));
  }
  co_return out;
}

asio::awaitable<Result<std::vector<Indexed>>> TicketStore::page(TicketIndexPage const& p) {
  auto r = co_await db_.cmd("ZREVRANGEBYSCORE", index_key(db_.keys(), p), p.max_score, p.min_score, "WITHSCORES",
                            "LIMIT", "0", std::to_string(p.limit));
  if (!r) co_return r.failure();
  Row row(*r, "ticket index");
  std::vector<Indexed> out;
  while (row.ok() && !row.at_end()) {
    Indexed i;
    i.id = row.text();
    i.score = row.text();
    out.push_back(std::move(i));
  }
  if (!row.ok()) co_return row.failure();
  co_return out;
}

}  // namespace exceed::store
