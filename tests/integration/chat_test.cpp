// A customer and an agent chat through the real server and a real Redis.
#include "harness.hpp"

#include <algorithm>
#include <set>
#include <sstream>
#include <thread>

using namespace exceed::test;

TEST_CASE("a full chat: queued, offered, accepted, messages both ways, typing, read, a private note, resolved") {
  Deployment d;
  d.user("ann", "agent");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());

  auto start = casey->request(frame({{"type", "conversation.start"}, {"text", "Where is my parcel?"},
                                     {"context", frame({{"stage", "post_purchase"}, {"page_url", "https://shop.example/orders/7"}})}}));
  REQUIRE(ok(start));
  REQUIRE(str(start, "status") == "queued");
  REQUIRE(start.at("queue_position").as_int64() == 1);
  REQUIRE(str(start, "team") == "support");
  auto conv = str(start, "conversation_id");

  auto offer = offer_for(ann, conv);
  REQUIRE(str(offer, "preview") == "Where is my parcel?");
  REQUIRE(offer.at("visitor").at("id").as_string() == casey.id);
  REQUIRE(offer.at("context").at("stage").as_string() == "post_purchase");
  REQUIRE(offer.at("expires_in_s").as_int64() > 0);
  REQUIRE(ok(ann->request(frame({{"type", "conversation.accept"}, {"conversation_id", conv}}))));

  auto assigned = casey->expect_type("conversation.assigned");
  REQUIRE(str(assigned, "conversation_id") == conv);
  REQUIRE(assigned.at("agent").at("name").as_string() == "ann");

  // The customer's first message is seq 1; the agent reads it from history.
  auto h = history(ann, conv);
  REQUIRE(h.size() == 1);
  REQUIRE(h[0].at("text").as_string() == "Where is my parcel?");
  REQUIRE(h[0].at("from").at("role").as_string() == "customer");

  auto a1 = send(ann, conv, "Hi Casey, let me check.", "a-1");
  REQUIRE(ok(a1));
  REQUIRE(a1.at("seq").as_int64() == 2);
  REQUIRE_FALSE(a1.at("duplicate").as_bool());
  auto m2 = message_event(casey, conv, 2);
  REQUIRE(m2.at("text").as_string() == "Hi Casey, let me check.");
  REQUIRE(m2.at("from").at("role").as_string() == "agent");
  REQUIRE(m2.at("from").at("id").as_string() == ann.id);

  auto c1 = send(casey, conv, "Thanks!", "c-1");
  REQUIRE(c1.at("seq").as_int64() == 3);
  REQUIRE(message_event(ann, conv, 3).at("text").as_string() == "Thanks!");

  ann->send(frame({{"type", "typing"}, {"conversation_id", conv}, {"state", true}}));
  auto typing = casey->expect_type("typing");
  REQUIRE(typing.at("state").as_bool());
  REQUIRE(typing.at("from").at("role").as_string() == "agent");

  casey->send(frame({{"type", "read"}, {"conversation_id", conv}, {"seq", 2}}));
  auto read = ann->expect_type("read");
  REQUIRE(read.at("seq").as_int64() == 2);
  REQUIRE(read.at("from").at("role").as_string() == "customer");

  auto note = ann->request(frame({{"type", "note.add"}, {"conversation_id", conv}, {"text", "VIP: refund if lost"}}));
  REQUIRE(ok(note));
  REQUIRE(ann->expect_type("note").at("text").as_string() == "VIP: refund if lost");
  // The note has no seq and never reaches the customer, live or in history.
  REQUIRE(casey->none([](Frame const& f) { return is_type(f, "note"); }, std::chrono::milliseconds(300)));
  for (auto const& m : history(casey, conv)) REQUIRE(m.at("text").as_string() != "VIP: refund if lost");
  REQUIRE(send(casey, conv, "Still there?", "c-2").at("seq").as_int64() == 4);

  auto resolved = ann->request(frame({{"type", "conversation.resolve"}, {"conversation_id", conv}}));
  REQUIRE(ok(resolved));
  REQUIRE(str(resolved, "status") == "resolved");
  casey->expect_type("conversation.resolved");
  casey->expect_type("csat.request");
  REQUIRE(code_of(send(casey, conv, "one more thing", "c-3")) == "conflict");

  auto csat = casey->request(frame({{"type", "csat.submit"}, {"conversation_id", conv}, {"rating", 5}, {"expectation", "exceeded"}}));
  REQUIRE(ok(csat));
  REQUIRE(code_of(casey->request(frame({{"type", "csat.submit"}, {"conversation_id", conv}, {"rating", 1}, {"expectation", "below"}}))) == "conflict");

  // The conversation over HTTP, with its response times.
  auto r = http(d.port(), "GET", "/api/v1/conversations/" + conv, "", {{"Authorization", "Bearer " + ann.token}});
  REQUIRE(r.status == 200);
  auto c = r.json().as_object();
  REQUIRE(c.at("status").as_string() == "resolved");
  REQUIRE(c.at("agent").at("id").as_string() == ann.id);
  REQUIRE(c.at("last_seq").as_int64() == 4);
  REQUIRE(c.at("response_times").at("queue_wait_s").is_number());
  REQUIRE(c.at("response_times").at("first_response_s").is_number());
  REQUIRE(c.at("csat").at("expectation").as_string() == "exceeded");
  REQUIRE(c.at("context").at("page_url").as_string() == "https://shop.example/orders/7");
}

