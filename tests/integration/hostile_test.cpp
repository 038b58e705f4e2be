// Every bad input gets its clear error and loses nothing: the catalogue of
// proto/bad-frames.json against the real server, and the attacks on auth,
// roles, origins, sizes and rates.
#include "harness.hpp"

#include "app/auth.hpp"

#include <boost/json/parse.hpp>

#include <fstream>
#include <set>
#include <sstream>

using namespace exceed::test;
using namespace std::chrono_literals;

namespace {

json::array bad_frames() {
  std::ifstream in(EXCEED_PROTO_DIR "/bad-frames.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str()).as_array();
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEST_CASE("every frame of the hostile catalogue gets the code and the close the spec requires") {
  Deployment d(Env{{"EXCEED_LIMITS_MESSAGES_PER_S", "1000"}, {"EXCEED_LIMITS_BURST", "1000"}});
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey);
  int checked = 0;
  for (auto const& item : bad_frames()) {
    auto const& c = item.as_object();
    std::string name(c.at("name").as_string());
    INFO(name);
    std::string raw(c.at("raw").as_string());
    std::string expect(c.at("expect").as_string());
    bool before_hello = c.contains("phase") && c.at("phase").as_string() == "before_hello";
    bool as_agent = c.contains("as") && c.at("as").as_string() == "agent";
    if (before_hello) {
      WsClient fresh(d.port());
      fresh.send_text(raw);
      auto err = fresh.expect_type("error");
      REQUIRE(str(err, "code") == expect);
      REQUIRE(fresh.wait_closed(5s) == std::optional<std::uint16_t>(c.at("close").as_int64()));
    } else {
      auto& who = as_agent ? ann : casey;
      who->send_text(raw);
      auto err = who->expect_type("error");
      REQUIRE(str(err, "code") == expect);
      // The connection stays open and keeps working.
      REQUIRE(ok(who->request(frame({{"type", "history.get"}, {"conversation_id", conv}}))));
    }
    ++checked;
  }
  REQUIRE(checked >= 50);
  // Nothing the hostile frames said was stored.
  REQUIRE(history(casey, conv).size() == 1);
}

TEST_CASE("bad tokens: forged, expired, wrong algorithm, missing hello") {
  Deployment d(Env{{"EXCEED_LIMITS_HELLO_TIMEOUT_S", "1"}});
  auto [visitor, token] = new_visitor(d.port());
  auto try_token = [&](std::string const& t) {
    WsClient ws(d.port());
    auto w = ws.hello(t);
    REQUIRE(code_of(w) == "unauthorized");
    REQUIRE(ws.wait_closed(5s) == std::optional<std::uint16_t>(4401));
  };
  SECTION("forged signature") { try_token(token.substr(0, token.rfind('.') + 1) + "AAAA"); }
  SECTION("signed with another key") {
    exceed::app::TokenSigner other("not-the-server-secret-at-all");
    try_token(other.sign({visitor, exceed::core::Role::supervisor, "x", now_ms() + 60'000}));
  }
  SECTION("expired") {
    exceed::app::TokenSigner same(test_token_secret);
    try_token(same.sign({visitor, exceed::core::Role::customer, "x", now_ms() - 1000}));
  }
  SECTION("alg none") {
    try_token(exceed::app::base64url_encode(R"({"alg":"none","typ":"JWT"})") + token.substr(token.find('.')));
  }
  SECTION("a token for an agent who does not exist") {
    exceed::app::TokenSigner same(test_token_secret);
    try_token(same.sign({"a_ghost", exceed::core::Role::agent, "x", now_ms() + 60'000}));
  }
  SECTION("no hello at all: closed after the hello timeout") {
    WsClient ws(d.port());
    REQUIRE(ws.wait_closed(5s) == std::optional<std::uint16_t>(4401));
    REQUIRE(code_of(ws.backlog().at(0)) == "unauthorized");
  }
  SECTION("bearer tokens over HTTP") {
    auto r = http(d.port(), "GET", "/api/v1/conversations", "", {{"Authorization", "Bearer nope"}});
    REQUIRE(r.status == 401);
    REQUIRE(r.json().at("error").at("code").as_string() == "unauthorized");
    REQUIRE(http(d.port(), "GET", "/api/v1/conversations").status == 401);
  }
}

TEST_CASE("roles and ownership: nobody reads or writes what is not theirs") {
  Deployment d;
  d.user("ann", "agent", "support");
  d.user("sam", "agent", "sales");
  auto ann = agent(d.port(), "ann");
  auto sam = agent(d.port(), "sam");
  auto casey = customer(d.port());
  auto conv = start_chat(casey, "private matter");
  accept(ann, conv);
  auto mallory = customer(d.port(), "Mallory");

  REQUIRE(code_of(send(mallory, conv, "hi", "m-1")) == "forbidden");
  REQUIRE(code_of(mallory->request(frame({{"type", "history.get"}, {"conversation_id", conv}}))) == "forbidden");
  REQUIRE(code_of(sam->request(frame({{"type", "history.get"}, {"conversation_id", conv}}))) == "forbidden");
  REQUIRE(code_of(send(sam, conv, "hi", "s-1")) == "forbidden");
  REQUIRE(code_of(sam->request(frame({{"type", "conversation.resolve"}, {"conversation_id", conv}}))) == "forbidden");
  REQUIRE(code_of(casey->request(frame({{"type", "agent.status"}, {"status", "online"}}))) == "forbidden");
  REQUIRE(code_of(casey->request(frame({{"type", "note.add"}, {"conversation_id", conv}, {"text", "x"}}))) == "forbidden");
  REQUIRE(code_of(ann->request(frame({{"type", "conversation.start"}, {"text", "x"}}))) == "forbidden");
  REQUIRE(code_of(send(casey, "c_does_not_exist", "hi", "c-1")) == "not_found");
  REQUIRE(code_of(mallory->request(frame({{"type", "csat.submit"}, {"conversation_id", conv}, {"rating", 5}, {"expectation", "met"}}))) == "forbidden");
  REQUIRE(history(ann, conv).size() == 1);
}

TEST_CASE("sizes, binary frames, floods and origins") {
  Deployment d(Env{{"EXCEED_ROUTING_TICKET_WHEN_OFFLINE", "false"}, {"EXCEED_LIMITS_MAX_FRAME_BYTES", "4096"}, {"EXCEED_LIMITS_MESSAGES_PER_S", "5"},
                {"EXCEED_LIMITS_BURST", "10"}, {"EXCEED_LIMITS_FLOOD_REJECTIONS", "20"},
                {"EXCEED_LIMITS_MAX_BODY_BYTES", "2048"}});
  auto casey = customer(d.port());
  auto conv = start_chat(casey);

  SECTION("a binary frame gets bad_request and the connection stays") {
    casey->send_binary(std::string("\x00\x01\x02", 3));
    REQUIRE(code_of(casey->expect_type("error")) == "bad_request");
    REQUIRE(ok(send(casey, conv, "still fine", "c-1")));
  }
  SECTION("a frame over the maximum closes with 1009") {
    casey->send_text(std::string(5000, ' ') + "{}");
    REQUIRE(casey->wait_closed(5s) == std::optional<std::uint16_t>(1009));
  }
  SECTION("a flood: rate_limited errors, then close 4429; what was acked is kept") {
    int limited = 0;
    std::vector<std::int64_t> acked;
    for (int i = 0; i < 60 && casey->is_open(); ++i)
      casey->send(frame({{"type", "message.send"}, {"id", i}, {"conversation_id", conv},
                         {"client_msg_id", "f" + std::to_string(i)}, {"text", "spam"}}));
    auto code = casey->wait_closed(10s);
    REQUIRE(code == std::optional<std::uint16_t>(4429));
    for (auto const& f : casey->backlog()) {
      if (ok(f)) acked.push_back(f.at("seq").as_int64());
      if (code_of(f) == "rate_limited") ++limited;
    }
    REQUIRE(limited >= 1);
    REQUIRE_FALSE(acked.empty());
    // Every acked message is stored; frames refused or cut off by the close
    // were never acked (a client resends those with their client_msg_id).
    casey.reconnect();
    std::set<std::int64_t> stored;
    for (auto const& m : history(casey, conv)) stored.insert(m.at("seq").as_int64());
    for (auto seq : acked) REQUIRE(stored.count(seq) == 1);
  }
  SECTION("a disallowed Origin is refused before the upgrade; allowed ones pass") {
    auto from = [](std::string origin) {
      WsOptions o;
      o.origin = std::move(origin);
      return o;
    };
    REQUIRE_THROWS_WITH(WsClient(d.port(), from("https://evil.example")), Catch::Contains("403"));
    REQUIRE_NOTHROW(WsClient(d.port(), from("http://localhost:3000")));
    REQUIRE_NOTHROW(WsClient(d.port(), from("http://127.0.0.1:" + std::to_string(d.port()))));
  }
  SECTION("HTTP: a body over the limit, malformed JSON, wrong password, unknown paths") {
    auto big = http(d.port(), "POST", "/api/v1/visitors", "{\"name\":\"" + std::string(4000, 'x') + "\"}");
    REQUIRE(big.status == 413);
    REQUIRE(big.json().at("error").at("code").as_string() == "too_large");
    auto bad = http(d.port(), "POST", "/api/v1/visitors", "{\"name\":");
    REQUIRE(bad.status == 400);
    REQUIRE(bad.json().at("error").at("code").as_string() == "bad_request");
    REQUIRE(http(d.port(), "POST", "/api/v1/login", R"({"username":"nobody","password":"whatever1"})").status == 401);
    REQUIRE(http(d.port(), "POST", "/api/v1/login", R"({"username":5})").status == 400);
    REQUIRE(http(d.port(), "GET", "/api/v1/nothing-here", "", {{"Authorization", "Bearer x"}}).status == 401);
  }
}

TEST_CASE("identity verification: a returning verified customer sees their conversations, a wrong hash is refused") {
  Deployment d(Env{{"EXCEED_AUTH_IDENTITY_SECRET", "shop-identity-secret"}});
  auto hash = exceed::app::hmac_sha256_hex("shop-identity-secret", "user-42");
  auto body = R"({"name":"Vera","user_id":"user-42","user_hash":")" + hash + "\"}";
  auto first = http(d.port(), "POST", "/api/v1/visitors", body);
  REQUIRE(first.status == 201);
  Person vera;
  vera.port = d.port();
  vera.token = std::string(first.json().at("token").as_string());
  vera.reconnect();
  auto conv = start_chat(vera, "about my order");

  auto again = http(d.port(), "POST", "/api/v1/visitors", body);  // another device
  REQUIRE(again.json().at("visitor_id") == first.json().at("visitor_id"));
  Person phone;
  phone.port = d.port();
  phone.token = std::string(again.json().at("token").as_string());
  phone.ws = std::make_unique<WsClient>(d.port());
  auto w = phone->hello(phone.token);
  REQUIRE(w.at("conversations").at(0).at("conversation_id").as_string() == conv);

  auto wrong = http(d.port(), "POST", "/api/v1/visitors", R"({"user_id":"user-42","user_hash":"00ff"})");
  REQUIRE(wrong.status == 401);
  REQUIRE(wrong.json().at("error").at("code").as_string() == "unauthorized");
}
