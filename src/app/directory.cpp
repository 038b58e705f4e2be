#include "app/directory.hpp"

#include "app/app.hpp"
#include "app/auth.hpp"
#include "app/users.hpp"
#include "core/hours.hpp"
#include "store/accounts.hpp"
#include "store/directory.hpp"
#include "store/routing.hpp"

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
AgentState agent_state(store::AgentCard const& card) {
  AgentState a;
  a.id = card.id;
  a.name = card.name.empty() ? card.id : card.name;
  a.teams_csv = card.teams_csv;
  a.active = card.active;
  a.offered = card.offered;
  a.capacity = card.capacity;
  a.status = card.connections > 0 && !card.status.empty() ? card.status : std::string("offline");
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

// The agent as the routing sees them; nullopt when they have no routing
// record or it could not be read (the directory leaves them out).
boost::asio::awaitable<std::optional<AgentState>> read_agent(store::DirectoryStore& directory, std::string id) {
  auto card = co_await directory.agent(id);
  if (!card || !*card) co_return std::optional<AgentState>();
  co_return agent_state(**card);
}

boost::asio::awaitable<net::HttpResponse> availability(App& app, Query const& query) {
  store::DirectoryStore directory(app.db().store());
  std::string team = query_value(query, "team");
  if (team.empty()) team = app.config().routing.default_team;
  if (!valid_team(team)) co_return error_response(error::not_found, "no such team");
  auto known = co_await directory.has_team(team);
  if (!known) co_return from_failure(known.failure());
  if (!*known) co_return error_response(error::not_found, "no such team");
  auto members = co_await directory.team_members(team);
  if (!members) co_return from_failure(members.failure());
  bool online = false;
  for (std::size_t i = 0; i < members->size() && !online; ++i) {
    auto a = co_await read_agent(directory, (*members)[i]);
    online = a && a->online();
  }
  auto hours = hours_of(app.config(), team, app.clock().now());
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
  auto claims = app.tokens().verify(h->substr(7), app.clock().now(), &why);
  if (!claims)
    co_return error_response(error::unauthorized,
                             why == TokenProblem::expired ? "the token has expired" : "the token is not valid");
  if (claims->role == core::Role::customer) co_return error_response(error::forbidden, "the directory is for staff");
  store::AccountStore accounts(app.db().store());
  auto account = co_await accounts.account(claims->subject);
  if (!account) co_return from_failure(account.failure());
  auto const* stored = account->has_value() ? &**account : nullptr;
  if (auto refused = staff_token_refusal(*claims, stored)) co_return error_response(error::unauthorized, *refused);
  co_return std::optional<net::HttpResponse>();
}

boost::asio::awaitable<net::HttpResponse> directory(App& app) {
  store::DirectoryStore directory(app.db().store());
  store::AccountStore accounts(app.db().store());
  auto now = app.clock().now();
  // Every enabled agent, by name (one whose account can't be read is left out).
  auto staff = co_await directory.staff();
  if (!staff) co_return from_failure(staff.failure());
  std::vector<AgentState> agents;
  for (std::size_t i = 0; i < staff->size(); ++i) {
    std::string const id = (*staff)[i];
    auto account = co_await accounts.account(id);
    if (!account || !*account || (*account)->role != "agent" || (*account)->disabled) continue;
    auto a = co_await read_agent(directory, id);
    if (a) agents.push_back(std::move(*a));
  }
  std::sort(agents.begin(), agents.end(), [](AgentState const& x, AgentState const& y) {
    return x.name != y.name ? x.name < y.name : x.id < y.id;
  });
  std::map<std::string, AgentState const*> by_id;
  for (std::size_t i = 0; i < agents.size(); ++i) by_id[agents[i].id] = &agents[i];

  store::RoutingStore routing(app.db().store());
  auto teams = co_await routing.teams();
  if (!teams) co_return from_failure(teams.failure());
  std::vector<std::string> names = std::move(*teams);
  std::sort(names.begin(), names.end());
  json::array team_list;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto members = co_await directory.team_members(names[i]);
    if (!members) co_return from_failure(members.failure());
    long long online = 0, available = 0;
    for (std::size_t k = 0; k < members->size(); ++k) {
      auto it = by_id.find((*members)[k]);
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
