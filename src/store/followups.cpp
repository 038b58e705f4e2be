#include "store/followups.hpp"

#include "store/decode.hpp"
#include "store/scripts.hpp"

#include <algorithm>

namespace exceed::store {
namespace asio = boost::asio;
namespace {

// A follow-up record (HGETALL) as its type; nullopt for an empty reply.
Result<std::optional<Followup>> followup_of(Reply const& reply, std::string_view what) {
  auto fields = Fields::read(reply, what);
  if (!fields) return fields.failure();
  if (fields->empty()) return std::optional<Followup>{};
  auto const& f = *fields;
  if (!f.has("id") || !f.maybe_integer("due_at")) return Failure::protocol(std::string(what) + ": not a follow-up record");
  Followup out;
  out.id = f.text("id");
  out.conversation_id = f.text("conversation_id");
  out.ticket_id = f.text("ticket_id");
  out.owner = f.text("owner");
  out.created_by = f.text("created_by");
  out.due_at = f.integer("due_at");
  out.kind = f.text("kind");
  out.note = f.text("note");
  out.status = f.text("status");
  out.created_at = f.integer("created_at");
  out.fired = f.text("fired") == "1";
  out.done_at = f.maybe_integer("done_at");
  out.done_by = f.text("done_by");
  return std::optional<Followup>(std::move(out));
}

// A script that answers with the record it wrote.
Result<Followup> written(Result<Reply> r, std::string_view what) {
  if (!r) return r.failure();
  auto f = followup_of(*r, what);
  if (!f) return f.failure();
  if (!*f) return Failure::protocol(std::string(what) + ": no record in the reply");
  return std::move(**f);
}

}  // namespace

asio::awaitable<Result<Followup>> FollowupStore::create(NewFollowupRecord const& f) {
  auto r = co_await db_.call(db_.scripts().followup_create, f.id, f.owner, f.created_by, f.conversation_id, f.ticket_id,
                             std::to_string(f.due_at), f.kind, f.note, std::to_string(f.now));
  co_return written(std::move(r), "followup_create");
}

asio::awaitable<Result<Followup>> FollowupStore::finish(std::string const& id, core::Actor const& by,
                                                        std::string const& status, core::Millis now) {
  auto r = co_await db_.call(db_.scripts().followup_finish, id, by.user_id, by.role_name(), status, std::to_string(now));
  co_return written(std::move(r), "followup_finish");
}

asio::awaitable<Result<Followup>> FollowupStore::update(FollowupChange const& c) {
  std::string due = c.due_at ? std::to_string(*c.due_at) : std::string();
  std::string owner = c.owner.value_or("");
  std::string set_note = c.note ? "1" : "0";
  std::string note = c.note.value_or("");
  auto r = co_await db_.call(db_.scripts().followup_update, c.id, c.by.user_id, c.by.role_name(), due, owner, set_note,
                             note, std::to_string(c.now));
  co_return written(std::move(r), "followup_update");
}

asio::awaitable<Result<std::optional<Followup>>> FollowupStore::get(std::string const& id) {
  auto r = co_await db_.cmd("HGETALL", db_.keys().followup(id));
  if (!r) co_return r.failure();
  co_return followup_of(*r, "followup");
}

asio::awaitable<Result<std::vector<Fired>>> FollowupStore::fire_due(core::Millis now, int max) {
  auto r = co_await db_.call(db_.scripts().followup_fire, std::to_string(now), std::to_string(max));
  if (!r) co_return r.failure();
  Row row(*r, "followup_fire");
  std::vector<Fired> out;
  while (row.ok() && !row.at_end()) {
    Fired f;
    f.id = row.text();
    f.owner = row.text();
    f.owner_connected = row.integer() == 1;
    out.push_back(std::move(f));
  }
  if (!row.ok()) co_return row.failure();
  co_return out;
}

asio::awaitable<Result<std::vector<std::string>>> FollowupStore::pending(std::string const& agent_id) {
  co_return strings_of(co_await db_.cmd("SMEMBERS", db_.keys().agent_due_pending(agent_id)), "due_pending");
}

asio::awaitable<Result<Done>> FollowupStore::take_pending(std::string const& agent_id, std::string const& id) {
  auto r = co_await db_.cmd("SREM", db_.keys().agent_due_pending(agent_id), id);
  if (!r) co_return r.failure();
  co_return Done{};
}

asio::awaitable<Result<std::vector<Followup>>> FollowupStore::records(std::vector<std::string> const& ids) {
  std::vector<Followup> out;
  out.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {  // (no range-for over strings in a coroutine: g++ 12)
    auto f = co_await get(ids[i]);
    if (!f) co_return f.failure();
    if (*f) out.push_back(std::move(**f));  // one removed meanwhile is skipped
  }
  co_return out;
}

asio::awaitable<Result<std::vector<Followup>>> FollowupStore::of_conversation(std::string const& id) {
  auto ids = strings_of(co_await db_.cmd("SMEMBERS", db_.keys().conversation_followups(id)), "conversation followups");
  if (!ids) co_return ids.failure();
  co_return co_await records(*ids);
}

asio::awaitable<Result<std::vector<Followup>>> FollowupStore::of_ticket(std::string const& id) {
  auto ids = strings_of(co_await db_.cmd("SMEMBERS", db_.keys().ticket_followups(id)), "ticket followups");
  if (!ids) co_return ids.failure();
  co_return co_await records(*ids);
}

asio::awaitable<Result<std::vector<Followup>>> FollowupStore::open(OpenPage const& page) {
  auto key = page.owner.empty() ? db_.keys().followups_open() : db_.keys().agent_followups(page.owner);
  std::string to = page.to ? std::to_string(*page.to) : std::string("+inf");
  // A few more than the page: items at the cursor's own due time that came
  // before it are skipped below.
  auto r = co_await db_.cmd("ZRANGEBYSCORE", key, page.from, to, "WITHSCORES", "LIMIT", "0",
                            std::to_string(page.limit + 50));
  if (!r) co_return r.failure();
  Row row(*r, "open followups");
  std::vector<std::string> ids;
  while (row.ok() && !row.at_end()) {
    auto id = row.text();
    auto score = row.text();
    if (score == page.from && !page.after_id.empty() && id <= page.after_id) continue;
    ids.push_back(std::move(id));
  }
  if (!row.ok()) co_return row.failure();
  co_return co_await records(ids);
}

asio::awaitable<Result<FollowupStore::Counts>> FollowupStore::counts(std::string const& owner, core::Millis now) {
  auto key = owner.empty() ? db_.keys().followups_open() : db_.keys().agent_followups(owner);
  auto open = co_await db_.cmd("ZCARD", key);
  if (!open) co_return open.failure();
  auto overdue = co_await db_.cmd("ZCOUNT", key, "-inf", std::to_string(now));
  if (!overdue) co_return overdue.failure();
  if (open->kind != Reply::Kind::integer || overdue->kind != Reply::Kind::integer)
    co_return Failure::protocol("followup counts: expected integers");
  co_return Counts{open->integer, overdue->integer};
}

}  // namespace exceed::store
