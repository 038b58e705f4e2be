// The doors an attacker tries first, against the real binary: password
// guessing, the shipped default limits, names the server does not answer
// for, tokens of people who left, and one open conversation per customer.
#include "harness.hpp"

#include "support/process.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>

#include <poll.h>

#include <future>
#include <set>

using namespace exceed::test;
using namespace std::chrono_literals;

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

HttpResult login_as(std::uint16_t port, std::string const& user, std::string const& password,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
  json::object body{{"username", user}, {"password", password}};
  return http(port, "POST", "/api/v1/login", json::serialize(body), headers);
}

std::string code_of_http(HttpResult const& r) {
  auto v = r.json();
  if (!v.is_object() || !v.as_object().contains("error")) return "";
  return std::string(v.at("error").at("code").as_string());
}

// The figure of one series in GET /metrics ("" when absent).
std::string metric(std::uint16_t port, std::string const& series) {
  auto body = http(port, "GET", "/metrics").body;
  auto at = body.find("\n" + series + " ");
  if (at == std::string::npos) return "";
  auto start = at + series.size() + 2;
  return body.substr(start, body.find('\n', start) - start);
}

// Runs `cmd` through the shell; its exit code and output.
std::pair<int, std::string> shell(std::string const& cmd) {
  std::string out;
  int status = -1;
  if (FILE* p = popen((cmd + " 2>&1").c_str(), "r")) {
    char buf[4096];
    while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    status = pclose(p);
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST_CASE("password guessing: each further failure waits longer, the right password too, and it is logged and counted") {
  Deployment d(Env{{"EXCEED_AUTH_LOGIN_FREE_FAILURES_PER_USER", "3"}, {"EXCEED_AUTH_LOGIN_BACKOFF_MAX_S", "2"}});
  d.user("sue", "supervisor", "support");
  for (int i = 0; i < 4; ++i) {
    INFO("failure " << i + 1);
    auto r = login_as(d.port(), "sue", "guess-number-" + std::to_string(i));
    REQUIRE(r.status == 401);
  }
  auto log = d.server().log();
  REQUIRE(log.find("login: failed for sue from 127.0.0.1") != std::string::npos);
  REQUIRE(log.find("guess-number") == std::string::npos);
  // The fourth failure set a wait: now even the right password is refused.
  auto held = login_as(d.port(), "sue", "password123");
  REQUIRE(held.status == 429);
  REQUIRE(code_of_http(held) == "rate_limited");
  REQUIRE(held.header("Retry-After") == "1");
  REQUIRE(login_as(d.port(), "sue", "guess-number-9").status == 429);

  // Another user from the same address is not held back by sue's guesses.
  d.user("ann");
  REQUIRE(login_as(d.port(), "ann", "password123").status == 200);

  // Once the wait is over (at most the 2 s cap), the right password works.
  auto const deadline = std::chrono::steady_clock::now() + 5s;
  HttpResult in;
  do in = login_as(d.port(), "sue", "password123");
  while (in.status == 429 && std::chrono::steady_clock::now() < deadline);
  REQUIRE(in.status == 200);
  REQUIRE(metric(d.port(), "exceed_login_failures_total{reason=\"password\"}") == "4");
  REQUIRE(std::stoi(metric(d.port(), "exceed_login_failures_total{reason=\"throttled\"}")) >= 2);
}

TEST_CASE("password guessing from one address: past its free failures the address waits, whatever the username") {
  Deployment d(Env{{"EXCEED_AUTH_LOGIN_FREE_FAILURES_PER_ADDRESS", "5"}, {"EXCEED_AUTH_LOGIN_BACKOFF_MAX_S", "60"}});
  d.user("ann");
  for (int i = 0; i < 6; ++i) REQUIRE(login_as(d.port(), "nobody-" + std::to_string(i), "whatever-123").status == 401);
  auto held = login_as(d.port(), "ann", "password123");
  REQUIRE(held.status == 429);
  REQUIRE(std::stoi(held.header("Retry-After")) >= 1);
}

TEST_CASE("a flood of logins cannot queue up the password hashing: past the queue, 503 at once") {
  // Unknown users are checked against a hash of the server's own cost: at
  // this cost one check takes long enough for the flood to fill the queue.
  Deployment d(Env{{"EXCEED_AUTH_PASSWORD_ITERATIONS", "3000000"}, {"EXCEED_AUTH_HASHING_THREADS", "1"},
                   {"EXCEED_AUTH_HASHING_QUEUE", "2"}});
  constexpr int flood = 12;
  std::vector<std::future<HttpResult>> answers;
  for (int i = 0; i < flood; ++i)
    answers.push_back(std::async(std::launch::async, [&d, i] {
      return login_as(d.port(), "guess-" + std::to_string(i), "not-the-password");
    }));
  int busy = 0, wrong = 0;
  for (auto& a : answers) {
    auto r = a.get();
    if (r.status == 503) {
      ++busy;
      REQUIRE(code_of_http(r) == "unavailable");
      REQUIRE(r.header("Retry-After") == "1");
    } else {
      REQUIRE(r.status == 401);
      ++wrong;
    }
  }
  REQUIRE(busy >= 1);
  REQUIRE(wrong >= 1);
  REQUIRE(metric(d.port(), "exceed_login_failures_total{reason=\"busy\"}") == std::to_string(busy));
}

TEST_CASE("the shipped defaults limit what one address and one token may take") {
  // The binary as an operator starts it: no limit lifted.
  RedisServer redis;
  auto port = free_port();
  auto dir = make_temp_dir("exceed-defaults-");
  Process server({exceed_binary(), "serve", "--listen", "127.0.0.1:" + std::to_string(port), "--redis", redis.url()},
                 {{"EXCEED_AUTH_TOKEN_SECRET", test_token_secret}, {"EXCEED_SERVER_WEB_ROOT", EXCEED_PROTO_DIR "/../web"}},
                 dir + "/exceed.log");
  auto const up_by = std::chrono::steady_clock::now() + 15s;
  bool up = false;
  while (!up && std::chrono::steady_clock::now() < up_by) {
    REQUIRE(server.running());
    try {
      up = http(port, "GET", "/healthz").status == 200;
    } catch (std::exception const&) {
      std::this_thread::sleep_for(20ms);  // polling a port that is not open yet
    }
  }
  REQUIRE(up);

  SECTION("GET /metrics needs a token") { REQUIRE(http(port, "GET", "/metrics").status == 401); }
  SECTION("30 new visitors a minute from one address, then 429 with Retry-After") {
    for (int i = 0; i < 30; ++i) REQUIRE(http(port, "POST", "/api/v1/visitors", "{}").status == 201);
    auto r = http(port, "POST", "/api/v1/visitors", "{}");
    REQUIRE(r.status == 429);
    REQUIRE(code_of_http(r) == "rate_limited");
    REQUIRE(std::stoi(r.header("Retry-After")) >= 1);
    // A visitor that never chats expires.
    auto ttl = redis_cli(redis.port(), "--scan --pattern 'exceed:visitor:v_*' | head -1 | xargs redis-cli -p " +
                                           std::to_string(redis.port()) + " TTL");
    REQUIRE(std::stoll(ttl) > 0);
  }
  SECTION("20 sessions on one token, the next is refused") {
    auto [visitor, token] = new_visitor(port);
    std::vector<std::unique_ptr<WsClient>> tabs;
    for (int i = 0; i < 20; ++i) {
      tabs.push_back(std::make_unique<WsClient>(port));
      REQUIRE(is_type(tabs.back()->hello(token), "welcome"));
    }
    WsClient one_more(port);
    auto refused = one_more.hello(token);
    REQUIRE(code_of(refused) == "rate_limited");
    REQUIRE(one_more.wait_closed(5s) == std::optional<std::uint16_t>(4429));
  }
  SECTION("256 connections from one address, the next is closed at once") {
    asio::io_context io;
    std::vector<tcp::socket> socks;
    for (int i = 0; i < 256; ++i) {
      socks.emplace_back(io);
      socks.back().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    }
    tcp::socket extra(io);
    extra.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    std::vector<pollfd> fds{pollfd{extra.native_handle(), POLLIN, 0}};
    REQUIRE(::poll(fds.data(), 1, 5000) == 1);
    char c;
    boost::system::error_code ec;
    extra.read_some(asio::buffer(&c, 1), ec);
    REQUIRE((ec == asio::error::eof || ec == asio::error::connection_reset));
  }
}

TEST_CASE("behind a trusted proxy the limits count the forwarded address, from anyone else the header is ignored") {
  Deployment d(Env{{"EXCEED_LIMITS_VISITORS_PER_ADDRESS_PER_MIN", "2"}, {"EXCEED_SERVER_TRUSTED_PROXIES", "127.0.0.1"}});
  auto from = [&](std::string const& client) {
    return http(d.port(), "POST", "/api/v1/visitors", "{}", {{"X-Forwarded-For", "203.0.113.9, " + client}}).status;
  };
  REQUIRE(from("198.51.100.1") == 201);
  REQUIRE(from("198.51.100.1") == 201);
  REQUIRE(from("198.51.100.1") == 429);
  REQUIRE(from("198.51.100.2") == 201);

  Deployment direct(Env{{"EXCEED_LIMITS_VISITORS_PER_ADDRESS_PER_MIN", "2"}});
  auto spoofed = [&](std::string const& client) {
    return http(direct.port(), "POST", "/api/v1/visitors", "{}", {{"X-Forwarded-For", client}}).status;
  };
  REQUIRE(spoofed("198.51.100.1") == 201);
  REQUIRE(spoofed("198.51.100.2") == 201);
  REQUIRE(spoofed("198.51.100.3") == 429);  // one address, whatever it claims
}

TEST_CASE("a customer opens a few tickets an hour, not hundreds") {
  Deployment d(Env{{"EXCEED_LIMITS_TICKETS_PER_CUSTOMER_PER_HOUR", "3"}});
  auto [visitor, token] = new_visitor(d.port());
  auto open_ticket = [&, token = token] {
    return http(d.port(), "POST", "/api/v1/tickets", R"({"subject":"My parcel","priority":"urgent"})",
                {{"Authorization", "Bearer " + token}});
  };
  for (int i = 0; i < 3; ++i) REQUIRE(open_ticket().status == 201);
  auto r = open_ticket();
  REQUIRE(r.status == 429);
  REQUIRE(code_of_http(r) == "rate_limited");
  auto mine = http(d.port(), "GET", "/api/v1/tickets", "", {{"Authorization", "Bearer " + token}});
  REQUIRE(mine.json().at("items").as_array().size() == 3);
}

TEST_CASE("one open conversation per customer, also while it is kept as a ticket") {
  Deployment d;  // nobody online: a chat becomes a ticket
  d.user("sue", "supervisor", "support");
  auto casey = customer(d.port());
  auto first = casey->request(frame({{"type", "conversation.start"}, {"text", "Where is my parcel?"}}));
  REQUIRE(ok(first));
  REQUIRE(str(first, "status") == "ticket");
  auto again = casey->request(frame({{"type", "conversation.start"}, {"text", "Hello??"}}));
  REQUIRE(ok(again));
  REQUIRE(str(again, "conversation_id") == str(first, "conversation_id"));
  REQUIRE(str(again, "ticket_id") == str(first, "ticket_id"));
  auto sue = login(d.port(), "sue", "password123");
  auto tickets = http(d.port(), "GET", "/api/v1/tickets", "", {{"Authorization", "Bearer " + sue}});
  REQUIRE(tickets.json().at("items").as_array().size() == 1);
  // The visitor with a chat is kept for good.
  REQUIRE(redis_cli(d.redis.port(), "TTL exceed:visitor:" + casey.id) == "-1");

  // Once the ticket is solved, a new chat may start.
  auto solved = http(d.port(), "PATCH", "/api/v1/tickets/" + str(first, "ticket_id"), R"({"status":"solved"})",
                     {{"Authorization", "Bearer " + sue}});
  REQUIRE(solved.status == 200);
  auto next = casey->request(frame({{"type", "conversation.start"}, {"text", "Another question"}}));
  REQUIRE(ok(next));
  REQUIRE(str(next, "conversation_id") != str(first, "conversation_id"));
}

TEST_CASE("a disabled, deleted or re-passworded user's tokens stop working at once, on REST and WebSocket") {
  Deployment d;
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto bearer = std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + ann.token}};
  REQUIRE(http(d.port(), "GET", "/api/v1/conversations", "", bearer).status == 200);
  auto bin = exceed_binary() + " user ";
  auto at = " --redis " + d.redis.url();

  SECTION("disable, then enable") {
    auto [rc, out] = shell(bin + "disable ann" + at);
    REQUIRE(rc == 0);
    REQUIRE(out.find("disabled ann") != std::string::npos);
    // The live session is closed, the token refused on REST, logins refused.
    REQUIRE(ann->wait_closed(5s) == std::optional<std::uint16_t>(4401));
    auto rest = http(d.port(), "GET", "/api/v1/conversations", "", bearer);
    REQUIRE(rest.status == 401);
    REQUIRE(login_as(d.port(), "ann", "password123").status == 401);
    WsClient again(d.port());
    REQUIRE(code_of(again.hello(ann.token)) == "unauthorized");
    REQUIRE(shell(bin + "list" + at).second.find("\tdisabled") != std::string::npos);

    REQUIRE(shell(bin + "enable ann" + at).first == 0);
    auto fresh = login_as(d.port(), "ann", "password123");
    REQUIRE(fresh.status == 200);
    REQUIRE(http(d.port(), "GET", "/api/v1/conversations", "", bearer).status == 401);  // the old token stays revoked
  }
  SECTION("a new password revokes every token") {
    REQUIRE(shell("printf 'brand-new-pass\\n' | EXCEED_AUTH_PASSWORD_ITERATIONS=1000 " + bin + "passwd ann" + at).first == 0);
    REQUIRE(ann->wait_closed(5s) == std::optional<std::uint16_t>(4401));
    REQUIRE(http(d.port(), "GET", "/api/v1/conversations", "", bearer).status == 401);
    REQUIRE(login_as(d.port(), "ann", "password123").status == 401);
    REQUIRE(login_as(d.port(), "ann", "brand-new-pass").status == 200);
  }
  SECTION("delete frees the username; the old token never comes back") {
    REQUIRE(shell(bin + "delete ann" + at).first == 0);
    REQUIRE(ann->wait_closed(5s) == std::optional<std::uint16_t>(4401));
    REQUIRE(http(d.port(), "GET", "/api/v1/conversations", "", bearer).status == 401);
    REQUIRE(shell(bin + "list" + at).second.find("ann\t") == std::string::npos);
    d.user("ann");  // a new person may take the name
    REQUIRE(http(d.port(), "GET", "/api/v1/conversations", "", bearer).status == 401);
    REQUIRE(login_as(d.port(), "ann", "password123").status == 200);
  }
  SECTION("an unknown user is reported") {
    auto [rc, out] = shell(bin + "disable nobody" + at);
    REQUIRE(rc == 1);
    REQUIRE(out.find("no user named 'nobody'") != std::string::npos);
  }
}