TEST_CASE("resume after reconnect: exactly the missed messages, in order, and a resent client_msg_id is not stored twice") {
  Deployment d;
  d.user("ann", "agent");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey);
  accept(ann, conv);
  casey->expect_type("conversation.assigned");

  REQUIRE(send(casey, conv, "first", "c-1").at("seq").as_int64() == 2);
  casey->drop();  // the network goes away
  for (int i = 1; i <= 3; ++i) REQUIRE(send(ann, conv, "missed " + std::to_string(i), "a-" + std::to_string(i)).at("seq").as_int64() == 2 + i);

  json::array resume;
  resume.push_back(frame({{"conversation_id", conv}, {"after_seq", 2}}));
  casey.ws = std::make_unique<WsClient>(d.port());
  auto welcome = casey->hello(casey.token, resume);
  REQUIRE(is_type(welcome, "welcome"));
  REQUIRE(welcome.at("conversations").as_array().size() == 1);
  REQUIRE(welcome.at("conversations").at(0).at("last_seq").as_int64() == 5);
  for (int i = 1; i <= 3; ++i) {
    auto m = casey->expect_type("message");
    REQUIRE(m.at("seq").as_int64() == 2 + i);
    REQUIRE(m.at("text").as_string() == "missed " + std::to_string(i));
  }
  REQUIRE(casey->none([](Frame const& f) { return is_type(f, "message"); }, std::chrono::milliseconds(300)));

  SECTION("the same client_msg_id again returns the first seq and stores nothing") {
    auto again = send(casey, conv, "first", "c-1");
    REQUIRE(ok(again));
    REQUIRE(again.at("seq").as_int64() == 2);
    REQUIRE(again.at("duplicate").as_bool());
    REQUIRE(history(ann, conv).size() == 5);
    REQUIRE(ann->none([](Frame const& f) { return is_type(f, "message") && f.at("seq").as_int64() > 5; },
                      std::chrono::milliseconds(300)));
  }
  SECTION("history pages by after_seq and limit") {
    auto ack = casey->request(frame({{"type", "history.get"}, {"conversation_id", conv}, {"after_seq", 1}, {"limit", 2}}));
    REQUIRE(ack.at("messages").as_array().size() == 2);
    REQUIRE(ack.at("messages").at(0).at("seq").as_int64() == 2);
    REQUIRE(ack.at("has_more").as_bool());
  }
}

TEST_CASE("a customer starting again gets their open conversation back, not a second one") {
  Deployment d(Env{{"EXCEED_ROUTING_TICKET_WHEN_OFFLINE", "false"}});
  auto casey = customer(d.port());
  auto first = start_chat(casey, "hello");
  auto again = casey->request(frame({{"type", "conversation.start"}, {"text", "hello?"}}));
  REQUIRE(ok(again));
  REQUIRE(str(again, "conversation_id") == first);
}

