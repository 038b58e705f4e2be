// Live metrics, the summary report and the Prometheus endpoint through the
// real server: a supervisor watches the queue fill and empty, two processes
// agree on the figures, the report matches what happened, and promtool
// accepts GET /metrics.
#include "harness.hpp"

#include <fstream>
#include <map>

using namespace exceed::test;
using namespace std::chrono_literals;

namespace {

// Chats wait in the queue while nobody is online (instead of becoming tickets).
Env queueing() { return Env{{"EXCEED_ROUTING_TICKET_WHEN_OFFLINE", "false"}}; }

auto metrics_where(std::function<bool(Frame const&)> pred) {
  return [pred](Frame const& f) { return is_type(f, "metrics") && pred(f); };
}

auto queue_is(std::int64_t n) {
  return metrics_where([n](Frame const& f) { return f.at("queue_length").as_int64() == n; });
}

Frame subscribe(Person& sup) {
  auto ack = sup->request(frame({{"type", "metrics.subscribe"}}));
  INFO(json::serialize(ack));
  REQUIRE(ok(ack));
  return sup->expect_type("metrics", 5s);
}

json::object const* team_row(Frame const& m, std::string const& team) {
  for (auto const& t : m.at("teams").as_array())
    if (t.at("team").as_string() == team) return &t.as_object();
  return nullptr;
}

json::object const* agent_row(Frame const& m, std::string const& id) {
  for (auto const& a : m.at("agents").as_array())
    if (a.at("agent_id").as_string() == id) return &a.as_object();
  return nullptr;
}

std::string staff_token(std::uint16_t port, std::string const& user) { return login(port, user, "password123"); }

HttpResult get(std::uint16_t port, std::string const& target, std::string const& token, std::string const& accept = "") {
  std::vector<std::pair<std::string, std::string>> headers{{"Authorization", "Bearer " + token}};
  if (!accept.empty()) headers.emplace_back("Accept", accept);
  return http(port, "GET", target, "", headers);
}

}  // namespace

TEST_CASE("a subscribed supervisor sees the queue go 0, 2, 1, 0 as customers arrive and are taken") {
  Deployment d(queueing());
  d.user("ann", "agent", "support", 1);
  d.user("boss", "supervisor");
  auto boss = agent(d.port(), "boss", false);
  auto first = subscribe(boss);
  CHECK(first.at("queue_length").as_int64() == 0);
  CHECK(first.at("window_s").as_int64() == 3600);
  CHECK(first.at("as_of").is_int64());
  REQUIRE(first.at("series").at("queue_length").as_array().size() == 60);

  auto c1 = customer(d.port(), "First Customer");
  auto c2 = customer(d.port(), "Second Customer");
  auto conv1 = start_chat(c1, "Where is my parcel?");
  auto conv2 = start_chat(c2, "Can I change my order?");
  auto two = boss->expect(queue_is(2), 5s, "queue_length 2");
  auto const* support = team_row(two, "support");
  REQUIRE(support);
  CHECK(support->at("queue_length").as_int64() == 2);
  CHECK(two.at("agents_online").as_int64() == 0);

  // Ann (capacity 1) comes online: she is offered and takes the oldest chat.
  auto ann = agent(d.port(), "ann");
  accept(ann, conv1);
  auto one = boss->expect(queue_is(1), 5s, "queue_length 1");
  REQUIRE(ok(send(ann, conv1, "It left the warehouse this morning.", "a1")));
  auto answered = boss->expect(metrics_where([](Frame const& f) { return !f.at("first_response_p50_s").is_null(); }),
                               5s, "a first response figure");
  CHECK(answered.at("active_conversations").as_int64() == 1);
  CHECK(answered.at("agents_online").as_int64() == 1);
  CHECK(answered.at("agents_available").as_int64() == 0);  // at capacity
  auto const* row = agent_row(answered, ann.id);
  REQUIRE(row);
  CHECK(row->at("status").as_string() == "online");
  CHECK(row->at("active").as_int64() == 1);
  CHECK(row->at("capacity").as_int64() == 1);
  CHECK(!row->at("first_response_p50_today_s").is_null());
  CHECK(row->at("followups_open").as_int64() == 0);

  // Resolving frees her: the second chat is offered and taken.
  REQUIRE(ok(ann->request(frame({{"type", "conversation.resolve"}, {"conversation_id", conv1}}))));
  accept(ann, conv2);
  auto zero = boss->expect(queue_is(0), 5s, "queue_length 0");
  CHECK(zero.at("active_conversations").as_int64() == 1);

  // Every event was a change, and the queue went up then down, never up again.
  std::vector<std::int64_t> seen{first.at("queue_length").as_int64(), two.at("queue_length").as_int64(),
                                 one.at("queue_length").as_int64(), zero.at("queue_length").as_int64()};
  CHECK(seen == std::vector<std::int64_t>{0, 2, 1, 0});
}

