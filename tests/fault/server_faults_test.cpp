// Faults of the server process under a steady chat load: kill -9 and a
// restart, and one of two processes killed for good. Each test prints a
// "FAULT ..." line with its figures (docs/RELIABILITY.md quotes them).
#include "fault/scene.hpp"

using namespace exceed::fault;
using namespace std::chrono_literals;

namespace {

Env fault_env(Env extra = {}) {
  Env e{{"EXCEED_ROUTING_TICKET_WHEN_OFFLINE", "false"},
        {"EXCEED_LIMITS_MESSAGES_PER_S", "200"},
        {"EXCEED_LIMITS_BURST", "400"}};
  e.insert(e.end(), extra.begin(), extra.end());
  return e;
}

}  // namespace

TEST_CASE("fault: kill -9 of the server under load and a restart lose no acked message and double none") {
  Deployment d(fault_env({{"EXCEED_ROUTING_OFFER_TIMEOUT_S", "1"}, {"EXCEED_ROUTING_DECLINE_COOLDOWN_S", "1"}}));
  Scene s(d, 3, 8);  // 3 agents, 24 customers, all talking
  // And 8 chats waiting: offered to the agents' free seats (never accepted,
  // so the offers lapse and move on every second) or queued behind them.
  s.all_online();
  s.add_waiting(8);
  auto const n = static_cast<std::int64_t>(s.swarm.size());
  s.swarm.start_sending();
  REQUIRE(s.swarm.wait_figures([](SwarmFigures const& f) { return f.acked >= 300; }, 20s));

  auto before = s.swarm.figures();
  auto killed = Clock::now();
  d.server().kill9();
  d.server().start();
  // Recovered: every client back (with resume) and acks flowing again.
  REQUIRE(s.swarm.wait_figures(
      [&](SwarmFigures const& f) { return f.reconnects >= n && f.connected == n && f.acked >= before.acked + n; },
      20s));
  double recovery = ms_since(killed);
  s.finish();

  auto f = s.audited(d.redis.port(), "server-kill9", recovery);
  CHECK(f.other_errors == 0);
}

TEST_CASE("fault: one of two server processes killed: its clients move to the other, its lost agent's chats follow the grace period") {
  Deployment d(fault_env({{"EXCEED_ROUTING_AGENT_GRACE_S", "1"}}));
  d.add_server();
  Scene s(d, 4, 3);  // agents 0 and 2 (and their customers) on server 0, 1 and 3 on server 1
  s.all_online();
  auto const n = static_cast<std::int64_t>(s.swarm.size());
  s.swarm.start_sending();
  REQUIRE(s.swarm.wait_figures([](SwarmFigures const& f) { return f.acked >= 200; }, 20s));

  // Agent 2's laptop goes away with server 0 (server 0 never sees the
  // socket close, so only the reaping of the dead process can start their
  // grace period); agent 0 reconnects to server 1.
  auto& gone = s.agents[2];
  s.swarm.hold(gone.client);
  auto before = s.swarm.figures();
  auto killed = Clock::now();
  d.server(0).kill9();
  auto moved = static_cast<std::int64_t>(s.chats.size() / 2 + 1);  // server 0's customers and agent 0
  REQUIRE(s.swarm.wait_figures(
      [&](SwarmFigures const& f) {
        return f.reconnects >= moved && f.connected == n - 1 && f.acked >= before.acked + n;
      },
      20s));
  double recovery = ms_since(killed);

  // Server 1 reaps the dead process (15 s without a heartbeat): agent 0 is
  // connected there and keeps every chat; agent 2 is not, and after the
  // 1 s grace period their chats go back to the queue (and are offered on).
  auto released = [&] {
    for (auto const& conv : gone.convs) {
      auto h = redis_command(d.redis.port(), {"HMGET", "exceed:conv:" + conv, "status", "agent"});
      if (h.at(0) == "active" && h.at(1) == gone.id) return false;
    }
    return true;
  };
  bool was_released = poll_until(released, 25s);
  double released_ms = ms_since(killed);
  CHECK(was_released);
  CHECK(released_ms >= 14000);  // not before the process is declared dead (15 s without a beat)
  for (auto const& conv : s.agents[0].convs) {
    auto h = redis_command(d.redis.port(), {"HMGET", "exceed:conv:" + conv, "status", "agent"});
    CHECK(h.at(0) == "active");
    CHECK(h.at(1) == s.agents[0].id);
  }
  s.finish(0);

  s.audited(d.redis.port(), "one-of-two-servers-killed", recovery,
            "grace_release_ms=" + std::to_string(static_cast<long>(released_ms)));
}