TEST_CASE("conversations over HTTP: visibility, filters and cursor paging") {
  Deployment d(Env{{"EXCEED_ROUTING_TICKET_WHEN_OFFLINE", "false"}});  // chats wait in the queue with nobody online
  d.user("ann", "agent", "support");
  d.user("boss", "supervisor", "support");
  d.user("sam", "agent", "sales");
  std::vector<std::string> convs;
  std::vector<Person> customers;
  for (int i = 0; i < 5; ++i) {
    customers.push_back(customer(d.port(), "C" + std::to_string(i)));
    convs.push_back(start_chat(customers.back(), "hi " + std::to_string(i)));
  }
  auto boss = login(d.port(), "boss", "password123");
  auto get = [&](std::string const& target, std::string const& token) {
    return http(d.port(), "GET", target, "", {{"Authorization", "Bearer " + token}});
  };

  // Pages of two, newest first, no item twice, none missing.
  std::vector<std::string> seen;
  std::vector<std::pair<std::int64_t, std::string>> order;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    auto r = get("/api/v1/conversations?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), boss);
    REQUIRE(r.status == 200);
    auto body = r.json().as_object();
    for (auto const& item : body.at("items").as_array()) {
      seen.emplace_back(item.at("id").as_string());
      order.emplace_back(item.at("created_at").as_int64(), seen.back());
    }
    if (body.at("next_cursor").is_null()) break;
    cursor = std::string(body.at("next_cursor").as_string());
    if (page == 0) {  // a chat arriving meanwhile does not shift the pages
      customers.push_back(customer(d.port(), "Late"));
      start_chat(customers.back(), "late");
    }
  }
  // Newest first; chats started in the same millisecond come in id order.
  REQUIRE(seen.size() == convs.size());
  REQUIRE(std::set<std::string>(seen.begin(), seen.end()) == std::set<std::string>(convs.begin(), convs.end()));
  REQUIRE(std::is_sorted(order.rbegin(), order.rend()));

  auto filtered = get("/api/v1/conversations?status=queued&team=support", boss).json();
  REQUIRE(filtered.at("items").as_array().size() == 6);
  REQUIRE(get("/api/v1/conversations?status=resolved", boss).json().at("items").as_array().empty());

  // A customer sees only their own; an agent of another team sees none of these.
  auto own = get("/api/v1/conversations", customers[0].token).json().at("items").as_array();
  REQUIRE(own.size() == 1);
  REQUIRE(own[0].at("id").as_string() == convs[0]);
  REQUIRE(get("/api/v1/conversations/" + convs[1], customers[0].token).status == 403);
  auto sam = login(d.port(), "sam", "password123");
  REQUIRE(get("/api/v1/conversations/" + convs[1], sam).status == 403);
  REQUIRE(get("/api/v1/conversations", sam).json().at("items").as_array().empty());
  REQUIRE(get("/api/v1/conversations/c_nope", boss).status == 404);
  REQUIRE(get("/api/v1/conversations?limit=0", boss).status == 400);
  REQUIRE(get("/api/v1/conversations?cursor=garbage", boss).status == 400);

  auto msgs = get("/api/v1/conversations/" + convs[2] + "/messages?after_seq=0", customers[2].token).json();
  REQUIRE(msgs.at("items").as_array().size() == 1);
  REQUIRE(msgs.at("items").at(0).at("text").as_string() == "hi 2");
}

TEST_CASE("health, readiness and the static pages") {
  Deployment d;
  auto h = http(d.port(), "GET", "/healthz");
  REQUIRE(h.status == 200);
  REQUIRE(h.json().at("status").as_string() == "ok");
  REQUIRE(http(d.port(), "GET", "/readyz").status == 200);
  auto page = http(d.port(), "GET", "/");
  REQUIRE(page.status == 200);
  REQUIRE(page.header("Content-Type").find("text/html") == 0);
  REQUIRE(page.header("X-Content-Type-Options") == "nosniff");
  REQUIRE(http(d.port(), "GET", "/../CMakeLists.txt").status == 404);
  REQUIRE(http(d.port(), "GET", "/nope.html").status == 404);
}