TEST_CASE("metrics events come at most once a second and only on change") {
  Deployment d(queueing());
  d.user("boss", "supervisor");
  auto boss = agent(d.port(), "boss", false);
  auto first = subscribe(boss);
  // Nothing happens: no further event within three ticks, except when a
  // minute ends and the chart's series moves on by a point.
  auto end = first.at("series").at("end").as_int64();
  CHECK(boss->none(
      [&](Frame const& f) {
        if (!is_type(f, "metrics")) return false;
        auto next = f.at("series").at("end").as_int64();
        bool rolled = next != end;
        end = next;
        return !rolled;
      },
      3500ms));
  auto c = customer(d.port());
  start_chat(c);
  auto a = boss->expect(queue_is(1), 5s, "queue_length 1");
  // The waiting chat's wait grows each second: one event per tick, no more.
  // (An event from before `a`, e.g. one that only counted the customer's
  // connection, may still wait in the backlog: the next one is after `a`.)
  auto const a_at = a.at("as_of").as_int64();
  auto b = boss->expect([a_at](Frame const& f) { return is_type(f, "metrics") && f.at("as_of").as_int64() > a_at; }, 3s,
                        "the metrics event after queue_length 1");
  CHECK(b.at("as_of").as_int64() - a_at >= 900);
}

TEST_CASE("only supervisors may subscribe to metrics") {
  Deployment d;
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto answer = ann->request(frame({{"type", "metrics.subscribe"}}));
  CHECK(code_of(answer) == "forbidden");
  auto casey = customer(d.port());
  CHECK(code_of(casey->request(frame({{"type", "metrics.subscribe"}}))) == "forbidden");
}

TEST_CASE("two processes on one Redis report the same figures") {
  Deployment d(queueing());
  d.add_server();
  d.user("ann", "agent", "support", 2);
  d.user("boss", "supervisor");
  d.user("chief", "supervisor");
  auto boss = agent(d.port(0), "boss", false);
  auto chief = agent(d.port(1), "chief", false);
  subscribe(boss);
  subscribe(chief);

  // A chat answered through process 0, another waiting that came in on process 1.
  auto ann = agent(d.port(0), "ann");
  auto c1 = customer(d.port(1), "On Process One");
  auto conv1 = start_chat(c1, "Hello from the other process");
  accept(ann, conv1);
  REQUIRE(ok(send(ann, conv1, "Hello! How can I help?", "a1")));
  REQUIRE(ok(ann->request(frame({{"type", "agent.status"}, {"status", "away"}}))));
  auto c2 = customer(d.port(1), "Still Waiting");
  start_chat(c2, "Anyone there?");

  auto settled = [](Frame const& f) {
    return f.at("queue_length").as_int64() == 1 && !f.at("first_response_p50_s").is_null();
  };
  auto m0 = boss->expect(metrics_where(settled), 6s, "process 0's figures");
  auto m1 = chief->expect(metrics_where(settled), 6s, "process 1's figures");
  for (char const* key : {"queue_length", "agents_online", "agents_available", "active_conversations",
                          "first_response_p50_s", "first_response_p90_s", "queue_wait_p50_s", "sla_breaches",
                          "met_only_open", "exceeded_rate"}) {
    INFO(key);
    CHECK(json::serialize(m0.at(key)) == json::serialize(m1.at(key)));
  }
  auto const* a0 = agent_row(m0, ann.id);
  auto const* a1 = agent_row(m1, ann.id);
  REQUIRE(a0);
  REQUIRE(a1);
  CHECK(a0->at("status").as_string() == "away");
  CHECK(json::serialize(a0->at("status")) == json::serialize(a1->at("status")));
  CHECK(json::serialize(a0->at("first_response_p50_today_s")) == json::serialize(a1->at("first_response_p50_today_s")));
  CHECK(team_row(m0, "support")->at("queue_length") == team_row(m1, "support")->at("queue_length"));
}

