// Follow-up tasks through the real server: durable timers that fire once,
// to the owner, whether connected, away, or the server was down.
#include "harness.hpp"

using namespace exceed::test;
using namespace std::chrono_literals;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

auto due_of(std::string const& id) {
  return [id](Frame const& f) { return is_type(f, "followup.due") && str(f, "followup_id") == id; };
}

std::string create(Person& a, std::string const& conv, std::int64_t due, std::string const& kind = "callback") {
  auto ack = a->request(frame({{"type", "followup.create"}, {"conversation_id", conv}, {"due_at", due},
                               {"note", "Call back about the refund"}, {"kind", kind}}));
  INFO(json::serialize(ack));
  REQUIRE(ok(ack));
  return str(ack, "followup_id");
}

struct Chat {
  Person ann;
  Person casey;
  std::string conv;
};

Chat chat_with_ann(Deployment& d, std::size_t server = 0) {
  d.user("ann");
  Chat c{agent(d.port(server), "ann"), customer(d.port(server)), ""};
  c.conv = start_chat(c.casey);
  accept(c.ann, c.conv);
  return c;
}

}  // namespace

TEST_CASE("a follow-up due in 2 s fires to its owner, once") {
  Deployment d;
  auto c = chat_with_ann(d);
  auto id = create(c.ann, c.conv, now_ms() + 2000);
  auto due = c.ann->expect(due_of(id), 6s, "followup.due");
  REQUIRE(str(due, "conversation_id") == c.conv);
  REQUIRE(str(due, "kind") == "callback");
  REQUIRE(str(due, "note") == "Call back about the refund");
  REQUIRE(c.ann->none(due_of(id), 1500ms));
  REQUIRE(c.casey->none([](Frame const& f) { return is_type(f, "followup.due"); }, 100ms));
  REQUIRE(ok(c.ann->request(frame({{"type", "followup.complete"}, {"followup_id", id}}))));
  REQUIRE(code_of(c.ann->request(frame({{"type", "followup.complete"}, {"followup_id", id}}))) == "conflict");
}

TEST_CASE("a follow-up whose server was killed before it fell due fires once after the restart") {
  Deployment d;
  auto c = chat_with_ann(d);
  auto id = create(c.ann, c.conv, now_ms() + 1500);
  d.server().kill9();
  // Past the due time with no server running: the timer lives in Redis.
  auto until = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < until) c.ann->next(100ms);
  d.server().start();
  c.ann.reconnect();  // the owner's connection died with the server: delivered on hello or at once
  c.ann->expect(due_of(id), 5s, "followup.due after the restart");
  REQUIRE(c.ann->none(due_of(id), 1500ms));
}

TEST_CASE("with two server processes a follow-up fires exactly once") {
  Deployment d;
  d.add_server();
  auto c = chat_with_ann(d, 0);
  auto second = Person{};
  second.port = d.port(1);
  second.token = c.ann.token;
  second.reconnect();  // ann in a second tab, on the other process
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(create(c.ann, c.conv, now_ms() + 1000 + i * 100));
  for (auto const& id : ids) {
    c.ann->expect(due_of(id), 6s, "due on process one");
    second->expect(due_of(id), 6s, "due on process two");
  }
  for (auto const& id : ids) {
    REQUIRE(c.ann->none(due_of(id), 300ms));
    REQUIRE(second->none(due_of(id), 300ms));
  }
}

TEST_CASE("a follow-up due while its owner is away reaches them on their next hello") {
  Deployment d;
  auto c = chat_with_ann(d);
  auto id = create(c.ann, c.conv, now_ms() + 1000);
  c.ann->close();
  // Wait until the timer has fired: the store marks it.
  auto until = std::chrono::steady_clock::now() + 8s;
  while (redis_cli(d.redis.port(), "HGET exceed:followup:" + id + " fired") != "1" && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);  // polling the store for a state change
  REQUIRE(redis_cli(d.redis.port(), "HGET exceed:followup:" + id + " fired") == "1");
  c.ann.reconnect();
  c.ann->expect(due_of(id), 5s, "followup.due on hello");
  c.ann.reconnect();
  REQUIRE(c.ann->none(due_of(id), 800ms));  // delivered once, not on every hello
}

