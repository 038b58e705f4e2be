// Who is there to answer, as the directory and availability endpoints
// (app/directory.cpp) read it: the teams, their members, the staff, and each
// agent's routing record as stored. Plain reads: the judgement (an agent
// without a connection is offline, who has a free slot) is the app's.
#pragma once

#include "store/db.hpp"
#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace exceed::store {

// An agent's routing record (`agent:<id>`) as stored: the status they set
// last, whether or not they are connected now (`connections`, across
// processes). A number field that is missing or not a number reads 0.
struct AgentCard {
  std::string id;
  std::string name;       // may be "": the app shows the id then
  std::string teams_csv;  // as stored
  std::string status;     // online | away | offline as set last, or ""
  std::int64_t active = 0, offered = 0, capacity = 0, connections = 0;
};

class DirectoryStore {
 public:
  explicit DirectoryStore(Db& db) : db_(db) {}

  // The agent's routing record; nullopt when there is none (no name in it).
  boost::asio::awaitable<Result<std::optional<AgentCard>>> agent(std::string const& id);
  boost::asio::awaitable<Result<bool>> has_team(std::string const& team);
  // The members of a team (RoutingStore::teams lists the teams), and every
  // staff account's id (`users`).
  boost::asio::awaitable<Result<std::vector<std::string>>> team_members(std::string const& team);
  boost::asio::awaitable<Result<std::vector<std::string>>> staff();

 private:
  Db& db_;
};

// The reply of agent()'s HMGET (name, teams, status, active, offered,
// capacity, conns: strings or nils) read; a protocol failure for any other shape.
Result<std::optional<AgentCard>> agent_card_of(std::string const& id, Reply const& reply);

}  // namespace exceed::store
