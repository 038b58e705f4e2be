#include "store/replies.hpp"

#include "store/decode.hpp"
#include "store/scripts.hpp"

namespace exceed::store {
namespace asio = boost::asio;
namespace {

Result<ReplyRecord> reply_of(Reply const& reply, std::string_view what) {
  auto fields = Fields::read(reply, what);
  if (!fields) return fields.failure();
  auto const& f = *fields;
  auto scope = core::parse_reply_scope(f.text("scope"));
  if (!f.has("id") || !scope) return Failure::protocol(std::string(what) + ": not a saved reply");
  ReplyRecord out;
  auto& r = out.reply;
  r.id = f.text("id");
  r.scope = *scope;
  r.team = f.text("team");
  r.owner = f.text("owner");
  r.shortcut = f.text("shortcut");
  r.title = f.text("title");
  r.text = f.text("text");
  r.uses = f.integer("uses");
  out.created_at = f.integer("created_at");
  out.updated_at = f.integer("updated_at");
  out.created_by = f.text("created_by");
  return out;
}

Result<std::vector<ReplyRecord>> replies_of(Reply const& reply) {
  Row row(reply, "replies_list");
  std::vector<ReplyRecord> out;
  while (row.ok() && !row.at_end()) {
    auto const& rec = row.nested();
    if (!row.ok()) break;
    auto r = reply_of(rec, "replies_list");
    if (!r) return r.failure();
    out.push_back(std::move(*r));
  }
  if (!row.ok()) return row.failure();
  return out;
}

}  // namespace

std::string ReplyStore::scope_set(core::SavedReply const& r) const {
  return r.scope == core::ReplyScope::team ? db_.keys().team_replies(r.team) : db_.keys().agent_replies(r.owner);
}

asio::awaitable<Result<ReplyRecord>> ReplyStore::save(core::SavedReply const& r, std::string const& by,
                                                     core::Millis now, bool creating) {
  auto set = scope_set(r);
  std::vector<std::string> keys{db_.keys().reply(r.id), db_.keys().shortcuts(set), set};
  std::vector<std::string> args{r.id,  std::string(core::to_string(r.scope)),
                                r.team, r.owner,
                                r.shortcut, r.title,
                                r.text, std::to_string(now),
                                by,     creating ? "1" : "0"};
  auto o = co_await db_.run_keys(db_.scripts().reply_save, std::move(keys), std::move(args));
  if (!o) co_return o.failure();
  co_return reply_of(*o, "reply_save");
}

asio::awaitable<Result<std::optional<ReplyRecord>>> ReplyStore::get(std::string const& id) {
  auto o = co_await db_.cmd("HGETALL", db_.keys().reply(id));
  if (!o) co_return o.failure();
  if (o->is_array() && o->elements.empty()) co_return std::optional<ReplyRecord>{};
  auto r = reply_of(*o, "reply");
  if (!r) co_return r.failure();
  co_return std::optional<ReplyRecord>(std::move(*r));
}

asio::awaitable<Result<Done>> ReplyStore::remove(core::SavedReply const& r) {
  auto set = scope_set(r);
  std::vector<std::string> keys{db_.keys().reply(r.id), db_.keys().shortcuts(set), set};
  std::vector<std::string> args{r.id};
  auto o = co_await db_.run_keys(db_.scripts().reply_delete, std::move(keys), std::move(args));
  if (!o) co_return o.failure();
  co_return Done{};
}

asio::awaitable<Result<ReplyRecord>> ReplyStore::use(std::string const& id) {
  std::vector<std::string> keys{db_.keys().reply(id)};
  auto o = co_await db_.run_keys(db_.scripts().reply_use, std::move(keys), {});
  if (!o) co_return o.failure();
  co_return reply_of(*o, "reply_use");
}

asio::awaitable<Result<std::vector<ReplyRecord>>> ReplyStore::list(std::vector<std::string> const& teams,
                                                                   std::string const& agent) {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < teams.size(); ++i) keys.push_back(db_.keys().team_replies(teams[i]));
  if (!agent.empty()) keys.push_back(db_.keys().agent_replies(agent));
  if (keys.empty()) co_return std::vector<ReplyRecord>{};
  std::vector<std::string> args{db_.keys().prefix()};
  auto o = co_await db_.run_keys(db_.scripts().replies_list, std::move(keys), std::move(args));
  if (!o) co_return o.failure();
  co_return replies_of(*o);
}

asio::awaitable<Result<std::vector<std::string>>> ReplyStore::teams() {
  auto o = co_await db_.cmd("SMEMBERS", db_.keys().teams());
  if (!o) co_return o.failure();
  Row row(*o, "teams");
  std::vector<std::string> out;
  while (row.ok() && !row.at_end()) out.push_back(row.text());
  if (!row.ok()) co_return row.failure();
  co_return out;
}

asio::awaitable<Result<ReplyContext>> ReplyStore::context(std::string const& conversation_id,
                                                          std::string const& agent_id) {
  ReplyContext out;
  auto a = co_await db_.cmd("HGET", db_.keys().user(agent_id), "name");
  if (!a) co_return a.failure();
  out.agent_name = a->is_nil() ? std::string() : a->str;
  if (conversation_id.empty()) co_return out;
  auto c = co_await db_.cmd("HMGET", db_.keys().conversation(conversation_id), "visitor_name", "context");
  if (!c) co_return c.failure();
  Row row(*c, "conversation for a reply");
  out.customer_name = row.text();
  out.context_json = row.text();
  if (!row.ok()) co_return row.failure();
  co_return out;
}

}  // namespace exceed::store
