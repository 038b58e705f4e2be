#include "store/accounts.hpp"

#include "core/bus.hpp"
#include "store/decode.hpp"
#include "store/scripts.hpp"

#include <algorithm>

namespace exceed::store {
namespace asio = boost::asio;
namespace {

std::vector<std::string> split_csv(std::string_view csv) {
  std::vector<std::string> out;
  for (std::size_t start = 0; start < csv.size();) {
    auto comma = csv.find(',', start);
    auto end = comma == std::string_view::npos ? csv.size() : comma;
    if (end > start) out.emplace_back(csv.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// A user record (HGETALL); nullopt for an empty reply.
Result<std::optional<Account>> account_of(Result<Reply> r) {
  if (!r) return r.failure();
  auto fields = Fields::read(*r, "account");
  if (!fields) return fields.failure();
  if (fields->empty()) return std::optional<Account>{};
  auto const& f = *fields;
  Account a;
  a.id = f.text("id");
  a.username = f.text("username");
  a.name = f.text("name");
  a.role = f.text("role");
  a.teams_csv = f.text("teams");
  a.teams = split_csv(a.teams_csv);
  a.capacity = static_cast<int>(f.integer("capacity"));
  a.password_hash = f.text("password");
  a.token_version = f.text("token_version");
  a.disabled = f.text("disabled") == "1";
  a.deleted = f.text("deleted") == "1";
  return std::optional<Account>(std::move(a));
}

Result<Done> done(Result<Reply> r) {
  if (!r) return r.failure();
  return Done{};
}

}  // namespace

// ------------------------------------------------------------------ staff

asio::awaitable<Result<std::optional<Account>>> AccountStore::account(std::string const& id) {
  co_return account_of(co_await db_.cmd("HGETALL", db_.keys().user(id)));
}

asio::awaitable<Result<std::optional<Account>>> AccountStore::by_username(std::string const& username) {
  auto id = co_await db_.cmd("GET", db_.keys().username(username));
  if (!id) co_return id.failure();
  if (id->is_nil()) co_return std::optional<Account>{};
  if (id->kind != Reply::Kind::string) co_return Failure::protocol("username: expected a string");
  auto a = co_await account(id->str);
  if (a && *a) (*a)->id = id->str;  // the id the name stands for, whatever the record says
  co_return a;
}

asio::awaitable<Result<std::vector<Account>>> AccountStore::accounts() {
  auto ids = strings_of(co_await db_.cmd("SMEMBERS", db_.keys().users()), "users");
  if (!ids) co_return ids.failure();
  std::vector<Account> out;
  for (std::size_t i = 0; i < ids->size(); ++i) {  // (no range-for in a coroutine: g++ 12)
    auto a = co_await account((*ids)[i]);
    if (!a) co_return a.failure();
    if (*a) out.push_back(std::move(**a));
  }
  co_return out;
}

asio::awaitable<Result<Done>> AccountStore::create(NewAccount const& a) {
  auto claim = co_await db_.cmd("SET", db_.keys().username(a.username), a.id, "NX");
  if (!claim) co_return claim.failure();
  if (claim->is_nil()) co_return Failure::refused(core::Refusal::conflict, "the username '" + a.username + "' is taken");
  std::string teams;
  for (std::size_t i = 0; i < a.teams.size(); ++i) teams += (i ? "," : "") + a.teams[i];
  auto capacity = std::to_string(a.capacity);
  auto r = co_await db_.cmd("HSET", db_.keys().user(a.id), "id", a.id, "username", a.username, "role", a.role, "name",
                            a.name, "teams", teams, "capacity", capacity, "password", a.password_hash, "created_at",
                            std::to_string(a.now));
  if (!r) co_return r.failure();
  co_await db_.cmd("SADD", db_.keys().users(), a.id);
  if (a.role != "agent") co_return Done{};
  // An agent is routed: their routing record and their teams.
  r = co_await db_.cmd("HSET", db_.keys().agent(a.id), "id", a.id, "name", a.name, "teams", teams, "capacity", capacity,
                       "status", "offline", "active", "0", "offered", "0", "conns", "0", "last_assigned_at", "0");
  if (!r) co_return r.failure();
  for (std::size_t i = 0; i < a.teams.size(); ++i) {
    co_await db_.cmd("SADD", db_.keys().team_agents(a.teams[i]), a.id);
    co_await db_.cmd("SADD", db_.keys().teams(), a.teams[i]);
  }
  co_return Done{};
}

asio::awaitable<Result<Done>> AccountStore::set_disabled(std::string const& id, bool disabled) {
  if (disabled) co_return done(co_await db_.cmd("HSET", db_.keys().user(id), "disabled", "1"));
  co_return done(co_await db_.cmd("HDEL", db_.keys().user(id), "disabled"));
}

asio::awaitable<Result<Done>> AccountStore::set_password(std::string const& id, std::string const& hash) {
  co_return done(co_await db_.cmd("HSET", db_.keys().user(id), "password", hash));
}

asio::awaitable<Result<Done>> AccountStore::remove(Account const& a) {
  auto user = db_.keys().user(a.id);
  auto r = co_await db_.cmd("HSET", user, "disabled", "1", "deleted", "1");
  if (!r) co_return r.failure();
  r = co_await db_.cmd("HDEL", user, "password");
  if (!r) co_return r.failure();
  for (std::size_t i = 0; i < a.teams.size(); ++i) co_await db_.cmd("SREM", db_.keys().team_agents(a.teams[i]), a.id);
  co_await db_.cmd("SREM", db_.keys().users(), a.id);
  co_return done(co_await db_.cmd("DEL", db_.keys().username(a.username)));
}

asio::awaitable<Result<Done>> AccountStore::revoke_tokens(std::string const& id) {
  auto r = co_await db_.cmd("HINCRBY", db_.keys().user(id), "token_version", "1");
  if (!r) co_return r.failure();
  // From "cli": the command line is no process of the bus (core/bus.hpp).
  core::BusMessage revoke{core::BusMessage::Kind::revoke, "cli", {}, id};
  co_await db_.exec(db_.publish_command(db_.keys().bus(), core::encode(revoke)));
  co_return Done{};
}

// --------------------------------------------------------------- visitors

asio::awaitable<Result<std::string>> AccountStore::visitor_of_user(std::string const& user_id,
                                                                   std::string const& candidate) {
  auto r = co_await db_.cmd("SET", db_.keys().visitor_of_user(user_id), candidate, "NX", "GET");
  if (!r) co_return r.failure();
  if (r->is_nil()) co_return candidate;
  if (r->kind != Reply::Kind::string) co_return Failure::protocol("visitor of user: expected a string");
  co_return r->str;
}

asio::awaitable<Result<Done>> AccountStore::save_visitor(Visitor const& v) {
  co_return done(co_await db_.call(db_.scripts().visitor_save, v.id, v.name, v.email, v.user_id, std::to_string(v.now),
                                   std::to_string(v.idle_ttl_s)));
}

// ----------------------------------------------------------------- limits

asio::awaitable<Result<Counted>> AccountStore::count(std::string const& kind, std::string const& who,
                                                     core::Millis window) {
  co_return co_await counted(db_.keys().throttle(kind, who), window, false);
}

asio::awaitable<Result<Counted>> AccountStore::count_login_failure(std::string const& subject, core::Millis window) {
  co_return co_await counted(db_.keys().login_failures(subject), window, true);
}

asio::awaitable<Result<Counted>> AccountStore::counted(std::string key, core::Millis window, bool restart) {
  std::vector<std::string> keys{std::move(key)};
  std::vector<std::string> args{std::to_string(window), restart ? "1" : "0"};
  auto r = co_await db_.run_keys(db_.scripts().count, std::move(keys), std::move(args));
  if (!r) co_return r.failure();
  Row row(*r, "count");
  Counted out;
  out.count = row.integer();
  out.left = row.integer();
  if (!row.ok()) co_return row.failure();
  co_return out;
}

asio::awaitable<Result<core::Millis>> AccountStore::login_wait(std::string const& subject) {
  auto r = co_await db_.cmd("PTTL", db_.keys().login_wait(subject));
  if (!r) co_return r.failure();
  if (r->kind != Reply::Kind::integer) co_return Failure::protocol("login wait: expected an integer");
  co_return std::max<core::Millis>(0, r->integer);  // -2: no wait set
}

asio::awaitable<Result<Done>> AccountStore::set_login_wait(std::string const& subject, core::Millis wait) {
  co_return done(co_await db_.cmd("SET", db_.keys().login_wait(subject), "1", "PX", std::to_string(wait)));
}

asio::awaitable<Result<Done>> AccountStore::clear_login(std::string const& subject) {
  co_return done(co_await db_.cmd("DEL", db_.keys().login_failures(subject), db_.keys().login_wait(subject)));
}

}  // namespace exceed::store
