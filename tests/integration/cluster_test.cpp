// The real server on a real Redis Cluster (3 primaries, 3 replicas, made by
// redis-cli --cluster create; tests/support/redis_cluster.hpp): redis.cluster
// names the seeds; the prefix's hash tag puts routing in one slot, and each
// conversation's talk side (its messages, client_msg_ids, the copy of what
// a send checks and its response clock) is in one of 256 bucket slots
// (store::Keys::talk, docs/CLUSTER.md).
#include "cluster_harness.hpp"
#include "store/keys.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

using namespace exceed::test;
using namespace std::chrono_literals;

namespace {

std::string talk_key(std::string const& conv) { return exceed::store::Keys("{exceed}:").talk(conv); }
std::string messages_key(std::string const& conv) { return exceed::store::Keys("{exceed}:").messages(conv); }
// The primary serving a key's slot now, as the cluster itself says.
std::uint16_t owner_of(ClusterDeployment const& d, std::string const& key) {
  auto slot = d.cluster.command(d.cluster.ports().front(), {"CLUSTER", "KEYSLOT", key}).integer;
  return d.cluster.owner(static_cast<std::uint16_t>(slot));
}

}  // namespace

TEST_CASE("on a Redis Cluster: a chat end to end, resumed after a drop, a resent message stored once",
          "[cluster]") {
  ClusterDeployment d;
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey, "Where is my parcel?");
  accept(ann, conv);
  casey->expect_type("conversation.assigned");
  REQUIRE(history(ann, conv).at(0).at("text").as_string() == "Where is my parcel?");

  REQUIRE(send(ann, conv, "Let me look.", "a-1").at("seq").as_int64() == 2);
  REQUIRE(message_event(casey, conv, 2).at("text").as_string() == "Let me look.");
  REQUIRE(send(casey, conv, "Thanks", "c-1").at("seq").as_int64() == 3);
  REQUIRE(message_event(ann, conv, 3).at("text").as_string() == "Thanks");

  casey->drop();
  for (int i = 1; i <= 3; ++i)
    REQUIRE(send(ann, conv, "missed " + std::to_string(i), "a-m" + std::to_string(i)).at("seq").as_int64() == 3 + i);
  json::array resume;
  resume.push_back(frame({{"conversation_id", conv}, {"after_seq", 3}}));
  casey.ws = std::make_unique<WsClient>(d.port());
  REQUIRE(is_type(casey->hello(casey.token, resume), "welcome"));
  for (int i = 1; i <= 3; ++i) REQUIRE(casey->expect_type("message").at("seq").as_int64() == 3 + i);

  auto again = send(casey, conv, "Thanks", "c-1");
  REQUIRE(again.at("seq").as_int64() == 3);
  REQUIRE(again.at("duplicate").as_bool());
  REQUIRE(history(ann, conv).size() == 6);

  // The messages where the conversation's own slot lives, and nowhere else;
  // the record where routing lives.
  auto talk = owner_of(d, messages_key(conv));
  for (auto port : d.cluster.primaries()) {
    auto len = d.cluster.command(port, {"EXISTS", messages_key(conv)});
    INFO("primary " << port << " (talk " << talk << ")");
    REQUIRE(len.integer == (port == talk ? 1 : 0));
  }
  REQUIRE(d.cluster.command(talk, {"XLEN", messages_key(conv)}).integer == 6);
  REQUIRE(d.cluster.command(d.home(), {"HGET", d.prefix() + "conv:" + conv, "agent"}).str != "");
}

TEST_CASE("on a Redis Cluster: conversations spread over the primaries, and a talk side left behind is repaired",
          "[cluster]") {
  ClusterDeployment d;
  d.user("ann", "agent", "support", 12);
  auto ann = agent(d.port(), "ann");
  // Twelve chats with ids the server makes up: their messages land on more
  // than one primary (all on one of three: a chance of 3 in 3^12).
  std::set<std::uint16_t> used;
  std::vector<std::string> convs;
  std::vector<Person> customers;
  for (int i = 0; i < 12; ++i) {
    customers.push_back(customer(d.port()));
    auto conv = start_chat(customers.back(), "Hello " + std::to_string(i));
    accept(ann, conv);
    customers.back()->expect_type("conversation.assigned");
    REQUIRE(send(ann, conv, "Hi " + std::to_string(i), "a-" + std::to_string(i)).at("seq").as_int64() == 2);
    auto talk = owner_of(d, messages_key(conv));
    REQUIRE(d.cluster.command(talk, {"XLEN", messages_key(conv)}).integer == 2);
    used.insert(talk);
    convs.push_back(conv);
  }
  REQUIRE(used.size() >= 2);

  // A process that died between the assignment and its copy: the talk side
  // still says queued and nobody's, the conversation is listed as behind.
  auto conv = convs.front();
  auto talk = owner_of(d, talk_key(conv));
  d.cluster.command(talk, {"HSET", talk_key(conv), "rev", "0", "status", "queued", "agent", ""});
  d.cluster.command(d.home(), {"SADD", d.prefix() + "copies", conv});
  // The agent's next message finds the copy behind and is refused, or the
  // repair (every heartbeat) came first; either way the copy comes back.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (d.cluster.command(talk, {"HGET", talk_key(conv), "agent"}).str.empty() &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(d.cluster.command(talk, {"HGET", talk_key(conv), "status"}).str == "active");
  REQUIRE(d.cluster.command(d.home(), {"SISMEMBER", d.prefix() + "copies", conv}).integer == 0);
  REQUIRE(send(ann, conv, "Still here", "a-again").at("seq").as_int64() == 3);
}

