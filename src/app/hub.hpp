// The sessions of this process and how events reach them: by user, by
// team, or to every supervisor. Cross-process delivery goes over one Redis
// pub/sub channel; each process hands a published event to its own sessions.
#pragma once

#include "core/domain.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace exceed::app {

class Client;

// Where an event goes: "u:<user id>" (every session of that user),
// "team:<name>" (every agent session of that team), "sup" (every supervisor).
using Targets = std::vector<std::string>;

class Hub {
 public:
  void add(std::shared_ptr<Client> const& c);
  void remove(Client const& c);

  // Hands one encoded frame to every local session the targets name, once
  // per session even when several targets name it; returns how many.
  std::size_t deliver(Targets const& targets, std::shared_ptr<std::string const> const& frame) const;

  std::vector<std::shared_ptr<Client>> sessions_of(std::string const& user_id) const;
  std::size_t count(core::Role role) const noexcept;
  std::size_t size() const noexcept { return by_session_.size(); }
  // How many sessions of this agent this process holds.
  int agent_sessions(std::string const& agent_id) const;
  std::vector<std::shared_ptr<Client>> all() const;

 private:
  std::unordered_map<std::uint64_t, std::shared_ptr<Client>> by_session_;
  std::unordered_map<std::string, std::vector<Client*>> by_user_;
  std::unordered_map<std::string, std::vector<Client*>> by_team_;
  std::vector<Client*> supervisors_;
};

}  // namespace exceed::app