TEST_CASE("the summary report matches what happened, as JSON and CSV") {
  Deployment d(queueing());
  d.user("ann");
  d.user("boss", "supervisor");
  auto ann = agent(d.port(), "ann");
  auto boss = agent(d.port(), "boss", false);

  // One chat answered, resolved and rated; one that waited and was closed
  // unanswered by a supervisor (missed).
  auto c1 = customer(d.port(), "Answered Customer");
  auto conv1 = start_chat(c1, "My order is late");
  accept(ann, conv1);
  REQUIRE(ok(send(ann, conv1, "Sorry! It ships today.", "a1")));
  REQUIRE(ok(ann->request(frame({{"type", "conversation.resolve"}, {"conversation_id", conv1}}))));
  c1->expect_type("csat.request", 5s);
  REQUIRE(ok(c1->request(frame({{"type", "csat.submit"}, {"conversation_id", conv1}, {"rating", 4}, {"expectation", "met"}}))));
  history(c1, conv1);  // a client's frames are handled in order: the re-assessment is stored
  REQUIRE(ok(ann->request(frame({{"type", "agent.status"}, {"status", "away"}}))));
  auto c2 = customer(d.port(), "Gave Up");
  auto conv2 = start_chat(c2, "Hello?");
  REQUIRE(ok(boss->request(frame({{"type", "conversation.resolve"}, {"conversation_id", conv2}}))));
  REQUIRE(ok(boss->request(frame({{"type", "review.list"}}))));  // after the resolve's assessment
  std::map<std::string, int> levels;
  for (auto const& conv : {conv1, conv2})
    if (auto level = redis_cli(d.redis.port(), "HGET exceed:conv:" + conv + " assessment_level"); !level.empty())
      ++levels[level];

  auto token = staff_token(d.port(), "boss");
  auto r = get(d.port(), "/api/v1/reports/summary?group_by=agent", token);
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto body = r.json().as_object();
  auto const& t = body.at("totals").as_object();
  CHECK(t.at("started").as_int64() == 2);
  CHECK(t.at("answered").as_int64() == 1);
  CHECK(t.at("missed").as_int64() == 1);
  CHECK(t.at("ticketed").as_int64() == 0);
  // The first response is exactly what the conversation's record says.
  auto first_customer = std::stoll(redis_cli(d.redis.port(), "HGET exceed:conv:" + conv1 + " first_customer_at"));
  auto first_response = std::stoll(redis_cli(d.redis.port(), "HGET exceed:conv:" + conv1 + " first_response_at"));
  CHECK(t.at("first_response_p50_s").to_number<double>() ==
        Approx(static_cast<double>(first_response - first_customer) / 1000.0));
  CHECK(t.at("first_response_p90_s") == t.at("first_response_p50_s"));
  CHECK(t.at("sla").at("first_response").at("met").as_int64() == 1);
  CHECK(t.at("sla").at("first_response").at("attainment").to_number<double>() == Approx(1.0));
  CHECK(t.at("csat").at("count").as_int64() == 1);
  CHECK(t.at("csat").at("average").to_number<double>() == Approx(4.0));
  CHECK(t.at("csat").at("distribution").at("4").as_int64() == 1);
  for (char const* level : {"exceeded", "met", "below"}) {
    INFO(level);
    CHECK(t.at("assessments").at(level).as_int64() == levels[level]);
  }
  CHECK(levels[redis_cli(d.redis.port(), "HGET exceed:conv:" + conv1 + " assessment_level")] >= 1);
  auto const& groups = body.at("groups").as_array();
  REQUIRE(groups.size() == 2);  // "" (never assigned) and ann
  CHECK(groups[1].at("key").as_string() == ann.id);
  CHECK(groups[1].at("answered").as_int64() == 1);

  auto csv = get(d.port(), "/api/v1/reports/summary?group_by=team", token, "text/csv");
  REQUIRE(csv.status == 200);
  CHECK(csv.header("Content-Type").rfind("text/csv", 0) == 0);
  CHECK(csv.body.rfind("group,started,answered,missed,ticketed,", 0) == 0);
  CHECK(csv.body.find("\r\nsupport,2,1,1,0,") != std::string::npos);
  CHECK(csv.body.find("\r\ntotal,2,1,1,0,") != std::string::npos);

  // A period before anything happened is empty, not an error.
  auto empty = get(d.port(), "/api/v1/reports/summary?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z", token);
  REQUIRE(empty.status == 200);
  CHECK(empty.json().at("totals").at("started").as_int64() == 0);
  CHECK(empty.json().at("totals").at("first_response_p50_s").is_null());
}

