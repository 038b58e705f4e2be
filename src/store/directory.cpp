#include "store/directory.hpp"

#include "store/decode.hpp"

namespace exceed::store {
namespace asio = boost::asio;

// HMGET agent:<id> name teams status active offered capacity conns: seven
// strings or nils, in that order. Nil name: no record.
Result<std::optional<AgentCard>> agent_card_of(std::string const& id, Reply const& reply) {
  Row row(reply, "agent card");
  auto name = row.maybe_text();
  AgentCard a;
  a.id = id;
  a.teams_csv = row.text();
  a.status = row.text();
  // Counters are stored text: one missing or not a number reads 0.
  auto number = [&row] { return parse_integer(row.text()).value_or(0); };
  a.active = number();
  a.offered = number();
  a.capacity = number();
  a.connections = number();
  if (!row.ok()) return row.failure();
  if (!row.at_end()) return Failure::protocol("agent card: more than the seven fields asked for");
  if (!name) return std::optional<AgentCard>{};
  a.name = std::move(*name);
  return std::optional<AgentCard>(std::move(a));
}

asio::awaitable<Result<std::optional<AgentCard>>> DirectoryStore::agent(std::string const& id) {
  auto r = co_await db_.cmd("HMGET", db_.keys().agent(id), "name", "teams", "status", "active", "offered", "capacity",
                            "conns");
  if (!r) co_return r.failure();
  co_return agent_card_of(id, *r);
}

asio::awaitable<Result<bool>> DirectoryStore::has_team(std::string const& team) {
  auto r = co_await db_.cmd("SISMEMBER", db_.keys().teams(), team);
  if (!r) co_return r.failure();
  if (r->kind != Reply::Kind::integer) co_return Failure::protocol("team known: expected an integer");
  co_return r->integer == 1;
}

asio::awaitable<Result<std::vector<std::string>>> DirectoryStore::team_members(std::string const& team) {
  co_return strings_of(co_await db_.cmd("SMEMBERS", db_.keys().team_agents(team)), "team members");
}

asio::awaitable<Result<std::vector<std::string>>> DirectoryStore::staff() {
  co_return strings_of(co_await db_.cmd("SMEMBERS", db_.keys().users()), "staff");
}

}  // namespace exceed::store
