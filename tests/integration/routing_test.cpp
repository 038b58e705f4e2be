// Routing through the real server: offers, expiry, decline, capacity, the
// grace period, transfers, force-assign, queue positions, and atomic
// assignment across two processes.
#include "harness.hpp"

#include <map>
#include <set>

using namespace exceed::test;
using namespace std::chrono_literals;

TEST_CASE("an unanswered offer expires and goes to the next agent") {
  Deployment d(Env{{"EXCEED_ROUTING_OFFER_TIMEOUT_S", "1"}});
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey);
  offer_for(ann, conv);
  d.user("bob");
  auto bob = agent(d.port(), "bob");  // online while ann's offer is pending
  auto expired = ann->expect_type("conversation.offer_expired", 5s);
  REQUIRE(str(expired, "conversation_id") == conv);
  offer_for(bob, conv);
  // A late accept from ann is refused.
  REQUIRE(code_of(ann->request(frame({{"type", "conversation.accept"}, {"conversation_id", conv}}))) == "conflict");
  REQUIRE(ok(bob->request(frame({{"type", "conversation.accept"}, {"conversation_id", conv}}))));
  REQUIRE(casey->expect_type("conversation.assigned").at("agent").at("id").as_string() == bob.id);
}

TEST_CASE("a declined chat goes to the next agent, and nobody away or full gets an offer") {
  Deployment d;
  d.user("ann");
  d.user("bob");
  d.user("cy", "agent", "support", 1);
  auto ann = agent(d.port(), "ann");
  auto bob = agent(d.port(), "bob", false);
  REQUIRE(ok(bob->request(frame({{"type", "agent.status"}, {"status", "away"}}))));
  auto cy = agent(d.port(), "cy");

  // cy takes one chat and is then full.
  auto first = customer(d.port());
  auto c1 = start_chat(first);
  Person* got = nullptr;
  for (auto* p : {&ann, &cy}) {
    if (!p->ws->none([&](Frame const& f) { return is_type(f, "conversation.offer") && str(f, "conversation_id") == c1; }, 1500ms)) {
      got = p;
      break;
    }
  }
  REQUIRE(got != nullptr);
  REQUIRE(ok((*got)->request(frame({{"type", "conversation.accept"}, {"conversation_id", c1}}))));
  if (got != &cy) {  // make cy the full one for the rest of the test
    auto extra = customer(d.port());
    auto c2 = start_chat(extra);
    accept(cy, c2);
  }
  auto casey = customer(d.port());
  auto conv = start_chat(casey);
  offer_for(ann, conv);
  REQUIRE(ok(ann->request(frame({{"type", "conversation.decline"}, {"conversation_id", conv}}))));
  // Only bob (away) and cy (full) remain: the chat waits.
  REQUIRE(bob->none([](Frame const& f) { return is_type(f, "conversation.offer"); }, 1000ms));
  REQUIRE(cy->none([&](Frame const& f) { return is_type(f, "conversation.offer") && str(f, "conversation_id") == conv; }, 200ms));
  REQUIRE(ok(bob->request(frame({{"type", "agent.status"}, {"status", "online"}}))));
  accept(bob, conv);
}

TEST_CASE("waiting customers are told their position as the queue moves") {
  Deployment d(Env{{"EXCEED_ROUTING_TICKET_WHEN_OFFLINE", "false"}});
  d.user("ann", "agent", "support", 1);
  std::vector<Person> people;
  std::vector<std::string> convs;
  for (int i = 0; i < 3; ++i) {
    people.push_back(customer(d.port(), "C" + std::to_string(i)));
    auto ack = people.back()->request(frame({{"type", "conversation.start"}, {"text", "hi"}}));
    REQUIRE(ack.at("queue_position").as_int64() == i + 1);
    convs.push_back(str(ack, "conversation_id"));
  }
  auto ann = agent(d.port(), "ann");
  accept(ann, convs[0]);
  auto pos = [&](Person& p, int want) {
    return p->expect([&](Frame const& f) { return is_type(f, "queue.position") && f.at("position").as_int64() == want; },
                     5s, "position " + std::to_string(want));
  };
  auto p1 = pos(people[1], 1);
  REQUIRE(p1.at("estimated_wait_s").is_int64());
  pos(people[2], 2);
  REQUIRE(ok(ann->request(frame({{"type", "conversation.resolve"}, {"conversation_id", convs[0]}}))));
  accept(ann, convs[1]);
  pos(people[2], 1);
}

