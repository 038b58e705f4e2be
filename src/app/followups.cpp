#include "app/followups.hpp"

#include "app/app.hpp"
#include "app/assessments.hpp"
#include "app/client.hpp"
#include "store/scripts.hpp"
#include "app/tickets.hpp"
#include "core/schedule.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;
using protocol::error;

namespace {

constexpr auto fire_every = std::chrono::milliseconds(500);
constexpr int fire_batch = 200;

Outcome failure(error code, std::string message) {
  Outcome o;
  o.error = code;
  o.message = std::move(message);
  return o;
}

// Characters (code points) of UTF-8 text.
std::size_t characters(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

json::value or_null(std::string_view s) { return s.empty() ? json::value(nullptr) : json::value(s); }

// due_at in a JSON body: ms since the epoch, or an RFC 3339 string.
std::optional<core::Millis> due_from(json::value const* v) {
  if (!v) return std::nullopt;
  if (v->is_int64() && v->get_int64() >= 0) return v->get_int64();
  if (v->is_string()) return core::parse_rfc3339(v->get_string());
  return std::nullopt;
}

}  // namespace

Followups::Followups(App& app) : app_(app), periodic_(app, "followups") {}

void Followups::start() { periodic_.every(fire_every, this, &Followups::fire); }

void Followups::stop() { periodic_.stop(); }

asio::awaitable<void> Followups::fire() {
  auto& db = app_.db();
  auto o = co_await db.call(db.scripts().followup_fire, std::to_string(now_ms()), std::to_string(fire_batch));
  if (!o) co_return;
  for (std::size_t i = 0; i + 2 < o.reply.elements.size(); i += 3) {
    auto const& id = o.reply.elements[i].str;
    auto const& owner = o.reply.elements[i + 1].str;
    spdlog::info("follow-up {} due for {}", id, owner);
    if (o.reply.elements[i + 2].integer == 1) co_await send_due(id, owner);
  }
}

asio::awaitable<void> Followups::send_due(std::string id, std::string owner) {
  auto& db = app_.db();
  auto rec = co_await db.cmd("HGETALL", db.key("followup:" + id));
  if (!rec || rec.reply.elements.empty()) co_return;
  auto f = to_json(rec.reply, now_ms());
  json::object ev;
  ev["followup_id"] = id;
  if (!f["conversation_id"].is_null()) ev["conversation_id"] = f["conversation_id"];
  if (!f["ticket_id"].is_null()) ev["ticket_id"] = f["ticket_id"];
  ev["due_at"] = f["due_at"];
  ev["note"] = f["note"];
  ev["kind"] = f["kind"];
  ev["overdue_s"] = std::max<std::int64_t>(0, (now_ms() - f["due_at"].as_int64()) / 1000);
  app_.publish({"u:" + owner}, protocol::encode_event("followup.due", std::move(ev)));
}

asio::awaitable<void> Followups::deliver_pending(Client& client) {
  auto& db = app_.db();
  auto key = db.key("agent:" + client.user_id() + ":due_pending");
  auto pending = co_await db.cmd("SMEMBERS", key);
  for (auto const& id : pending.reply.elements) {
    co_await send_due(id.str, client.user_id());
    co_await db.cmd("SREM", key, id.str);
  }
}

asio::awaitable<Outcome> Followups::create(Actor const& actor, NewFollowup f) {
  if (actor.role == core::Role::customer) co_return failure(error::forbidden, "customers have no follow-ups");
  if (f.conversation_id.empty() == f.ticket_id.empty())
    co_return failure(error::bad_request, "give exactly one of conversation_id and ticket_id");
  auto now = now_ms();
  switch (core::check_due(f.due_at, now)) {
    case core::DueProblem::in_the_past: co_return failure(error::bad_request, "due_at is in the past");
    case core::DueProblem::too_far: co_return failure(error::bad_request, "due_at is more than three years ahead");
    case core::DueProblem::none: break;
  }
  if (f.note.empty()) co_return failure(error::bad_request, "a follow-up needs a note");
  auto& db = app_.db();
  if (!f.ticket_id.empty()) {
    auto ticket = co_await app_.tickets().visible(actor, f.ticket_id);
    if (!ticket) co_return ticket;
  }
  if (!f.conversation_id.empty()) {
    auto access = co_await db.call(db.scripts().access, f.conversation_id, actor.role_name(), actor.user_id,
                                   actor.teams_csv);
    if (!access) co_return access;
  }
  std::string owner = f.owner_id.empty() ? actor.user_id : f.owner_id;
  auto id = random_id("f_");
  co_return co_await db.call(db.scripts().followup_create, id, owner, actor.user_id, f.conversation_id, f.ticket_id,
                             std::to_string(f.due_at), f.kind, f.note, std::to_string(now));
}

asio::awaitable<Outcome> Followups::finish(Actor const& actor, std::string id, std::string status) {
  auto& db = app_.db();
  co_return co_await db.call(db.scripts().followup_finish, id, actor.user_id, actor.role_name(), status,
                             std::to_string(now_ms()));
}

asio::awaitable<void> Followups::after_resolve(std::string conversation_id, std::string agent_id, std::string stage) {
  auto const& cfg = app_.config().followups;
  if (cfg.check_in_after_s <= 0 || agent_id.empty()) co_return;
  if (!cfg.check_in_stages.empty() &&
      std::find(cfg.check_in_stages.begin(), cfg.check_in_stages.end(), stage) == cfg.check_in_stages.end())
    co_return;
  NewFollowup f;
  f.conversation_id = conversation_id;
  f.due_at = now_ms() + cfg.check_in_after_s * 1000LL;
  f.note = cfg.check_in_note;
  f.kind = "check_in";
  Actor agent{core::Role::agent, agent_id, ""};
  auto o = co_await create(agent, f);
  if (!o) spdlog::warn("follow-ups: no check-in for {}: {}", conversation_id, o.message);
}

asio::awaitable<void> Followups::check_in(std::string conversation_id, std::string agent_id) {
  auto const& cfg = app_.config().followups;
  if (cfg.check_in_after_s <= 0 || agent_id.empty()) co_return;
  auto& db = app_.db();
  auto existing = co_await db.cmd("SMEMBERS", db.key("conv:" + conversation_id + ":followups"));
  for (auto const& id : existing.reply.elements) {
    auto kind = co_await db.cmd("HGET", db.key("followup:" + id.str), "kind");
    if (kind.reply.str == "check_in") co_return;
  }
  NewFollowup f;
  f.conversation_id = conversation_id;
  f.due_at = now_ms() + cfg.check_in_after_s * 1000LL;
  f.note = "Check in: am I exceeding your needs? The chat gave nothing to judge it by.";
  f.kind = "check_in";
  Actor agent{core::Role::agent, agent_id, ""};
  auto o = co_await create(agent, f);
  if (!o) spdlog::warn("follow-ups: no check-in for {}: {}", conversation_id, o.message);
}

json::object Followups::to_json(store::Reply const& flat, core::Millis now) {
  auto f = [&](std::string_view name) { return field(flat, name); };
  json::object j;
  j["id"] = f("id");
  j["conversation_id"] = or_null(f("conversation_id"));
  j["ticket_id"] = or_null(f("ticket_id"));
  j["owner_id"] = f("owner");
  j["created_by"] = f("created_by");
  j["due_at"] = to_int(f("due_at"));
  j["kind"] = f("kind");
  j["note"] = f("note");
  j["status"] = f("status");
  j["created_at"] = to_int(f("created_at"));
  j["fired"] = f("fired") == "1";
  j["overdue"] = f("status") == "open" && to_int(f("due_at")) <= now;
  j["done_at"] = f("done_at").empty() ? json::value(nullptr) : json::value(to_int(f("done_at")));
  j["done_by"] = or_null(f("done_by"));
  return j;
}

// ------------------------------------------------------------------ HTTP

asio::awaitable<net::HttpResponse> Followups::http(Actor actor, std::string method, std::string rest, Query query,
                                                   json::object body) {
  if (actor.role == core::Role::customer) co_return error_response(error::forbidden, "customers have no follow-ups");
  auto& db = app_.db();
  if (rest.empty() || rest == "/") {
    if (method == "GET") co_return co_await list(actor, query);
    if (method != "POST") co_return error_response(error::bad_request, "use GET or POST");
    NewFollowup f;
    auto text = [&](std::string_view key) -> std::string {
      auto const* v = body.if_contains(key);
      return v && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    f.conversation_id = text("conversation_id");
    f.ticket_id = text("ticket_id");
    f.note = text("note");
    f.owner_id = text("owner_id");
    if (auto kind = text("kind"); !kind.empty()) f.kind = kind;
    auto due = due_from(body.if_contains("due_at"));
    if (!due) co_return error_response(error::bad_request, "due_at must be ms since the epoch or an RFC 3339 time");
    f.due_at = *due;
    if (characters(f.note) > protocol::max_note_chars)
      co_return error_response(error::too_large, "note is longer than 2000 characters");
    if (characters(f.kind) > protocol::max_kind_chars)
      co_return error_response(error::bad_request, "kind is longer than 64 characters");
    auto o = co_await create(actor, f);
    if (!o) co_return from_outcome(o);
    co_return json_response(201, to_json(o.reply, now_ms()));
  }
  if (rest == "/stats") {
    auto now = std::to_string(now_ms());
    std::string key = actor.role == core::Role::supervisor ? db.key("followups:open")
                                                           : db.key("agent:" + actor.user_id + ":followups");
    auto open = co_await db.cmd("ZCARD", key);
    auto overdue = co_await db.cmd("ZCOUNT", key, "-inf", now);
    if (!open) co_return from_outcome(open);
    json::object out;
    out["open"] = open.reply.integer;
    out["overdue"] = overdue.reply.integer;
    co_return json_response(200, out);
  }
  // /{id}, /{id}/complete, /{id}/cancel
  auto slash = rest.find('/', 1);
  std::string id = rest.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  std::string action = slash == std::string::npos ? "" : rest.substr(slash);
  if (id.empty() || id.size() > protocol::max_id_chars) co_return error_response(error::not_found, "no such follow-up");
  if (action == "/complete" || action == "/cancel") {
    if (method != "POST") co_return error_response(error::bad_request, "use POST");
    auto o = co_await finish(actor, id, action == "/complete" ? "done" : "cancelled");
    if (!o) co_return from_outcome(o);
    if (auto conv = field(o.reply, "conversation_id"); action == "/complete" && !conv.empty())
      co_await app_.assessments().assess(std::string(conv), "followup_done");
    co_return json_response(200, to_json(o.reply, now_ms()));
  }
  if (!action.empty()) co_return error_response(error::not_found, "no such endpoint");
  if (method == "GET") {
    auto rec = co_await db.cmd("HGETALL", db.key("followup:" + id));
    if (!rec) co_return from_outcome(rec);
    if (rec.reply.elements.empty()) co_return error_response(error::not_found, "no such follow-up");
    if (actor.role != core::Role::supervisor && field(rec.reply, "owner") != actor.user_id &&
        field(rec.reply, "created_by") != actor.user_id)
      co_return error_response(error::forbidden, "not your follow-up");
    co_return json_response(200, to_json(rec.reply, now_ms()));
  }
  if (method == "PATCH") {
    std::string due, owner, set_note = "0", note;
    if (body.contains("due_at")) {
      auto d = due_from(body.if_contains("due_at"));
      if (!d) co_return error_response(error::bad_request, "due_at must be ms since the epoch or an RFC 3339 time");
      if (core::check_due(*d, now_ms()) != core::DueProblem::none)
        co_return error_response(error::bad_request, "due_at is in the past or too far ahead");
      due = std::to_string(*d);
    }
    if (auto const* o = body.if_contains("owner_id")) {
      if (!o->is_string()) co_return error_response(error::bad_request, "owner_id must be a string");
      owner = std::string(o->get_string());
    }
    if (auto const* n = body.if_contains("note")) {
      if (!n->is_string() || n->get_string().empty() || n->get_string().size() > protocol::max_note_chars * 4)
        co_return error_response(error::bad_request, "note must be a non-empty string");
      set_note = "1";
      note = std::string(n->get_string());
    }
    auto o = co_await db.call(db.scripts().followup_update, id, actor.user_id, actor.role_name(), due, owner,
                              set_note, note, std::to_string(now_ms()));
    if (!o) co_return from_outcome(o);
    co_return json_response(200, to_json(o.reply, now_ms()));
  }
  co_return error_response(error::bad_request, "use GET or PATCH");
}

// Lists follow-ups by due time, soonest first. Agents see theirs (owner);
// supervisors everybody's or one owner's. `status` open (default) or all
// states via `status=done|cancelled` (those come from the conversation or
// ticket index). The cursor is the last item's "<due_at>:<id>".
asio::awaitable<net::HttpResponse> Followups::list(Actor const& actor, Query const& query) {
  auto& db = app_.db();
  auto now = now_ms();
  auto limit = parse_number(query_value(query, "limit").empty() ? "50" : query_value(query, "limit"), 1, 200);
  if (!limit) co_return error_response(error::bad_request, "limit must be 1..200");
  std::string status = query_value(query, "status").empty() ? "open" : query_value(query, "status");
  if (status != "open" && status != "done" && status != "cancelled" && status != "any")
    co_return error_response(error::bad_request, "status must be open, done, cancelled or any");
  std::string owner = query_value(query, "owner");
  if (owner == "me" || (owner.empty() && actor.role == core::Role::agent)) owner = actor.user_id;
  if (actor.role == core::Role::agent && owner != actor.user_id)
    co_return error_response(error::forbidden, "agents list their own follow-ups");
  bool overdue = query_value(query, "overdue") == "true";
  auto ticket = query_value(query, "ticket_id");
  auto conv = query_value(query, "conversation_id");

  std::vector<store::Reply> records;
  bool paged = ticket.empty() && conv.empty();  // a ticket's or conversation's few follow-ups come in one page
  if (!paged) {
    auto set = ticket.empty() ? db.key("conv:" + conv + ":followups") : db.key("ticket:" + ticket + ":followups");
    auto ids = co_await db.cmd("SMEMBERS", set);
    if (!ids) co_return from_outcome(ids);
    for (auto const& id : ids.reply.elements) {
      auto rec = co_await db.cmd("HGETALL", db.key("followup:" + id.str));
      if (rec && !rec.reply.elements.empty()) records.push_back(std::move(rec.reply));
    }
  } else {
    if (status != "open")
      co_return error_response(error::bad_request, "closed follow-ups are listed by ticket_id or conversation_id");
    auto key = owner.empty() ? db.key("followups:open") : db.key("agent:" + owner + ":followups");
    std::string min = "-inf";
    std::string after_id;
    if (auto c = query_value(query, "cursor"); !c.empty()) {
      auto colon = c.find(':');
      if (colon == std::string::npos || !parse_number(c.substr(0, colon), 0, 1LL << 53))
        co_return error_response(error::bad_request, "malformed cursor");
      min = c.substr(0, colon);
      after_id = c.substr(colon + 1);
    }
    std::string max = overdue ? std::to_string(now) : "+inf";
    auto page = co_await db.cmd("ZRANGEBYSCORE", key, min, max, "WITHSCORES", "LIMIT", "0", std::to_string(*limit + 50));
    if (!page) co_return from_outcome(page);
    for (std::size_t i = 0; i + 1 < page.reply.elements.size(); i += 2) {
      auto const& id = page.reply.elements[i].str;
      if (page.reply.elements[i + 1].str == min && !after_id.empty() && id <= after_id) continue;
      auto rec = co_await db.cmd("HGETALL", db.key("followup:" + id));
      if (rec && !rec.reply.elements.empty()) records.push_back(std::move(rec.reply));
    }
  }
  json::array items;
  std::optional<std::string> next;
  std::sort(records.begin(), records.end(), [](auto const& a, auto const& b) {
    auto da = to_int(field(a, "due_at")), dbv = to_int(field(b, "due_at"));
    return da != dbv ? da < dbv : field(a, "id") < field(b, "id");
  });
  for (auto const& r : records) {
    if (status != "any" && field(r, "status") != status) continue;
    if (!owner.empty() && field(r, "owner") != owner) continue;
    if (overdue && !(field(r, "status") == "open" && to_int(field(r, "due_at")) <= now)) continue;
    if (items.size() == static_cast<std::size_t>(*limit)) {
      if (!paged) break;
      auto const& last = items.back().as_object();
      next = std::to_string(last.at("due_at").as_int64()) + ":" + std::string(last.at("id").as_string());
      break;
    }
    items.push_back(to_json(r, now));
  }
  json::object out;
  out["items"] = std::move(items);
  out["next_cursor"] = next ? json::value(*next) : json::value(nullptr);
  co_return json_response(200, out);
}

}  // namespace exceed::app