TEST_CASE("on a Redis Cluster: two processes route through the same queue and talk over the sharded bus",
          "[cluster]") {
  ClusterDeployment d;
  d.add_server();
  d.user("ann", "agent", "support", 3);
  d.user("bob", "agent", "support", 3);
  auto ann = agent(d.port(0), "ann");
  auto bob = agent(d.port(1), "bob");

  // Six customers, three on each process, all at once: each chat goes to one
  // agent, and none gets more than their capacity.
  std::vector<Person> customers;
  std::vector<std::string> convs;
  for (int i = 0; i < 6; ++i) customers.push_back(customer(d.port(i % 2), "Customer " + std::to_string(i)));
  for (auto& c : customers) convs.push_back(start_chat(c, "Hello from " + c.id));
  std::map<std::string, std::string> taken;  // conversation -> agent
  auto take = [&](Person& a, std::string const& name) {
    for (;;) {
      auto f = a->expect([](Frame const& x) { return is_type(x, "conversation.offer"); }, std::chrono::seconds(10),
                         "an offer for " + name);
      auto conv = str(f, "conversation_id");
      REQUIRE(ok(a->request(frame({{"type", "conversation.accept"}, {"conversation_id", conv}}))));
      REQUIRE(taken.emplace(conv, name).second);
      if (std::count_if(taken.begin(), taken.end(), [&](auto const& kv) { return kv.second == name; }) == 3) return;
    }
  };
  take(ann, "ann");
  take(bob, "bob");
  REQUIRE(taken.size() == 6);
  for (auto const& conv : convs) REQUIRE(taken.count(conv) == 1);

  // A message written on one process reaches the agent on the other.
  for (std::size_t i = 0; i < customers.size(); ++i) {
    auto& who = taken[convs[i]] == "ann" ? ann : bob;
    REQUIRE(ok(send(customers[i], convs[i], "Are you there?", "c-" + std::to_string(i))));
    REQUIRE(message_event(who, convs[i], 2).at("text").as_string() == "Are you there?");
  }
}

