#include "app/directory.hpp"

#include "app/app.hpp"
#include "app/auth.hpp"
#include "app/users.hpp"
#include "core/hours.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <map>
#include <vector>

namespace exceed::app {
namespace json = boost::json;
using protocol::error;

namespace {

// An agent as the routing sees them: without a live session an agent is
// offline, whatever status was set last (as start.lua and metrics_live.lua
// judge it).
struct AgentState {
  std::string id, name, teams_csv, status;
  long long active = 0, offered = 0, capacity = 0;

  bool online() const { return status == "online"; }
  bool free() const { return online() && active + offered < capacity; }
};

// (Plain functions: g++ 12 mishandles class-typed locals of some shapes
// inside coroutines; the coroutines below only loop over indexes.)
AgentState agent_state(std::string id, store::Reply const& r) {
  AgentState a;
  a.id = std::move(id);
  a.name = str_at(r, 0).empty() ? a.id : str_at(r, 0);
  a.teams_csv = str_at(r, 1);
  a.active = to_int(str_at(r, 3));
  a.offered = to_int(str_at(r, 4));
  a.capacity = to_int(str_at(r, 5));
  a.status = to_int(str_at(r, 6)) > 0 && !str_at(r, 2).empty() ? str_at(r, 2) : std::string("offline");
  return a;
}

json::array split_csv(std::string const& csv) {
  json::array out;
  for (std::size_t start = 0; start < csv.size();) {
    auto comma = csv.find(',', start);
    auto end = comma == std::string::npos ? csv.size() : comma;
    if (end > start) out.emplace_back(csv.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

json::object agent_json(AgentState const& a) {
  json::object o;
  o["id"] = a.id;
  o["name"] = a.name;
  o["teams"] = split_csv(a.teams_csv);
  o["status"] = a.status;
  o["active"] = a.active;
  o["capacity"] = a.capacity;
  o["available"] = a.free();
  return o;
}

// Open now, and when it opens next if not; teams without hours are always open.
struct Hours {
  bool open = true;
  std::optional<core::Millis> opens_at;
};
Hours hours_of(Config const& config, std::string const& team, core::Millis now) {
  Hours h;
  auto it = config.teams.find(team);
  if (it == config.teams.end()) return h;
  h.open = core::is_open(it->second.business, it->second.zone, now);
  if (!h.open) h.opens_at = core::next_opening(it->second.business, it->second.zone, now);
  return h;
}

boost::asio::awaitable<std::optional<AgentState>> read_agent(Db& db, std::string const& id) {
  auto o = co_await db.cmd("HMGET", db.key("agent:" + id), "name", "teams", "status", "active", "offered", "capacity",
                           "conns");
  if (!o || !o.reply.is_array() || o.reply.elements.empty() || o.reply.elements[0].is_nil())
    co_return std::optional<AgentState>();
  co_return agent_state(id, o.reply);
}

boost::asio::awaitable<net::HttpResponse> availability(App& app, Query const& query) {
  auto& db = app.db();
  std::string team = query_value(query, "team");
  if (team.empty()) team = app.config().routing.default_team;
  if (!valid_team(team)) co_return error_response(error::not_found, "no such team");
  auto known = co_await db.cmd("SISMEMBER", db.key("teams"), team);
  if (!known) co_return from_outcome(known);
  if (known.reply.integer == 0) co_return error_response(error::not_found, "no such team");
  auto members = co_await db.cmd("SMEMBERS", db.key("team:" + team + ":agents"));
  if (!members) co_return from_outcome(members);
  bool online = false;
  for (std::size_t i = 0; i < members.reply.elements.size() && !online; ++i) {
    auto a = co_await read_agent(db, members.reply.elements[i].str);
    online = a && a->online();
  }
  auto hours = hours_of(app.config(), team, now_ms());
  json::object out;
  out["team"] = team;
  out["open"] = hours.open;
  out["online"] = online;
  out["opens_at"] = hours.opens_at ? json::value(*hours.opens_at) : json::value(nullptr);
  out["when_offline"] = app.config().routing.ticket_when_offline ? "ticket" : "queue";
  co_return json_response(200, out);
}

// The staff token's refusal, as every other staff endpoint judges it; empty
// when the caller is an agent or supervisor in good standing.
boost::asio::awaitable<std::optional<net::HttpResponse>> staff_only(App& app, net::HttpRequest const& req) {
  auto h = req.header("Authorization");
  if (!h || h->size() < 8 || h->substr(0, 7) != "Bearer ")
    co_return error_response(error::unauthorized, "missing bearer token");
  TokenProblem why{};
  auto claims = app.tokens().verify(h->substr(7), now_ms(), &why);
  if (!claims)
    co_return error_response(error::unauthorized,
                             why == TokenProblem::expired ? "the token has expired" : "the token is not valid");
  if (claims->role == core::Role::customer) co_return error_response(error::forbidden, "the directory is for staff");
  auto& db = app.db();
  auto u = co_await db.cmd("HMGET", db.key("user:" + claims->subject), "role", "token_version", "disabled");
  if (!u) co_return from_outcome(u);
  if (auto refused = staff_token_refusal(*claims, str_at(u.reply, 0), str_at(u.reply, 1), str_at(u.reply, 2)))
    co_return error_response(error::unauthorized, *refused);
  co_return std::optional<net::HttpResponse>();
}

boost::asio::awaitable<net::HttpResponse> directory(App& app) {
  auto& db = app.db();
  auto now = now_ms();
  // Every enabled agent, by name.
  auto users = co_await db.cmd("SMEMBERS", db.key("users"));
  if (!users) co_return from_outcome(users);
  std::vector<AgentState> agents;
  for (std::size_t i = 0; i < users.reply.elements.size(); ++i) {
    std::string const id = users.reply.elements[i].str;
    auto u = co_await db.cmd("HMGET", db.key("user:" + id), "role", "disabled");
    if (!u || str_at(u.reply, 0) != "agent" || str_at(u.reply, 1) == "1") continue;
    auto a = co_await read_agent(db, id);
    if (a) agents.push_back(std::move(*a));
  }
  std::sort(agents.begin(), agents.end(), [](AgentState const& x, AgentState const& y) {
    return x.name != y.name ? x.name < y.name : x.id < y.id;
  });
  std::map<std::string, AgentState const*> by_id;
  for (std::size_t i = 0; i < agents.size(); ++i) by_id[agents[i].id] = &agents[i];

  auto teams = co_await db.cmd("SMEMBERS", db.key("teams"));
  if (!teams) co_return from_outcome(teams);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < teams.reply.elements.size(); ++i) names.push_back(teams.reply.elements[i].str);
  std::sort(names.begin(), names.end());
  json::array team_list;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto members = co_await db.cmd("SMEMBERS", db.key("team:" + names[i] + ":agents"));
    if (!members) co_return from_outcome(members);
    long long online = 0, available = 0;
    for (std::size_t k = 0; k < members.reply.elements.size(); ++k) {
      auto it = by_id.find(members.reply.elements[k].str);
      if (it == by_id.end()) continue;
      online += it->second->online();
      available += it->second->free();
    }
    auto hours = hours_of(app.config(), names[i], now);
    json::object t;
    t["name"] = names[i];
    t["open"] = hours.open;
    t["agents_online"] = online;
    t["agents_available"] = available;
    team_list.push_back(std::move(t));
  }
  json::array agent_list;
  for (std::size_t i = 0; i < agents.size(); ++i) agent_list.push_back(agent_json(agents[i]));
  json::object out;
  out["teams"] = std::move(team_list);
  out["agents"] = std::move(agent_list);
  co_return json_response(200, out);
}

}  // namespace

boost::asio::awaitable<std::optional<net::HttpResponse>> directory_http(App& app, net::HttpRequest const& req,
                                                                        std::string const& path,
                                                                        Query const& query) {
  if (path != "/api/v1/availability" && path != "/api/v1/directory") co_return std::optional<net::HttpResponse>();
  if (req.method != "GET") co_return error_response(error::bad_request, "use GET");
  if (path == "/api/v1/availability") co_return co_await availability(app, query);
  auto refused = co_await staff_only(app, req);
  if (refused) co_return std::move(*refused);
  co_return co_await directory(app);
}

}  // namespace exceed::app