TEST_CASE("an agent who drops keeps their chats for the grace period, then they go back to the head of the queue") {
  Deployment d(Env{{"EXCEED_ROUTING_AGENT_GRACE_S", "2"}});
  d.user("ann");
  d.user("bob");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey);
  accept(ann, conv);
  casey->expect_type("conversation.assigned");

  SECTION("back within the grace period: nothing moves") {
    ann->drop();
    ann.reconnect();
    auto bob = agent(d.port(), "bob");
    REQUIRE(bob->none([](Frame const& f) { return is_type(f, "conversation.offer"); }, 3500ms));
    REQUIRE(ok(send(ann, conv, "still here", "a-1")));
  }
  SECTION("gone past it: the chat goes back to the queue and to the next agent") {
    auto bob = agent(d.port(), "bob");
    ann->drop();
    auto offer = bob->expect_type("conversation.offer", 10s);
    REQUIRE(str(offer, "conversation_id") == conv);
    REQUIRE(ok(bob->request(frame({{"type", "conversation.accept"}, {"conversation_id", conv}}))));
    REQUIRE(casey->expect_type("conversation.assigned", 5s).at("agent").at("id").as_string() == bob.id);
    REQUIRE(history(bob, conv).size() == 1);  // the history is intact for the new agent
    // ann, back later, no longer has the chat.
    ann.reconnect();
    REQUIRE(code_of(send(ann, conv, "I'm back", "a-2")) == "forbidden");
  }
}

TEST_CASE("transfer to an agent, to a team, and a supervisor's force-assign") {
  Deployment d;
  d.user("ann", "agent", "support");
  d.user("bob", "agent", "support");
  d.user("sam", "agent", "sales");
  d.user("boss", "supervisor", "support");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey);
  accept(ann, conv);
  casey->expect_type("conversation.assigned");
  auto bob = agent(d.port(), "bob");
  auto sam = agent(d.port(), "sam");

  SECTION("to an agent") {
    auto ack = ann->request(frame({{"type", "conversation.transfer"}, {"conversation_id", conv}, {"to_agent_id", bob.id}}));
    REQUIRE(ok(ack));
    REQUIRE(str(ack, "status") == "active");
    REQUIRE(ann->expect_type("conversation.unassigned").at("reason").as_string() == "transferred");
    REQUIRE(bob->expect_type("conversation.assigned").at("conversation_id").as_string() == conv);
    REQUIRE(casey->expect_type("conversation.assigned").at("agent").at("id").as_string() == bob.id);
    REQUIRE(ok(send(bob, conv, "Bob here", "b-1")));
    REQUIRE(code_of(send(ann, conv, "me again", "a-9")) == "forbidden");
  }
  SECTION("to a team queue") {
    auto ack = ann->request(frame({{"type", "conversation.transfer"}, {"conversation_id", conv}, {"to_team", "sales"}}));
    REQUIRE(ok(ack));
    REQUIRE(str(ack, "status") == "queued");
    accept(sam, conv);
    REQUIRE(casey->expect_type("conversation.assigned").at("agent").at("id").as_string() == sam.id);
    REQUIRE(code_of(ann->request(frame({{"type", "conversation.transfer"}, {"conversation_id", conv}, {"to_team", "nowhere"}}))) != "ack");
  }
  SECTION("a supervisor force-assigns") {
    auto boss = agent(d.port(), "boss", false);
    REQUIRE(ok(boss->request(frame({{"type", "conversation.assign"}, {"conversation_id", conv}, {"agent_id", sam.id}}))));
    REQUIRE(ann->expect_type("conversation.unassigned").at("reason").as_string() == "reassigned");
    REQUIRE(sam->expect_type("conversation.assigned").at("conversation_id").as_string() == conv);
    REQUIRE(code_of(ann->request(frame({{"type", "conversation.assign"}, {"conversation_id", conv}, {"agent_id", ann.id}}))) == "forbidden");
  }
  SECTION("only the agent on the chat may transfer it") {
    REQUIRE(code_of(bob->request(frame({{"type", "conversation.transfer"}, {"conversation_id", conv}, {"to_agent_id", bob.id}}))) == "conflict");
  }
}