TEST_CASE("on a Redis Cluster: the primary holding the data killed, the server follows its replica and the chat goes on",
          "[cluster]") {
  ClusterDeployment d;
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey);
  accept(ann, conv);
  casey->expect_type("conversation.assigned");
  for (int i = 1; i <= 5; ++i) REQUIRE(ok(send(casey, conv, "before " + std::to_string(i), "b-" + std::to_string(i))));

  auto home = d.home();
  // Replication is asynchronous: wait until the replica has what was acked,
  // so this test is about following the failover, not about its window.
  REQUIRE(d.cluster.command(home, {"WAIT", "1", "5000"}).integer == 1);
  auto slot = d.slot();
  d.cluster.kill9(home);
  auto promoted = d.cluster.wait_for_failover(slot, home, std::chrono::seconds(30));
  REQUIRE(promoted != 0);

  // Until the server has read the new map it answers unavailable; the
  // customer tries again as the widget does, after a pause, with the same
  // client_msg_id (so a try that was stored after all is not stored twice).
  Frame ack;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    ack = send(casey, conv, "after", "after-1");
    if (ok(ack) || code_of(ack) != "unavailable" || std::chrono::steady_clock::now() > until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  INFO(json::serialize(ack));
  REQUIRE(ok(ack));
  REQUIRE(ack.at("seq").as_int64() == 7);
  REQUIRE(message_event(ann, conv, 7).at("text").as_string() == "after");
  REQUIRE(d.servers.at(0)->wait_ready(true));

  auto h = history(ann, conv);
  std::vector<std::int64_t> seqs;
  for (auto const& m : h) seqs.push_back(m.at("seq").as_int64());
  REQUIRE(seqs == std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("on a Redis Cluster: a chat nobody can take becomes a ticket, a follow-up fires once, a resolved chat is "
          "assessed, and a supervisor watches it live",
          "[cluster]") {
  ClusterDeployment d;
  d.user("ann");
  d.user("boss", "supervisor");
  auto boss = agent(d.port(), "boss", false);
  REQUIRE(ok(boss->request(frame({{"type", "metrics.subscribe"}}))));
  boss->expect_type("metrics");

  // Nobody online: a ticket, which its team can read.
  auto early = customer(d.port(), "Early Customer");
  auto ack = early->request(frame({{"type", "conversation.start"}, {"text", "My order never arrived"}}));
  REQUIRE(ok(ack));
  REQUIRE(str(ack, "status") == "ticket");
  auto ticket = str(ack, "ticket_id");
  auto ann = agent(d.port(), "ann");
  auto got = http(d.port(), "GET", "/api/v1/tickets/" + ticket, "", {{"Authorization", "Bearer " + ann.token}});
  REQUIRE(got.status == 200);
  REQUIRE(got.json().at("status").as_string() == "new");

  // A chat taken, seen live by the supervisor.
  auto casey = customer(d.port());
  auto conv = start_chat(casey, "Can I change my order?");
  accept(ann, conv);
  boss->expect([](Frame const& f) { return is_type(f, "metrics") && f.at("active_conversations").as_int64() == 1; },
               std::chrono::seconds(5), "one active conversation in the live metrics");

  // A follow-up due in a second and a half fires to its owner once.
  auto due_at = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count() + 1500;
  auto created = ann->request(frame({{"type", "followup.create"}, {"conversation_id", conv}, {"due_at", due_at},
                                     {"note", "Call back about the address"}, {"kind", "callback"}}));
  REQUIRE(ok(created));
  auto id = str(created, "followup_id");
  auto due = [id](Frame const& f) { return is_type(f, "followup.due") && str(f, "followup_id") == id; };
  ann->expect(due, std::chrono::seconds(6), "followup.due");
  REQUIRE(ann->none(due, std::chrono::milliseconds(1500)));

  // Answered and resolved: the supervisors get its assessment.
  REQUIRE(ok(send(ann, conv, "Done: the new address is on the parcel.", "a-1")));
  REQUIRE(ok(ann->request(frame({{"type", "conversation.resolve"}, {"conversation_id", conv}}))));
  auto assessed = boss->expect(
      [&conv](Frame const& f) { return is_type(f, "assessment") && str(f, "conversation_id") == conv; },
      std::chrono::seconds(5), "the assessment");
  REQUIRE(!str(assessed, "level").empty());
}

TEST_CASE("on a Redis Cluster: the response clock runs beside the messages: a warning and a breach fire once, a late "
          "and a timely answer are reported",
          "[cluster]") {
  ClusterDeployment d(config_env("[sla.default]\nfirst_response_s = 2\nnext_response_s = 60\nwarning_ratio = 0.5\n"));
  d.user("ann");
  d.user("boss", "supervisor");
  auto boss = agent(d.port(), "boss", false);
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey, "Hello, anyone?");
  accept(ann, conv);
  auto sla = [&conv](bool breached) {
    return [&conv, breached](Frame const& f) {
      return is_type(f, "sla.warning") && str(f, "conversation_id") == conv &&
             str(f, "metric") == "first_response" && f.at("breached").as_bool() == breached;
    };
  };
  // The first response's wait runs in the conversation's bucket, on
  // whichever primary holds it; the sweep finds it there.
  ann->expect(sla(false), 5s, "the warning");
  ann->expect(sla(true), 5s, "the breach");
  boss->expect(sla(true), 5s, "the breach, for the supervisors");
  REQUIRE(ok(send(ann, conv, "Sorry, here now", "a-1")));
  REQUIRE(ann->none(sla(true), 600ms));  // once
  // A next response in time.
  REQUIRE(ok(send(casey, conv, "Where is my parcel?", "c-2")));
  REQUIRE(ok(send(ann, conv, "On its way", "a-2")));

  auto token = login(d.port(), "boss", "password123");
  auto report = http(d.port(), "GET", "/api/v1/reports/sla?team=support", "", {{"Authorization", "Bearer " + token}});
  REQUIRE(report.status == 200);
  auto counts = report.json();
  REQUIRE(counts.at("first_response").at("breached").as_int64() == 1);
  REQUIRE(counts.at("first_response").at("met").as_int64() == 0);
  REQUIRE(counts.at("next_response").at("met").as_int64() == 1);
  REQUIRE(counts.at("next_response").at("breached").as_int64() == 0);
  // The conversation's record heard its first response (the views' times).
  auto got = http(d.port(), "GET", "/api/v1/conversations/" + conv, "", {{"Authorization", "Bearer " + token}});
  REQUIRE(got.status == 200);
  REQUIRE(got.json().at("response_times").at("first_response_s").is_number());
}