TEST_CASE("the widget's API calls work from an allowed shop origin (CORS), and not from others") {
  Deployment d(Env{{"EXCEED_SERVER_ALLOWED_ORIGINS", "https://shop.example"}});
  auto preflight = http(d.port(), "OPTIONS", "/api/v1/visitors", "",
                        {{"Origin", "https://shop.example"}, {"Access-Control-Request-Method", "POST"}});
  REQUIRE(preflight.status == 204);
  REQUIRE(preflight.header("Access-Control-Allow-Origin") == "https://shop.example");
  REQUIRE(preflight.header("Access-Control-Allow-Methods").find("POST") != std::string::npos);
  REQUIRE(preflight.header("Access-Control-Allow-Headers").find("Authorization") != std::string::npos);
  auto created = http(d.port(), "POST", "/api/v1/visitors", R"({"name":"Sam"})", {{"Origin", "https://shop.example"}});
  REQUIRE(created.status == 201);
  REQUIRE(created.header("Access-Control-Allow-Origin") == "https://shop.example");
  REQUIRE(created.header("Vary") == "Origin");
  auto other = http(d.port(), "POST", "/api/v1/visitors", "{}", {{"Origin", "https://evil.example"}});
  REQUIRE(other.header("Access-Control-Allow-Origin").empty());
  REQUIRE(http(d.port(), "OPTIONS", "/api/v1/visitors", "", {{"Origin", "https://evil.example"}}).status == 403);
  REQUIRE_NOTHROW(WsClient(d.port(), [] {
    WsOptions o;
    o.origin = "https://shop.example";
    return o;
  }()));
}

TEST_CASE("a retried message is told to the other side again, as stored, under its first seq") {
  // The first attempt's event may never have gone out (its process died
  // after the store took the message); clients de-duplicate by seq.
  Deployment d;
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey, "hello");
  accept(ann, conv);
  auto first = send(casey, conv, "my order number is 1234", "c-9");
  REQUIRE(ok(first));
  auto seq = first.at("seq").as_int64();
  message_event(ann, conv, seq);
  auto again = send(casey, conv, "a different text under the same id", "c-9");
  REQUIRE(ok(again));
  REQUIRE(again.at("duplicate").as_bool());
  REQUIRE(again.at("seq").as_int64() == seq);
  auto repeated = message_event(ann, conv, seq);
  CHECK(repeated.at("text").as_string() == "my order number is 1234");
  CHECK(repeated.at("client_msg_id").as_string() == "c-9");
  CHECK(history(ann, conv).size() == static_cast<std::size_t>(seq));
}

namespace {

// A frame budget a burst stays within: the rate limit is not what the
// pipelining tests are about.
Env burst_budget() { return Env{{"EXCEED_LIMITS_MESSAGES_PER_S", "1000"}, {"EXCEED_LIMITS_BURST", "1000"}}; }

// Sends n messages without waiting: request id and text "<tag><i>" and
// "<tag> <i>", client_msg_id "<tag>-<i>".
void send_burst(Person& p, std::string const& conv, std::string const& tag, int n) {
  for (int i = 0; i < n; ++i)
    p->send(frame({{"type", "message.send"}, {"id", tag + std::to_string(i)}, {"conversation_id", conv},
                   {"client_msg_id", tag + "-" + std::to_string(i)}, {"text", tag + " " + std::to_string(i)}}));
}

Frame next_answer(Person& p, std::string const& what) {
  return p->expect([](Frame const& f) { return is_type(f, "ack") || is_type(f, "error"); }, 5s, what);
}

}  // namespace