TEST_CASE("follow-ups over HTTP: create, list mine and overdue, reschedule, complete, cancel") {
  Deployment d;
  auto c = chat_with_ann(d);
  d.user("boss", "supervisor");
  d.user("bob");
  auto boss = login(d.port(), "boss", "password123");
  auto bob = login(d.port(), "bob", "password123");
  auto call = [&](std::string const& method, std::string const& target, std::string const& token, std::string const& body = "") {
    return http(d.port(), method, target, body, {{"Authorization", "Bearer " + token}});
  };
  auto created = call("POST", "/api/v1/followups", c.ann.token,
                      R"({"conversation_id":")" + c.conv + R"(","due_at":"2028-01-02T09:00:00+01:00","note":"Send the invoice","kind":"reminder"})");
  REQUIRE(created.status == 201);
  auto f = created.json().as_object();
  auto id = std::string(f.at("id").as_string());
  REQUIRE(f.at("due_at").as_int64() == 1830412800000);
  REQUIRE(f.at("owner_id").as_string() == c.ann.id);
  REQUIRE(f.at("status").as_string() == "open");
  REQUIRE_FALSE(f.at("overdue").as_bool());

  auto soon = create(c.ann, c.conv, now_ms() + 200);
  c.ann->expect(due_of(soon), 5s);

  auto mine = call("GET", "/api/v1/followups?owner=me", c.ann.token).json();
  REQUIRE(mine.at("items").as_array().size() == 2);
  REQUIRE(mine.at("items").at(0).at("id").as_string() == soon);  // soonest first
  auto overdue = call("GET", "/api/v1/followups?overdue=true", c.ann.token).json();
  REQUIRE(overdue.at("items").as_array().size() == 1);
  REQUIRE(overdue.at("items").at(0).at("overdue").as_bool());
  auto stats = call("GET", "/api/v1/followups/stats", boss).json();
  REQUIRE(stats.at("open").as_int64() == 2);
  REQUIRE(stats.at("overdue").as_int64() == 1);
  REQUIRE(call("GET", "/api/v1/followups?conversation_id=" + c.conv + "&status=any", boss).json().at("items").as_array().size() == 2);

  auto moved = call("PATCH", "/api/v1/followups/" + soon, c.ann.token, R"({"due_at":"2028-05-01T08:00:00Z","note":"Call again"})");
  REQUIRE(moved.status == 200);
  REQUIRE(moved.json().at("note").as_string() == "Call again");
  REQUIRE_FALSE(moved.json().at("overdue").as_bool());
  REQUIRE(call("GET", "/api/v1/followups/stats", boss).json().at("overdue").as_int64() == 0);

  REQUIRE(call("GET", "/api/v1/followups/" + id, bob).status == 403);
  REQUIRE(call("POST", "/api/v1/followups/" + id + "/complete", bob).status == 403);
  auto done = call("POST", "/api/v1/followups/" + id + "/complete", c.ann.token);
  REQUIRE(done.status == 200);
  REQUIRE(done.json().at("status").as_string() == "done");
  REQUIRE(done.json().at("done_by").as_string() == c.ann.id);
  REQUIRE(call("POST", "/api/v1/followups/" + id + "/cancel", c.ann.token).status == 409);
  REQUIRE(call("POST", "/api/v1/followups/" + soon + "/cancel", boss).json().at("status").as_string() == "cancelled");
  REQUIRE(call("GET", "/api/v1/followups?owner=me", c.ann.token).json().at("items").as_array().empty());
}

TEST_CASE("follow-up bad inputs get clear errors") {
  Deployment d;
  auto c = chat_with_ann(d);
  auto code = [&](Frame f) { return code_of(c.ann->request(std::move(f))); };
  REQUIRE(code(frame({{"type", "followup.create"}, {"conversation_id", c.conv}, {"due_at", now_ms() - 3'600'000}, {"note", "x"}})) == "bad_request");
  REQUIRE(code(frame({{"type", "followup.create"}, {"conversation_id", "c_nope"}, {"due_at", now_ms() + 60'000}, {"note", "x"}})) == "not_found");
  REQUIRE(code(frame({{"type", "followup.create"}, {"ticket_id", "t_nope"}, {"due_at", now_ms() + 60'000}, {"note", "x"}})) == "not_found");
  REQUIRE(code(frame({{"type", "followup.create"}, {"conversation_id", c.conv}, {"due_at", "tomorrow"}, {"note", "x"}})) == "bad_request");
  REQUIRE(code(frame({{"type", "followup.create"}, {"conversation_id", c.conv}, {"due_at", now_ms() + 60'000}})) == "bad_request");
  REQUIRE(code(frame({{"type", "followup.complete"}, {"followup_id", "f_nope"}})) == "not_found");
  REQUIRE(code_of(c.casey->request(frame({{"type", "followup.create"}, {"conversation_id", c.conv}, {"due_at", now_ms() + 60'000}, {"note", "x"}}))) == "forbidden");
  auto post = [&](std::string const& body) {
    return http(d.port(), "POST", "/api/v1/followups", body, {{"Authorization", "Bearer " + c.ann.token}});
  };
  auto malformed = post(R"({"conversation_id":")" + c.conv + R"(","due_at":"2026-02-30T10:00:00Z","note":"x"})");
  REQUIRE(malformed.status == 400);
  REQUIRE(malformed.json().at("error").at("message").as_string().find("RFC 3339") != std::string::npos);
  REQUIRE(post(R"({"conversation_id":")" + c.conv + R"(","due_at":"2001-01-01T00:00:00Z","note":"x"})").status == 400);
  REQUIRE(http(d.port(), "GET", "/api/v1/followups", "", {{"Authorization", "Bearer " + c.casey.token}}).status == 403);
}

TEST_CASE("resolving a post-purchase chat schedules a check-in for its agent") {
  Deployment d(Env{{"EXCEED_FOLLOWUPS_CHECK_IN_AFTER_S", "1"}});
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto ack = casey->request(frame({{"type", "conversation.start"}, {"text", "The lamp arrived broken"},
                                   {"context", frame({{"stage", "post_purchase"}})}}));
  auto conv = str(ack, "conversation_id");
  accept(ann, conv);
  REQUIRE(ok(ann->request(frame({{"type", "conversation.resolve"}, {"conversation_id", conv}}))));
  auto due = ann->expect([](Frame const& f) { return is_type(f, "followup.due"); }, 6s, "the check-in");
  REQUIRE(str(due, "kind") == "check_in");
  REQUIRE(str(due, "conversation_id") == conv);
}