TEST_CASE("the summary report refuses bad periods, groupings and callers") {
  Deployment d;
  d.user("ann");
  d.user("bob");
  d.user("boss", "supervisor");
  auto boss = staff_token(d.port(), "boss");
  auto ann = staff_token(d.port(), "ann");
  CHECK(get(d.port(), "/api/v1/reports/summary?group_by=week", boss).status == 400);
  CHECK(get(d.port(), "/api/v1/reports/summary?from=yesterday", boss).status == 400);
  CHECK(get(d.port(), "/api/v1/reports/summary?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", boss).status == 400);
  CHECK(http(d.port(), "GET", "/api/v1/reports/summary").status == 401);
  auto [visitor, visitor_token] = new_visitor(d.port(), "Curious Customer");
  CHECK(get(d.port(), "/api/v1/reports/summary", visitor_token).status == 403);
  // Agents see their own figures only.
  auto bob_id = redis_cli(d.redis.port(), "GET exceed:username:bob");
  CHECK(get(d.port(), "/api/v1/reports/summary?agent=" + bob_id, ann).status == 403);
  auto own = get(d.port(), "/api/v1/reports/summary", ann);
  REQUIRE(own.status == 200);
  CHECK(own.json().at("agent").as_string() == redis_cli(d.redis.port(), "GET exceed:username:ann"));
}

TEST_CASE("GET /metrics is Prometheus text that promtool accepts") {
  Deployment d(queueing());
  d.user("ann");
  d.user("boss", "supervisor");
  auto ann = agent(d.port(), "ann");
  auto boss = agent(d.port(), "boss", false);
  auto c = customer(d.port());
  auto conv = start_chat(c, "Do you ship to Norway?");
  accept(ann, conv);
  REQUIRE(ok(send(ann, conv, "We do!", "a1")));
  message_event(c, conv, 2);
  CHECK(code_of(ann->request(frame({{"type", "conversation.accept"}, {"conversation_id", "c_nope"}}))) != "ack");
  subscribe(boss);  // the first reading sets the deployment-wide gauges

  auto r = http(d.port(), "GET", "/metrics");
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  for (char const* name :
       {"exceed_connections{role=\"agent\"} 1", "exceed_connections{role=\"supervisor\"} 1",
        "exceed_connections{role=\"customer\"} 1",
        "exceed_messages_total{direction=\"in\"} 1", "exceed_messages_total{direction=\"out\"}",
        "exceed_queue_length{team=\"support\"} 0", "exceed_queue_wait_seconds_count 1",
        "exceed_first_response_seconds_count 1", "exceed_sla_breaches_total{metric=\"first_response\"} 0",
        "exceed_assessments_total{level=\"met\"} 0", "exceed_followups_overdue 0", "exceed_redis_command_seconds_bucket",
        "exceed_errors_total{code=\"not_found\"} 1", "exceed_build_info{version=\"0.1.0\"} 1", "exceed_redis_up 1"}) {
    INFO(name);
    CHECK(r.body.find(name) != std::string::npos);
  }

  auto dir = make_temp_dir("exceed-prom-");
  std::ofstream(dir + "/metrics.txt") << r.body;
  auto status = std::system(("promtool check metrics < " + dir + "/metrics.txt > " + dir + "/promtool.txt 2>&1").c_str());
  std::ifstream report(dir + "/promtool.txt");
  std::string said((std::istreambuf_iterator<char>(report)), std::istreambuf_iterator<char>());
  INFO(said);
  CHECK(status == 0);
}

TEST_CASE("GET /metrics can require a token") {
  Deployment d(Env{{"EXCEED_METRICS_PUBLIC", "false"}, {"EXCEED_METRICS_TOKEN", "scrape-secret-0123456789"}});
  CHECK(http(d.port(), "GET", "/metrics").status == 401);
  CHECK(http(d.port(), "GET", "/metrics", "", {{"Authorization", "Bearer wrong-secret-0123456789"}}).status == 401);
  auto r = http(d.port(), "GET", "/metrics", "", {{"Authorization", "Bearer scrape-secret-0123456789"}});
  CHECK(r.status == 200);
  CHECK(r.body.find("exceed_build_info") != std::string::npos);
}