TEST_CASE("messages sent without waiting for acks are stored, acked and relayed in the order typed") {
  // The server starts a connection's message.send scripts without waiting
  // for each reply: they share one Redis connection, which keeps their order.
  Deployment d(burst_budget());
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey, "hello");
  accept(ann, conv);
  constexpr int n = 40;
  send_burst(casey, conv, "line", n);

  std::int64_t last_seq = 1;  // the opening message
  for (int i = 0; i < n; ++i) {
    auto ack = next_answer(casey, "an ack");
    REQUIRE(ok(ack));
    CHECK(ack.at("id").as_string() == "line" + std::to_string(i));
    CHECK(ack.at("seq").as_int64() == last_seq + 1);
    last_seq = ack.at("seq").as_int64();
  }
  for (int i = 0; i < n; ++i) {
    auto m = message_event(ann, conv, 2 + i);
    CHECK(m.at("text").as_string() == "line " + std::to_string(i));
  }
  auto h = history(ann, conv);
  REQUIRE(h.size() == static_cast<std::size_t>(n + 1));
  for (std::size_t i = 1; i < h.size(); ++i) CHECK(h[i].at("seq").as_int64() == h[i - 1].at("seq").as_int64() + 1);
}

TEST_CASE("a request that is not pipelined sees every pipelined request before it finished") {
  Deployment d(burst_budget());
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey, "hello");
  accept(ann, conv);
  constexpr int n = 30;
  send_burst(ann, conv, "answer", n);
  // Resolving is not pipelined: every message above is stored and acked first.
  ann->send(frame({{"type", "conversation.resolve"}, {"id", "resolve"}, {"conversation_id", conv}}));
  for (int i = 0; i < n; ++i) {
    auto ack = next_answer(ann, "an ack");
    REQUIRE(ok(ack));
    CHECK(ack.at("id").as_string() == "answer" + std::to_string(i));
  }
  auto resolved = next_answer(ann, "the resolve");
  REQUIRE(ok(resolved));
  CHECK(resolved.at("id").as_string() == "resolve");
  CHECK(history(casey, conv).size() == static_cast<std::size_t>(n + 1));
}

