// Fault tests: a deployment with agents and customers already chatting, and
// its people handed over to a Swarm that keeps them talking.
#pragma once

#include "fault/swarm.hpp"
#include "integration/harness.hpp"

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace exceed::fault {

using namespace exceed::test;

inline double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

inline void require_clean(Audit const& a, SwarmFigures const& f) {
  for (auto const& p : a.problems) UNSCOPED_INFO(p);
  CHECK(a.acked > 0);
  CHECK(a.acked == f.acked);
  CHECK(a.lost == 0);
  CHECK(a.duplicates == 0);
  CHECK(a.gaps == 0);
  CHECK(f.ack_conflicts == 0);
  CHECK(f.unacked == 0);
}

struct Chat {
  std::string conv;
  std::string token;       // the customer's
  std::size_t agent = 0;   // index into Scene::agents
  std::size_t client = 0;  // the customer's index in the swarm
};

struct AgentSeat {
  std::string name, id, token;
  std::vector<std::string> convs;
  std::size_t client = 0;  // index in the swarm
  std::uint16_t port = 0;
};

// `agents` agents with `per_agent` active chats each, each chat with its own
// customer. Agent j and its customers connect to server j % servers. Every
// customer talks in its chat and every agent in its first chat. D is a
// test::Deployment or anything with its servers, port(i), user(...),
// redis.port() (the Redis that holds the data now) and prefix().
template <class D>
struct SceneT {
  D& d;
  Swarm swarm;
  std::vector<AgentSeat> agents;
  std::vector<Chat> chats;

  SceneT(D& dep, std::size_t n_agents, std::size_t per_agent, SwarmOptions opt = {})
      : d(dep), swarm(opt) {
    std::vector<Person> people;  // kept open until the swarm has taken over
    for (std::size_t j = 0; j < n_agents; ++j) {
      auto port = d.port(j % d.servers.size());
      AgentSeat seat;
      seat.name = "agent" + std::to_string(j);
      seat.port = port;
      d.user(seat.name, "agent", "support", static_cast<int>(per_agent) + 2);
      auto a = agent(port, seat.name);
      seat.id = a.id;
      seat.token = a.token;
      for (std::size_t k = 0; k < per_agent; ++k) {
        auto c = customer(port, "Customer " + std::to_string(j) + "." + std::to_string(k));
        auto conv = start_chat(c, "hello from " + std::to_string(j) + "." + std::to_string(k));
        accept(a, conv);
        seat.convs.push_back(conv);
        chats.push_back(Chat{conv, c.token, j, 0});
        chats.back().client = swarm.add(c.token, ports_from(j), {conv}, conv, "customer");
        people.push_back(std::move(c));
      }
      // Away while the next agent takes the next chats; online again below.
      REQUIRE(ok(a->request(frame({{"type", "agent.status"}, {"status", "away"}}))));
      people.push_back(std::move(a));
      agents.push_back(std::move(seat));
    }
    for (std::size_t j = 0; j < agents.size(); ++j) {
      auto& s = agents[j];
      s.client = swarm.add(s.token, ports_from(j), s.convs, s.convs.empty() ? "" : s.convs.front(), "agent");
    }
    REQUIRE(swarm.connect_all(std::chrono::seconds(20)));
    for (auto& p : people) p->close();
  }

  // Server j % n first, then the others: where a client goes when its own is gone.
  std::vector<std::uint16_t> ports_from(std::size_t j) const {
    std::vector<std::uint16_t> out;
    for (std::size_t k = 0; k < d.servers.size(); ++k) out.push_back(d.port((j + k) % d.servers.size()));
    return out;
  }

  void all_online() {
    for (auto& s : agents) {
      auto a = Person{std::make_unique<WsClient>(s.port), s.id, s.token, s.port};
      REQUIRE(is_type(a->hello(s.token), "welcome"));
      REQUIRE(ok(a->request(frame({{"type", "agent.status"}, {"status", "online"}}))));
      a->close();
    }
  }

  // k more customers start chats now (offered to the agents, who are busy
  // and never accept, or queued) and talk in them too. Connects them to the
  // swarm at once. Call after all_online().
  void add_waiting(std::size_t k) {
    std::vector<Person> people;
    std::size_t first = swarm.size();
    for (std::size_t i = 0; i < k; ++i) {
      auto port = d.port(i % d.servers.size());
      auto c = customer(port, "Waiting " + std::to_string(i));
      auto conv = start_chat(c, "anyone there? " + std::to_string(i));
      chats.push_back(Chat{conv, c.token, no_agent, swarm.add(c.token, ports_from(i), {conv}, conv, "waiting")});
      people.push_back(std::move(c));
    }
    REQUIRE(swarm.connect_all(std::chrono::seconds(20)));
    REQUIRE(swarm.size() == first + k);
    for (auto& p : people) p->close();
  }
  static constexpr std::size_t no_agent = static_cast<std::size_t>(-1);

  // The number of messages stored in each chat now.
  std::map<std::string, std::int64_t> stored_counts() {
    std::map<std::string, std::int64_t> out;
    for (auto const& c : chats)
      out[c.conv] = static_cast<std::int64_t>(stored_messages(d.redis.port(), c.conv, d.prefix()).size());
    return out;
  }

  // After a fault: `more` messages acked on top of those acked now, then the
  // load stopped, every message acked and every client caught up with what
  // is stored.
  void finish(std::int64_t more = 300) {
    if (more > 0) {
      auto after = swarm.figures();
      REQUIRE(swarm.wait_figures([&](SwarmFigures const& f) { return f.acked >= after.acked + more; },
                                 std::chrono::seconds(20)));
    }
    swarm.stop_sending();
    REQUIRE(swarm.wait_all_acked(std::chrono::seconds(15)));
    REQUIRE(swarm.wait_caught_up(stored_counts(), std::chrono::seconds(15)));
  }

  // The store (Redis on `redis_port`) audited against what the clients saw:
  // the "FAULT" line printed, nothing lost, doubled or missing, and every
  // chat with one agent (or waiting). Returns the swarm's figures.
  SwarmFigures audited(std::uint16_t redis_port, std::string const& fault, double recovery_ms,
                       std::string const& extra = "") {
    auto f = swarm.figures();
    auto a = audit(redis_port, swarm, d.prefix());
    print_figures(fault, f, a, recovery_ms, extra);
    require_clean(a, f);
    auto problems = assignment_problems();
    for (auto const& p : problems) UNSCOPED_INFO(p);
    CHECK(problems.empty());
    return f;
  }

  // Every chat active with exactly one agent, who holds it in their set, and
  // no agent holding a chat that is not theirs. Returns the problems found.
  std::vector<std::string> assignment_problems() {
    std::vector<std::string> problems;
    auto port = d.redis.port();
    auto const p = d.prefix();
    for (auto const& c : chats) {
      auto h = redis_command(port, {"HMGET", p + "conv:" + c.conv, "status", "agent", "offered_to"});
      auto const& status = h.at(0);
      auto const& agent = h.at(1);
      int holders = 0;
      std::string holder;
      for (auto const& s : agents) {
        if (redis_command(port, {"SISMEMBER", p + "agent:" + s.id + ":convs", c.conv}).at(0) == "1") {
          ++holders;
          holder = s.id;
        }
      }
      bool queued = !redis_command(port, {"ZSCORE", p + "queue:support", c.conv}).at(0).empty();
      if (status == "active") {
        if (agent.empty() || holders != 1 || holder != agent)
          problems.push_back(c.conv + ": active, agent '" + agent + "', held by " + std::to_string(holders));
      } else if (status == "queued") {
        if (holders != 0 || !queued) problems.push_back(c.conv + ": queued but held or not in the queue");
      } else if (status == "offered") {
        if (holders != 0 || h.at(2).empty()) problems.push_back(c.conv + ": offered to nobody, or held");
      } else {
        problems.push_back(c.conv + ": status '" + status + "'");
      }
    }
    return problems;
  }
};

using Scene = SceneT<Deployment>;

}  // namespace exceed::fault
