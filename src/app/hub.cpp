#include "app/hub.hpp"

#include "app/client.hpp"

#include <algorithm>
#include <unordered_set>

namespace exceed::app {
namespace {

void erase_from(std::unordered_map<std::string, std::vector<Client*>>& index, std::string const& key,
                Client const* c) {
  auto it = index.find(key);
  if (it == index.end()) return;
  std::erase(it->second, c);
  if (it->second.empty()) index.erase(it);
}

}  // namespace

void Hub::add(std::shared_ptr<Client> const& c) {
  by_session_[c->id()] = c;
  by_user_[c->user_id()].push_back(c.get());
  if (c->role() == core::Role::agent)
    for (auto const& t : c->teams()) by_team_[t].push_back(c.get());
  if (c->role() == core::Role::supervisor) supervisors_.push_back(c.get());
}

void Hub::remove(Client const& c) {
  auto it = by_session_.find(c.id());
  if (it == by_session_.end() || it->second.get() != &c) return;
  erase_from(by_user_, c.user_id(), &c);
  if (c.role() == core::Role::agent)
    for (auto const& t : c.teams()) erase_from(by_team_, t, &c);
  if (c.role() == core::Role::supervisor) std::erase(supervisors_, &c);
  by_session_.erase(it);
}

std::size_t Hub::deliver(Targets const& targets, std::shared_ptr<std::string const> const& frame) const {
  // One target is the common case (a user): no de-duplication needed.
  std::size_t sent = 0;
  auto send_all = [&](std::vector<Client*> const& list, std::unordered_set<Client*>* seen) {
    for (auto* c : list)
      if (!seen || seen->insert(c).second) {
        c->send(frame);
        ++sent;
      }
  };
  std::unordered_set<Client*> seen;
  auto* dedup = targets.size() > 1 ? &seen : nullptr;
  for (auto const& t : targets) {
    if (t.rfind("u:", 0) == 0) {
      if (auto it = by_user_.find(t.substr(2)); it != by_user_.end()) send_all(it->second, dedup);
    } else if (t.rfind("team:", 0) == 0) {
      if (auto it = by_team_.find(t.substr(5)); it != by_team_.end()) send_all(it->second, dedup);
    } else if (t == "sup") {
      send_all(supervisors_, dedup);
    }
  }
  return sent;
}

std::vector<std::shared_ptr<Client>> Hub::sessions_of(std::string const& user_id) const {
  std::vector<std::shared_ptr<Client>> out;
  if (auto it = by_user_.find(user_id); it != by_user_.end())
    for (auto* c : it->second) out.push_back(c->shared_from_this());
  return out;
}

std::size_t Hub::count(core::Role role) const noexcept {
  return static_cast<std::size_t>(std::count_if(by_session_.begin(), by_session_.end(),
                                                [role](auto const& kv) { return kv.second->role() == role; }));
}

int Hub::agent_sessions(std::string const& agent_id) const {
  auto it = by_user_.find(agent_id);
  if (it == by_user_.end()) return 0;
  return static_cast<int>(std::count_if(it->second.begin(), it->second.end(),
                                        [](Client* c) { return c->role() == core::Role::agent; }));
}

std::vector<std::shared_ptr<Client>> Hub::all() const {
  std::vector<std::shared_ptr<Client>> out;
  out.reserve(by_session_.size());
  for (auto const& kv : by_session_) out.push_back(kv.second);
  return out;
}

}  // namespace exceed::app