TEST_CASE("a process alone publishes nothing on the bus and one that joins gets the other's events from its first session") {
  Deployment d;
  d.user("ann");
  auto publishing = [&d](std::size_t i) {
    return http(d.port(i), "GET", "/metrics").body.find("\nexceed_bus_publishing 1") != std::string::npos;
  };
  auto publishes = [&d]() {
    auto stats = redis_cli(d.redis.port(), "INFO commandstats");
    auto at = stats.find("cmdstat_publish:calls=");
    return at == std::string::npos ? 0LL : std::stoll(stats.substr(at + 22));
  };
  // Its heartbeat (every 2 s) finds no other process; there is no event
  // for that, so the gauge is read until it says so.
  auto until = std::chrono::steady_clock::now() + 10s;
  while (publishing(0) && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(50ms);
  REQUIRE_FALSE(publishing(0));

  auto before = publishes();
  auto ann = agent(d.port(0), "ann");
  auto casey = customer(d.port(0));
  auto conv = start_chat(casey, "hello");
  accept(ann, conv);
  REQUIRE(ok(send(ann, conv, "hi there", "a1")));
  CHECK(message_event(casey, conv, 2).at("text").as_string() == "hi there");
  CHECK(publishes() == before);

  // A second process joins, and casey opens a second tab on it. The first
  // event for that tab comes from the first process (ann's answer), which
  // must publish it although, until the join, it kept events to itself:
  // the join makes it publish before the new tab's hello is welcomed.
  d.add_server();
  WsClient tab(d.port(1));
  REQUIRE(is_type(tab.hello(casey.token), "welcome"));
  REQUIRE(ok(send(ann, conv, "answer from the first process", "a2")));
  CHECK(message_event(casey, conv, 3).at("text").as_string() == "answer from the first process");
  auto seen = tab.expect([&](Frame const& f) { return is_type(f, "message") && f.at("seq").as_int64() == 3; }, 5s,
                         "ann's answer in the new tab");
  CHECK(seen.at("text").as_string() == "answer from the first process");
  CHECK(publishing(0));
  CHECK(publishes() > before);
}

namespace {

// Redis's slow log with every command in it (threshold 0), emptied: what
// the store runs from now on can be read back with commands_naming().
void log_every_command(std::uint16_t redis_port) {
  redis_cli(redis_port, "CONFIG SET slowlog-log-slower-than 0");
  redis_cli(redis_port, "CONFIG SET slowlog-max-len 100000");
  redis_cli(redis_port, "SLOWLOG RESET");
}

// How many arguments of the logged commands name `conv`: every script and
// command that reads or writes a conversation names it (as an argument or
// in a key). The events the server publishes on its bus carry it inside
// their JSON payload; that is not the store being read, so not counted.
int commands_naming(std::uint16_t redis_port, std::string const& conv) {
  std::istringstream log(redis_cli(redis_port, "SLOWLOG GET 100000"));
  int n = 0;
  for (std::string line; std::getline(log, line);)
    if (!line.starts_with("{") && line.find(conv) != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST_CASE("typing between a customer and their agent does not read the store, and follows a transfer") {
  Deployment d;
  d.user("ann", "agent");
  d.user("bob", "agent");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey);
  accept(ann, conv);
  casey->expect_type("conversation.assigned");
  auto typing_from = [&](std::string const& who) {
    return [&conv, who](Frame const& f) {
      return is_type(f, "typing") && str(f, "conversation_id") == conv && f.at("from").at("id").as_string() == who;
    };
  };

  // Cold: the first typing frame asks the store who is in the conversation.
  log_every_command(d.redis.port());
  casey->send(frame({{"type", "typing"}, {"conversation_id", conv}, {"state", true}}));
  ann->expect(typing_from(casey.id), std::chrono::seconds(5), "casey typing");
  REQUIRE(commands_naming(d.redis.port(), conv) >= 1);

  // Warm (a message each way tells the server who is in it): typing both
  // ways reaches the other side and runs nothing in Redis.
  REQUIRE(ok(send(casey, conv, "one more thing", "c-typing-1")));
  REQUIRE(ok(send(ann, conv, "go on", "a-typing-1")));
  log_every_command(d.redis.port());
  for (int i = 0; i < 10; ++i) {
    casey->send(frame({{"type", "typing"}, {"conversation_id", conv}, {"state", i % 2 == 0}}));
    ann->send(frame({{"type", "typing"}, {"conversation_id", conv}, {"state", i % 2 == 0}}));
  }
  for (int i = 0; i < 10; ++i) {
    ann->expect(typing_from(casey.id), std::chrono::seconds(5), "casey typing");
    casey->expect(typing_from(ann.id), std::chrono::seconds(5), "ann typing");
  }
  CHECK(commands_naming(d.redis.port(), conv) == 0);

  // Someone else is still checked by the store: a stranger's typing is refused.
  auto bob = agent(d.port(), "bob");
  auto refused = bob->request(frame({{"type", "typing"}, {"conversation_id", conv}, {"state", true}}));
  REQUIRE(code_of(refused) == "forbidden");

  // After a transfer the customer's typing reaches the new agent (once the
  // remembered members are a second old at most) and the old one no more.
  REQUIRE(ok(ann->request(frame({{"type", "conversation.transfer"}, {"conversation_id", conv}, {"to_agent_id", bob.id}}))));
  bob->expect_type("conversation.assigned");
  auto const until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool reached = false;
  while (!reached && std::chrono::steady_clock::now() < until) {
    casey->send(frame({{"type", "typing"}, {"conversation_id", conv}, {"state", true}}));
    reached = !bob->none(typing_from(casey.id), std::chrono::milliseconds(200));
  }
  REQUIRE(reached);
  while (ann->next(std::chrono::milliseconds(100))) {
  }  // what reached ann before the switch
  casey->send(frame({{"type", "typing"}, {"conversation_id", conv}, {"state", false}}));
  bob->expect(typing_from(casey.id), std::chrono::seconds(5), "casey typing, to bob");
  CHECK(ann->none(typing_from(casey.id), std::chrono::milliseconds(300)));
}
