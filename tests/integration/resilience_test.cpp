// Faults: the server killed mid-chat, Redis gone and back, a clean shutdown.
#include "harness.hpp"

using namespace exceed::test;
using namespace std::chrono_literals;

TEST_CASE("kill -9 of the server mid-chat: after a restart every acked message, queue and assignment is there") {
  Deployment d(Env{{"EXCEED_ROUTING_TICKET_WHEN_OFFLINE", "false"}});
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey, "m1");
  accept(ann, conv);
  std::vector<std::int64_t> acked{1};
  for (int i = 0; i < 20; ++i) {
    auto& who = i % 2 ? casey : ann;
    auto ack = send(who, conv, "m" + std::to_string(i + 2), "k" + std::to_string(i));
    REQUIRE(ok(ack));
    acked.push_back(ack.at("seq").as_int64());
  }
  auto waiting = customer(d.port(), "Waiting");
  // Ann is at capacity 3? No: she has one chat. Make the waiting chat stay
  // queued by taking ann away first.
  REQUIRE(ok(ann->request(frame({{"type", "agent.status"}, {"status", "away"}}))));
  auto queued = start_chat(waiting, "waiting here");

  d.server().kill9();
  d.server().start();

  ann.reconnect();
  auto h = history(ann, conv);
  REQUIRE(h.size() == acked.size());
  for (std::size_t i = 0; i < h.size(); ++i) REQUIRE(h[i].at("seq").as_int64() == acked[i]);
  auto boss = [&] {
    d.user("boss", "supervisor");
    return login(d.port(), "boss", "password123");
  }();
  auto get = [&](std::string const& id) {
    return http(d.port(), "GET", "/api/v1/conversations/" + id, "", {{"Authorization", "Bearer " + boss}}).json();
  };
  REQUIRE(get(conv).at("status").as_string() == "active");
  REQUIRE(get(conv).at("agent").at("id").as_string() == ann.id);
  REQUIRE(get(queued).at("status").as_string() == "queued");
  // And the chat goes on where it was.
  REQUIRE(send(ann, conv, "back", "after-restart").at("seq").as_int64() == static_cast<std::int64_t>(acked.size()) + 1);
}

TEST_CASE("Redis stopped and restarted under a running server: unavailable meanwhile, then everything works again") {
  Deployment d(Env{}, RedisServer::Options{true, true, "", {}});
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey);
  accept(ann, conv);
  REQUIRE(ok(send(casey, conv, "before", "c-1")));

  d.redis.kill9();
  REQUIRE(d.server().wait_ready(false));
  auto during = send(casey, conv, "during", "c-2");
  REQUIRE(code_of(during) == "unavailable");
  REQUIRE(http(d.port(), "GET", "/healthz").status == 200);  // the process itself is fine
  REQUIRE(http(d.port(), "POST", "/api/v1/visitors", "{}").status == 503);

  d.redis.start();
  REQUIRE(d.server().wait_ready(true));
  // The same client_msg_id can be retried: it was never stored.
  auto retry = send(casey, conv, "during", "c-2");
  REQUIRE(ok(retry));
  REQUIRE(retry.at("seq").as_int64() == 3);
  REQUIRE(message_event(ann, conv, 3).at("text").as_string() == "during");  // pub/sub is back too
  auto h = history(ann, conv);
  REQUIRE(h.size() == 3);
}

TEST_CASE("SIGTERM: WebSockets are closed with 1001 going away and the process exits 0") {
  Deployment d(Env{{"EXCEED_ROUTING_TICKET_WHEN_OFFLINE", "false"}});
  auto casey = customer(d.port());
  auto conv = start_chat(casey);
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  accept(ann, conv);
  d.server().signal(SIGTERM);
  REQUIRE(casey->wait_closed(5s) == std::optional<std::uint16_t>(1001));
  REQUIRE(casey.ws->close_reason() == "going away");
  REQUIRE(ann->wait_closed(5s) == std::optional<std::uint16_t>(1001));
  auto started = std::chrono::steady_clock::now();
  REQUIRE(d.server().wait_exit(5s) == 0);
  REQUIRE(std::chrono::steady_clock::now() - started < 3s);
  // The agent's connection was counted out before the exit: her chat is
  // kept, her grace period runs, and no connection is left as a ghost.
  REQUIRE(redis_cli(d.redis.port(), "HGET exceed:agent:" + ann.id + " conns") == "0");
  REQUIRE(redis_cli(d.redis.port(), "ZSCORE exceed:grace " + ann.id) != "");
  REQUIRE(redis_cli(d.redis.port(), "HGET exceed:conv:" + conv + " status") == "active");
}

TEST_CASE("a store that stalls under load slows clients down without closing them, and nothing is lost") {
  // Requests wait on Redis while it sleeps: the clients' sockets stop being
  // read (backpressure) instead of their waiting frames counting as a flood.
  Deployment d(Env{{"EXCEED_LIMITS_MESSAGES_PER_S", "1000"}, {"EXCEED_LIMITS_BURST", "1000"},
                   {"EXCEED_REDIS_COMMAND_TIMEOUT_MS", "10000"}, {"EXCEED_ROUTING_TICKET_WHEN_OFFLINE", "false"}});
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey, "before the stall");
  accept(ann, conv);
  d.redis.freeze();
  constexpr int n = 300;  // far more than the 64 frames a client may have waiting
  for (int i = 0; i < n; ++i)
    casey->send(frame({{"type", "message.send"}, {"id", i}, {"conversation_id", conv},
                       {"client_msg_id", "s" + std::to_string(i)}, {"text", "during the stall " + std::to_string(i)}}));
  // Nothing can be answered while Redis hangs; the connections stay open.
  REQUIRE(casey->none([](Frame const& f) { return ok(f) || code_of(f) == "rate_limited"; }, 2s));
  REQUIRE(casey->is_open());
  d.redis.thaw();
  int acked = 0;
  auto const deadline = std::chrono::steady_clock::now() + 30s;
  while (acked < n && std::chrono::steady_clock::now() < deadline) {
    auto f = casey->next(5s);
    REQUIRE(f);
    INFO(json::serialize(*f));
    REQUIRE(code_of(*f) != "rate_limited");
    if (ok(*f)) ++acked;
  }
  REQUIRE(acked == n);
  REQUIRE(casey->is_open());
  REQUIRE(ann->is_open());
  // Every message stored once, in order (history comes in pages of 200).
  auto first = history(ann, conv);
  auto rest = history(ann, conv, first.back().at("seq").as_int64());
  REQUIRE(first.size() + rest.size() == static_cast<std::size_t>(n + 1));
  REQUIRE(rest.back().at("seq").as_int64() == n + 1);
}
