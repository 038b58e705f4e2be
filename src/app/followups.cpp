#include "app/followups.hpp"

#include "app/auth.hpp"
#include "app/client.hpp"
#include "core/schedule.hpp"
#include "protocol/codec.hpp"

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

store::Failure refused(core::Refusal why, std::string message) { return store::Failure::refused(why, std::move(message)); }

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

Followups::Followups(Deps deps)
    : d_(std::move(deps)), periodic_(d_.executor, d_.store_up, "followups") {}

void Followups::start() { periodic_.every(fire_every, this, &Followups::fire); }

void Followups::stop() { periodic_.stop(); }

asio::awaitable<void> Followups::fire() {
  auto fired = co_await d_.store.fire_due(d_.clock.now(), fire_batch);
  if (!fired) co_return;
  for (std::size_t i = 0; i < fired->size(); ++i) {
    auto const& f = (*fired)[i];
    spdlog::info("follow-up {} due for {}", f.id, f.owner);
    auto frame = co_await due_event(f.id);
    if (!frame) continue;
    if (d_.events) d_.events->happened(*frame);
    if (f.owner_connected) d_.publisher.publish({"u:" + f.owner}, std::move(*frame));
  }
}

asio::awaitable<void> Followups::send_due(std::string id, std::string owner) {
  auto frame = co_await due_event(std::move(id));
  if (frame) d_.publisher.publish({"u:" + owner}, std::move(*frame));
}

asio::awaitable<std::optional<std::string>> Followups::due_event(std::string id) {
  auto rec = co_await d_.store.get(id);
  if (!rec || !*rec) co_return std::nullopt;
  auto const& f = **rec;
  auto now = d_.clock.now();
  json::object ev;
  ev["followup_id"] = id;
  if (!f.conversation_id.empty()) ev["conversation_id"] = f.conversation_id;
  if (!f.ticket_id.empty()) ev["ticket_id"] = f.ticket_id;
  ev["due_at"] = f.due_at;
  ev["note"] = f.note;
  ev["kind"] = f.kind;
  ev["overdue_s"] = std::max<std::int64_t>(0, (now - f.due_at) / 1000);
  ev["owner_id"] = f.owner;
  co_return protocol::encode_event("followup.due", std::move(ev));
}

asio::awaitable<void> Followups::deliver_pending(Client& client) {
  auto pending = co_await d_.store.pending(client.user_id());
  if (!pending) co_return;
  for (std::size_t i = 0; i < pending->size(); ++i) {
    co_await send_due((*pending)[i], client.user_id());
    co_await d_.store.take_pending(client.user_id(), (*pending)[i]);
  }
}

asio::awaitable<store::Result<store::Followup>> Followups::create(Actor const& actor, NewFollowup f) {
  if (actor.role == core::Role::customer) co_return refused(core::Refusal::forbidden, "customers have no follow-ups");
  if (f.conversation_id.empty() == f.ticket_id.empty())
    co_return refused(core::Refusal::bad_request, "give exactly one of conversation_id and ticket_id");
  auto now = d_.clock.now();
  switch (core::check_due(f.due_at, now)) {
    case core::DueProblem::in_the_past: co_return refused(core::Refusal::bad_request, "due_at is in the past");
    case core::DueProblem::too_far:
      co_return refused(core::Refusal::bad_request, "due_at is more than three years ahead");
    case core::DueProblem::none: break;
  }
  if (f.note.empty()) co_return refused(core::Refusal::bad_request, "a follow-up needs a note");
  store::Result<store::Done> seen;
  if (f.ticket_id.empty()) seen = co_await d_.visibility.conversation(actor, f.conversation_id);
  else seen = co_await d_.visibility.ticket(actor, f.ticket_id);
  if (!seen) co_return seen.failure();
  store::NewFollowupRecord rec;
  rec.id = random_id("f_");
  rec.owner = f.owner_id.empty() ? actor.user_id : f.owner_id;
  rec.created_by = actor.user_id;
  rec.conversation_id = std::move(f.conversation_id);
  rec.ticket_id = std::move(f.ticket_id);
  rec.due_at = f.due_at;
  rec.kind = std::move(f.kind);
  rec.note = std::move(f.note);
  rec.now = now;
  co_return co_await d_.store.create(rec);
}

