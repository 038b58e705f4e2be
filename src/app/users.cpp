#include "app/users.hpp"

#include "app/auth.hpp"
#include "core/bus.hpp"

#include <algorithm>
#include <chrono>

namespace exceed::app {
namespace {

bool valid_name(std::string const& s, std::string_view extra) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [extra](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos;
  });
}

}  // namespace

bool valid_username(std::string const& s) { return valid_name(s, "._@-"); }
bool valid_team(std::string const& s) { return valid_name(s, "._-"); }

boost::asio::awaitable<Outcome> add_user(Db& db, NewUser const& u) {
  auto id = random_id(u.role == "agent" ? "a_" : "s_");
  auto claim = co_await db.cmd("SET", db.key("username:" + u.username), id, "NX");
  if (!claim) co_return claim;
  if (claim.reply.is_nil()) {
    Outcome taken;
    taken.error = protocol::error::conflict;
    taken.message = "the username '" + u.username + "' is taken";
    co_return taken;
  }
  std::string teams;
  for (auto const& t : u.teams) teams += (teams.empty() ? "" : ",") + t;
  auto now = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  auto o = co_await db.cmd("HSET", db.key("user:" + id), "id", id, "username", u.username, "role", u.role, "name",
                             u.name, "teams", teams, "capacity", std::to_string(u.capacity), "password",
                             u.password_hash, "created_at", now);
  if (!o) co_return o;
  co_await db.cmd("SADD", db.key("users"), id);
  if (u.role == "agent") {
    o = co_await db.cmd("HSET", db.key("agent:" + id), "id", id, "name", u.name, "teams", teams, "capacity",
                          std::to_string(u.capacity), "status", "offline", "active", "0", "offered", "0", "conns",
                          "0", "last_assigned_at", "0");
    if (!o) co_return o;
    for (auto const& t : u.teams) {
      co_await db.cmd("SADD", db.key("team:" + t + ":agents"), id);
      co_await db.cmd("SADD", db.key("teams"), t);
    }
  }
  Outcome ok;
  ok.reply.kind = store::Reply::Kind::string;
  ok.reply.str = id;
  co_return ok;
}

boost::asio::awaitable<Outcome> change_account(Db& db, std::string const& username, AccountChange change,
                                               std::string const& password_hash) {
  auto id = co_await db.cmd("GET", db.key("username:" + username));
  if (!id) co_return id;
  if (id.reply.is_nil()) {
    Outcome none;
    none.error = protocol::error::not_found;
    none.message = "no user named '" + username + "'";
    co_return none;
  }
  std::string const user = db.key("user:" + id.reply.str);
  Outcome o;
  switch (change) {
    case AccountChange::enable:
      co_return co_await db.cmd("HDEL", user, "disabled");
    case AccountChange::disable:
      o = co_await db.cmd("HSET", user, "disabled", "1");
      break;
    case AccountChange::password:
      o = co_await db.cmd("HSET", user, "password", password_hash);
      break;
    case AccountChange::remove: {
      auto teams = co_await db.cmd("HGET", user, "teams");
      if (!teams) co_return teams;
      o = co_await db.cmd("HSET", user, "disabled", "1", "deleted", "1");
      if (!o) co_return o;
      o = co_await db.cmd("HDEL", user, "password");
      if (!o) co_return o;
      std::string csv = teams.reply.str;
      for (std::size_t start = 0; start < csv.size();) {
        auto comma = csv.find(',', start);
        auto end = comma == std::string::npos ? csv.size() : comma;
        if (end > start) co_await db.cmd("SREM", db.key("team:" + csv.substr(start, end - start) + ":agents"), id.reply.str);
        start = end + 1;
      }
      co_await db.cmd("SREM", db.key("users"), id.reply.str);
      o = co_await db.cmd("DEL", db.key("username:" + username));
      break;
    }
  }
  if (!o) co_return o;
  o = co_await db.cmd("HINCRBY", user, "token_version", "1");
  if (!o) co_return o;
  // The servers close the user's sessions (App::on_bus).
  core::BusMessage revoke{core::BusMessage::Kind::revoke, "cli", {}, id.reply.str};
  co_await db.cmd("PUBLISH", db.keys().bus(), core::encode(revoke));
  co_return o;
}

boost::asio::awaitable<Outcome> list_users(Db& db, std::vector<std::vector<std::string>>& rows) {
  auto ids = co_await db.cmd("SMEMBERS", db.key("users"));
  if (!ids) co_return ids;
  for (auto const& id : ids.reply.elements) {
    auto u = co_await db.cmd("HMGET", db.key("user:" + id.str), "username", "role", "id", "name", "teams", "capacity",
                             "disabled");
    if (!u) co_return u;
    std::vector<std::string> row;
    for (auto const& e : u.reply.elements) row.push_back(e.str);
    row.back() = row.back() == "1" ? "disabled" : "active";
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end());
  co_return Outcome{};
}

}  // namespace exceed::app