TEST_CASE("a deployment's public names are served, other names are not, and origins are compared exactly") {
  Deployment d(Env{{"EXCEED_SERVER_PUBLIC_HOSTS", "chat.example"}});
  auto probe = customer(d.port(), "Probe");
  auto get = [&](std::string const& host) {
    return http(d.port(), "GET", "/console/", "", {{"Host", host}}).status;
  };
  REQUIRE(get("chat.example") == 200);
  REQUIRE(get("CHAT.example:8443") == 200);
  REQUIRE(get("chat.example.evil.example") == 400);
  REQUIRE(get("evil.example") == 400);
  // Probes and scrapers reach the operators' paths by any name.
  REQUIRE(http(d.port(), "GET", "/healthz", "", {{"Host", "exceed-1"}}).status == 200);

  auto ws = [&](std::string const& host, std::string const& origin) {
    WsOptions o;
    o.host = host;
    o.origin = origin;
    return WsClient(d.port(), o);
  };
  // (WsClient sends Host with the test port: the page's origin has it too.)
  auto const own = "http://chat.example:" + std::to_string(d.port());
  REQUIRE_NOTHROW(ws("chat.example", own));
  REQUIRE_THROWS_WITH(ws("chat.example", "http://chat.example"), Catch::Contains("403"));  // another port
  REQUIRE_THROWS_WITH(ws("chat.example", "https://chat.example.evil.example"), Catch::Contains("403"));
  REQUIRE_THROWS_WITH(ws("chat.example", "https://evil.example"), Catch::Contains("403"));
  REQUIRE_THROWS_WITH(ws("attacker.test", "http://attacker.test"), Catch::Contains("400"));

  // With an allow-list, exactly its origins, and their hosts are served.
  Deployment listed(Env{{"EXCEED_SERVER_ALLOWED_ORIGINS", "https://shop.example"}});
  auto cors = [&](std::string const& origin) {
    return http(listed.port(), "POST", "/api/v1/visitors", "{}", {{"Origin", origin}}).header("Access-Control-Allow-Origin");
  };
  REQUIRE(cors("https://shop.example") == "https://shop.example");
  REQUIRE(cors("https://shop.example.evil.example").empty());
  REQUIRE(cors("https://shop.examplex").empty());
  REQUIRE(cors("http://shop.example").empty());
  REQUIRE(http(listed.port(), "GET", "/", "", {{"Host", "shop.example"}}).status == 200);
}