TEST_CASE("two processes on one Redis: a customer on one reaches an agent on the other") {
  Deployment d;
  d.add_server();
  d.user("ann");
  auto ann = agent(d.port(1), "ann");
  auto casey = customer(d.port(0));
  auto conv = start_chat(casey);
  accept(ann, conv);
  REQUIRE(casey->expect_type("conversation.assigned").at("agent").at("id").as_string() == ann.id);
  REQUIRE(send(ann, conv, "hello from process two", "a-1").at("seq").as_int64() == 2);
  REQUIRE(message_event(casey, conv, 2).at("text").as_string() == "hello from process two");
  REQUIRE(send(casey, conv, "and back", "c-1").at("seq").as_int64() == 3);
  REQUIRE(message_event(ann, conv, 3).at("text").as_string() == "and back");
}

TEST_CASE("many customers at once against agents on two processes: never two agents for a chat, never above capacity") {
  Deployment d;
  d.add_server();
  constexpr int agents = 6, capacity = 2, customers = 30;
  std::vector<Person> staff;
  for (int i = 0; i < agents; ++i) {
    d.user("agent" + std::to_string(i), "agent", "support", capacity);
    staff.push_back(agent(d.port(i % 2), "agent" + std::to_string(i)));
  }
  std::vector<Person> people;
  for (int i = 0; i < customers; ++i) people.push_back(customer(d.port(i % 2), "C" + std::to_string(i)));
  for (auto& p : people) p->send(frame({{"type", "conversation.start"}, {"id", "s"}, {"text", "hi"}}));

  // Every agent accepts every offer it gets, until every slot is taken
  // (bounded: on a loaded machine offers may take a while to arrive).
  std::map<std::string, std::string> owner;  // conversation -> agent
  std::map<std::string, int> load;
  auto const slots = static_cast<std::size_t>(agents * capacity);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (owner.size() < slots && std::chrono::steady_clock::now() < deadline) {
    for (auto& a : staff) {
      while (auto f = a->next(50ms)) {
        if (!is_type(*f, "conversation.offer")) continue;
        auto conv = str(*f, "conversation_id");
        auto ack = a->request(frame({{"type", "conversation.accept"}, {"conversation_id", conv}}));
        if (ok(ack)) {
          INFO("conversation " << conv << " accepted twice");
          REQUIRE(owner.count(conv) == 0);
          owner[conv] = a.id;
          ++load[a.id];
        }
      }
    }
  }
  REQUIRE(owner.size() == slots);
  // Full: no agent is offered another chat.
  for (auto& a : staff) CHECK(a->none([](Frame const& f) { return is_type(f, "conversation.offer"); }, 100ms));
  for (auto const& [id, n] : load) REQUIRE(n <= capacity);
  // The store agrees: every assignment is the one the agent was acked for.
  auto boss_token = [&] {
    d.user("boss", "supervisor");
    return login(d.port(), "boss", "password123");
  }();
  int active = 0;
  for (auto const& [conv, agent_id] : owner) {
    auto r = http(d.port(), "GET", "/api/v1/conversations/" + conv, "", {{"Authorization", "Bearer " + boss_token}});
    REQUIRE(r.json().at("agent").at("id").as_string() == agent_id);
    ++active;
  }
  REQUIRE(active == agents * capacity);
}