asio::awaitable<store::Result<store::Followup>> Followups::finish(Actor const& actor, std::string id,
                                                                  std::string status) {
  co_return co_await d_.store.finish(id, actor, status, d_.clock.now());
}

asio::awaitable<void> Followups::after_resolve(std::string conversation_id, std::string agent_id, std::string stage) {
  auto const& cfg = d_.config;
  if (cfg.check_in_after_s <= 0 || agent_id.empty()) co_return;
  if (!cfg.check_in_stages.empty() &&
      std::find(cfg.check_in_stages.begin(), cfg.check_in_stages.end(), stage) == cfg.check_in_stages.end())
    co_return;
  co_await make_check_in(std::move(conversation_id), std::move(agent_id), cfg.check_in_note);
}

asio::awaitable<void> Followups::check_in(std::string conversation_id, std::string agent_id) {
  if (d_.config.check_in_after_s <= 0 || agent_id.empty()) co_return;
  auto existing = co_await d_.store.of_conversation(conversation_id);
  if (!existing) co_return;
  for (std::size_t i = 0; i < existing->size(); ++i)
    if ((*existing)[i].kind == "check_in") co_return;
  co_await make_check_in(std::move(conversation_id), std::move(agent_id),
                         "Check in: am I exceeding your needs? The chat gave nothing to judge it by.");
}

asio::awaitable<void> Followups::make_check_in(std::string conversation_id, std::string agent_id, std::string note) {
  NewFollowup f;
  f.conversation_id = conversation_id;
  f.due_at = d_.clock.now() + d_.config.check_in_after_s * 1000LL;
  f.note = std::move(note);
  f.kind = "check_in";
  Actor agent{core::Role::agent, std::move(agent_id), ""};
  auto o = co_await create(agent, f);
  if (!o) spdlog::warn("follow-ups: no check-in for {}: {}", conversation_id, o.failure().message);
}

json::object Followups::to_json(store::Followup const& f, core::Millis now) {
  json::object j;
  j["id"] = f.id;
  j["conversation_id"] = or_null(f.conversation_id);
  j["ticket_id"] = or_null(f.ticket_id);
  j["owner_id"] = f.owner;
  j["created_by"] = f.created_by;
  j["due_at"] = f.due_at;
  j["kind"] = f.kind;
  j["note"] = f.note;
  j["status"] = f.status;
  j["created_at"] = f.created_at;
  j["fired"] = f.fired;
  j["overdue"] = f.status == "open" && f.due_at <= now;
  j["done_at"] = f.done_at ? json::value(*f.done_at) : json::value(nullptr);
  j["done_by"] = or_null(f.done_by);
  return j;
}

// ------------------------------------------------------------------ HTTP

asio::awaitable<net::HttpResponse> Followups::http(Actor actor, std::string method, std::string rest, Query query,
                                                   json::object body) {
  if (actor.role == core::Role::customer) co_return error_response(error::forbidden, "customers have no follow-ups");
  auto now = d_.clock.now();
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
    if (!o) co_return from_failure(o.failure());
    co_return json_response(201, to_json(*o, now));
  }
  if (rest == "/stats") {
    // (The owner named first: g++ 12 mis-destroys a ?: temporary inside co_await.)
    std::string owner = actor.role == core::Role::supervisor ? std::string() : actor.user_id;
    auto counts = co_await d_.store.counts(owner, now);
    if (!counts) co_return from_failure(counts.failure());
    json::object out;
    out["open"] = counts->open;
    out["overdue"] = counts->overdue;
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
    if (!o) co_return from_failure(o.failure());
    if (action == "/complete" && !o->conversation_id.empty() && d_.done_on_conversation)
      co_await d_.done_on_conversation(o->conversation_id);
    co_return json_response(200, to_json(*o, d_.clock.now()));
  }
  if (!action.empty()) co_return error_response(error::not_found, "no such endpoint");
  if (method == "GET") {
    auto rec = co_await d_.store.get(id);
    if (!rec) co_return from_failure(rec.failure());
    if (!*rec) co_return error_response(error::not_found, "no such follow-up");
    auto const& f = **rec;
    if (actor.role != core::Role::supervisor && f.owner != actor.user_id && f.created_by != actor.user_id)
      co_return error_response(error::forbidden, "not your follow-up");
    co_return json_response(200, to_json(f, now));
  }
  if (method == "PATCH") co_return co_await change(actor, id, std::move(body));
  co_return error_response(error::bad_request, "use GET or PATCH");
}

asio::awaitable<net::HttpResponse> Followups::change(Actor const& actor, std::string id, json::object body) {
  auto now = d_.clock.now();
  store::FollowupChange c;
  c.id = std::move(id);
  c.by = actor;
  c.now = now;
  if (body.contains("due_at")) {
    auto d = due_from(body.if_contains("due_at"));
    if (!d) co_return error_response(error::bad_request, "due_at must be ms since the epoch or an RFC 3339 time");
    if (core::check_due(*d, now) != core::DueProblem::none)
      co_return error_response(error::bad_request, "due_at is in the past or too far ahead");
    c.due_at = *d;
  }
  if (auto const* o = body.if_contains("owner_id")) {
    if (!o->is_string()) co_return error_response(error::bad_request, "owner_id must be a string");
    if (!o->get_string().empty()) c.owner = std::string(o->get_string());
  }
  if (auto const* n = body.if_contains("note")) {
    if (!n->is_string() || n->get_string().empty() || n->get_string().size() > protocol::max_note_chars * 4)
      co_return error_response(error::bad_request, "note must be a non-empty string");
    c.note = std::string(n->get_string());
  }
  auto o = co_await d_.store.update(c);
  if (!o) co_return from_failure(o.failure());
  co_return json_response(200, to_json(*o, now));
}

// Lists follow-ups by due time, soonest first. Agents see theirs (owner);
// supervisors everybody's or one owner's. `status` open (default) or all
// states via `status=done|cancelled` (those come from the conversation or
// ticket index). The cursor is the last item's "<due_at>:<id>".
asio::awaitable<net::HttpResponse> Followups::list(Actor const& actor, Query const& query) {
  auto now = d_.clock.now();
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

  store::Result<std::vector<store::Followup>> records;
  bool paged = ticket.empty() && conv.empty();  // a ticket's or conversation's few follow-ups come in one page
  if (!paged) {
    if (ticket.empty()) records = co_await d_.store.of_conversation(conv);
    else records = co_await d_.store.of_ticket(ticket);
  } else {
    if (status != "open")
      co_return error_response(error::bad_request, "closed follow-ups are listed by ticket_id or conversation_id");
    store::FollowupStore::OpenPage page;
    page.owner = owner;
    page.limit = static_cast<int>(*limit);
    if (auto c = query_value(query, "cursor"); !c.empty()) {
      auto colon = c.find(':');
      if (colon == std::string::npos || !parse_number(c.substr(0, colon), 0, 1LL << 53))
        co_return error_response(error::bad_request, "malformed cursor");
      page.from = c.substr(0, colon);
      page.after_id = c.substr(colon + 1);
    }
    if (overdue) page.to = now;
    records = co_await d_.store.open(page);
  }
  if (!records) co_return from_failure(records.failure());
  auto& all = *records;
  std::sort(all.begin(), all.end(), [](auto const& a, auto const& b) {
    return a.due_at != b.due_at ? a.due_at < b.due_at : a.id < b.id;
  });
  json::array items;
  std::optional<std::string> next;
  for (auto const& r : all) {
    if (status != "any" && r.status != status) continue;
    if (!owner.empty() && r.owner != owner) continue;
    if (overdue && !(r.status == "open" && r.due_at <= now)) continue;
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
