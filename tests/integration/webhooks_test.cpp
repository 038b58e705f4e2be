// Webhooks through the real server: a receiver on loopback that fails, is
// slow, then recovers gets every event, signed, in order per conversation;
// a server killed with events waiting loses none; a receiver that keeps
// failing is disabled with the reason; and URLs pointing inside the machine
// are refused when the subscription is made.
#include "harness.hpp"
#include "support/webhook_receiver.hpp"

#include <boost/json/parse.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <map>
#include <set>

using namespace exceed::test;
using namespace std::chrono_literals;

namespace {

Env receiving_env(std::string disable_after_s = "3600") {
  return {{"EXCEED_WEBHOOKS_ALLOWED_RANGES", "127.0.0.1"},
          {"EXCEED_WEBHOOKS_ALLOW_HTTP", "true"},
          {"EXCEED_WEBHOOKS_TIMEOUT_MS", "700"},
          {"EXCEED_WEBHOOKS_RETRY_FIRST_MS", "50"},
          {"EXCEED_WEBHOOKS_RETRY_MAX_S", "1"},
          {"EXCEED_WEBHOOKS_DISABLE_AFTER_S", disable_after_s}};
}

std::vector<std::pair<std::string, std::string>> bearer(std::string const& token) {
  return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
}

json::object subscribe(std::uint16_t port, std::string const& token, std::string const& url, json::array events) {
  json::object body{{"url", url}, {"events", std::move(events)}, {"description", "the shop's CRM"}};
  auto r = http(port, "POST", "/api/v1/webhooks", json::serialize(body), bearer(token));
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.json().as_object();
}

std::string hmac_hex(std::string const& key, std::string const& text) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<unsigned char const*>(text.data()),
       text.size(), mac, &len);
  static char const* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[mac[i] >> 4];
    out += hex[mac[i] & 15];
  }
  return out;
}

// What a receiver must check: the signature over "<t>.<body>" with the
// subscription's secret, and a t within five minutes.
bool signed_by(Delivery const& d, std::string const& secret) {
  auto it = d.headers.find("exceed-signature");
  if (it == d.headers.end()) return false;
  auto const& h = it->second;  // t=<seconds>,v1=<hex>
  auto comma = h.find(",v1=");
  if (h.rfind("t=", 0) != 0 || comma == std::string::npos) return false;
  auto t = h.substr(2, comma - 2);
  auto age = std::time(nullptr) - std::stoll(t);
  return age < 300 && age > -300 && h.substr(comma + 4) == hmac_hex(secret, t + "." + d.body);
}

// The deliveries that were taken (2xx), first time each event was taken.
std::vector<json::object> taken(std::vector<Delivery> const& all) {
  std::vector<json::object> out;
  std::set<std::string> seen;
  for (auto const& d : all) {
    if (d.answered < 200 || d.answered > 299) continue;
    auto body = json::parse(d.body).as_object();
    if (seen.insert(std::string(body.at("id").as_string())).second) out.push_back(std::move(body));
  }
  return out;
}

std::string conversation_of(json::object const& event) {
  auto const& data = event.at("data").as_object();
  auto const* c = data.if_contains("conversation_id");
  return c && c->is_string() ? std::string(c->as_string()) : std::string();
}

// Per conversation, the seqs of the message events taken, in arrival order.
std::map<std::string, std::vector<std::int64_t>> message_seqs(std::vector<json::object> const& events) {
  std::map<std::string, std::vector<std::int64_t>> out;
  for (auto const& e : events)
    if (e.at("type").as_string() == "message") out[conversation_of(e)].push_back(e.at("data").at("seq").as_int64());
  return out;
}

std::size_t count_messages(std::vector<Delivery> const& all) {
  std::size_t n = 0;
  for (auto const& e : taken(all)) n += e.at("type").as_string() == "message";
  return n;
}

}  // namespace

TEST_CASE("a receiver that fails, is slow, then recovers gets every event, signed, in order per conversation") {
  Deployment d(receiving_env());
  d.user("sue", "supervisor");
  d.user("ann");
  auto sue = login(d.port(), "sue", "password123");
  // Requests 0-3 fail (503), 4-5 answer after the 700 ms deadline, 6-8
  // answer slowly but in time, everything after at once.
  WebhookReceiver receiver([](std::size_t n) -> Reply {
    if (n < 4) return {503, 0ms};
    if (n < 6) return {200, 1200ms};
    if (n < 9) return {200, 300ms};
    return {200, 0ms};
  });
  auto hook = subscribe(d.port(), sue, receiver.url(), {"conversation.started", "conversation.assigned", "message"});
  std::string secret(hook.at("secret").as_string());
  CHECK(hook.at("status").as_string() == "active");

  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port(), "Casey");
  auto dana = customer(d.port(), "Dana");
  auto c1 = start_chat(casey, "My parcel is late");
  accept(ann, c1);
  auto c2 = start_chat(dana, "The app crashes");
  accept(ann, c2);
  constexpr int per_side = 6;
  for (int i = 0; i < per_side; ++i) {
    REQUIRE(ok(send(casey, c1, "casey " + std::to_string(i), "c" + std::to_string(i))));
    REQUIRE(ok(send(ann, c1, "ann to casey " + std::to_string(i), "a1-" + std::to_string(i))));
    REQUIRE(ok(send(dana, c2, "dana " + std::to_string(i), "d" + std::to_string(i))));
    REQUIRE(ok(send(ann, c2, "ann to dana " + std::to_string(i), "a2-" + std::to_string(i))));
  }
  std::size_t const expected = 4 * per_side;  // the start text is not a message event
  INFO(d.server().log());
  REQUIRE(receiver.wait_for([&](auto const& all) { return count_messages(all) >= expected; }, 30s));

  auto all = receiver.received();
  for (auto const& delivery : all) {
    INFO(delivery.body);
    CHECK(signed_by(delivery, secret));
    CHECK(delivery.headers.at("content-type") == "application/json");
    CHECK(delivery.path == "/hooks");
  }
  CHECK_FALSE(signed_by(all.front(), "another secret"));
  auto events = taken(all);
  SECTION("every message event came, none twice, in seq order per conversation") {
    auto seqs = message_seqs(events);
    REQUIRE(seqs.size() == 2);
    for (auto const& [conv, list] : seqs) {
      INFO(conv);
      REQUIRE(list.size() == 2 * per_side);
      for (std::size_t i = 1; i < list.size(); ++i) CHECK(list[i] == list[i - 1] + 1);
    }
  }
  SECTION("each conversation's started and assigned came before its messages") {
    for (auto const& conv : {c1, c2}) {
      std::vector<std::string> types;
      for (auto const& e : events)
        if (conversation_of(e) == conv) types.emplace_back(e.at("type").as_string());
      REQUIRE(types.size() >= 2);
      CHECK(types[0] == "conversation.started");
      CHECK(types[1] == "conversation.assigned");
    }
  }
  SECTION("the delivery headers name the event, and retries are the same delivery") {
    std::map<std::string, int> attempts;
    for (auto const& delivery : all) {
      auto body = json::parse(delivery.body).as_object();
      CHECK(delivery.headers.at("exceed-delivery") == std::string(body.at("id").as_string()));
      CHECK(delivery.headers.at("exceed-event") == std::string(body.at("type").as_string()));
      ++attempts[delivery.headers.at("exceed-delivery")];
    }
    auto most = std::max_element(attempts.begin(), attempts.end(), [](auto& a, auto& b) { return a.second < b.second; });
    CHECK(most->second >= 2);  // the failures were retried
  }
  SECTION("the delivery log and /metrics show the failures and the recovery") {
    auto log = http(d.port(), "GET", "/api/v1/webhooks/" + std::string(hook.at("id").as_string()) + "/deliveries?limit=200",
                    "", bearer(sue));
    REQUIRE(log.status == 200);
    auto const items = log.json().at("items").as_array();
    std::map<std::string, int> results;
    for (auto const& item : items) ++results[std::string(item.at("result").as_string())];
    CHECK(results["failed"] >= 6);  // 4 statuses, 2 timeouts
    CHECK(results["delivered"] >= static_cast<int>(expected));
    bool timed_out = false;
    for (auto const& item : items)
      if (item.at("error").is_string() && item.at("error").as_string().find("timed out") != json::string::npos)
        timed_out = true;
    CHECK(timed_out);
    auto w = http(d.port(), "GET", "/api/v1/webhooks/" + std::string(hook.at("id").as_string()), "", bearer(sue));
    CHECK(w.json().at("status").as_string() == "active");
    CHECK(w.json().at("failing_since").is_null());
    CHECK(w.json().at("last_success_at").is_int64());
    CHECK_FALSE(w.json().as_object().contains("secret"));
  }
}

TEST_CASE("events waiting for a failing receiver survive a kill -9 of the server and are delivered after") {
  Deployment d(receiving_env());
  d.user("sue", "supervisor");
  d.user("ann");
  auto sue = login(d.port(), "sue", "password123");
  WebhookReceiver receiver([](std::size_t) -> Reply { return {500, 0ms}; });
  subscribe(d.port(), sue, receiver.url(), {"message"});
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey);
  accept(ann, conv);
  for (int i = 0; i < 5; ++i) REQUIRE(ok(send(casey, conv, "still broken " + std::to_string(i), "k" + std::to_string(i))));
  REQUIRE(receiver.wait_for([](auto const& all) { return all.size() >= 2; }, 10s));  // it is failing
  d.server().kill9();
  receiver.script([](std::size_t) -> Reply { return {204, 0ms}; });
  d.server().start();
  REQUIRE(receiver.wait_for([](auto const& all) { return count_messages(all) >= 5; }, 20s));
  auto seqs = message_seqs(taken(receiver.received()));
  CHECK(seqs[conv] == std::vector<std::int64_t>{2, 3, 4, 5, 6});  // seq 1: the text that started the chat
}

TEST_CASE("a receiver failing for longer than disable_after_s is disabled with the reason, and can be turned on again") {
  Deployment d(receiving_env("1"));
  d.user("sue", "supervisor");
  d.user("ann");
  auto sue = login(d.port(), "sue", "password123");
  WebhookReceiver receiver([](std::size_t) -> Reply { return {500, 0ms}; });
  auto hook = subscribe(d.port(), sue, receiver.url(), {"*"});
  auto path = "/api/v1/webhooks/" + std::string(hook.at("id").as_string());
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey);
  accept(ann, conv);
  REQUIRE(ok(send(casey, conv, "hello?", "m1")));
  json::object state;
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    receiver.wait_for([n = receiver.received().size()](auto const& all) { return all.size() > n; }, 2s);
    state = http(d.port(), "GET", path, "", bearer(sue)).json().as_object();
    if (state.at("status").as_string() == "disabled") break;
  }
  INFO(json::serialize(state));
  REQUIRE(state.at("status").as_string() == "disabled");
  auto reason = std::string(state.at("disabled_reason").as_string());
  CHECK(reason.find("every delivery failed since") != std::string::npos);
  CHECK(reason.find("last error: HTTP 500") != std::string::npos);
  auto attempts = receiver.received().size();
  REQUIRE(ok(send(casey, conv, "anyone?", "m2")));  // not queued while disabled
  receiver.script([](std::size_t) -> Reply { return {200, 0ms}; });
  auto on = http(d.port(), "PATCH", path, R"({"status":"active"})", bearer(sue));
  REQUIRE(on.status == 200);
  CHECK(on.json().at("disabled_reason").is_null());
  // What waited when it was disabled is delivered now, in order.
  REQUIRE(receiver.wait_for([&](auto const& all) { return all.size() > attempts && count_messages(all) > 0; }, 10s));
  auto events = taken(receiver.received());
  std::set<std::int64_t> seqs;
  for (auto const& e : events)
    if (e.at("type").as_string() == "message") seqs.insert(e.at("data").at("seq").as_int64());
  CHECK(seqs.count(2) == 1);  // "hello?"
  CHECK(seqs.count(3) == 0);  // "anyone?", sent while it was disabled
}

TEST_CASE("a webhook URL pointing at the server's own machine, its networks or the metadata service is refused") {
  Deployment d(Env{{"EXCEED_WEBHOOKS_ALLOW_HTTP", "true"}});
  d.user("sue", "supervisor");
  d.user("ann");
  auto sue = login(d.port(), "sue", "password123");
  auto refused = [&](std::string const& url, std::string const& words) {
    json::object body{{"url", url}, {"events", json::array{"message"}}};
    auto r = http(d.port(), "POST", "/api/v1/webhooks", json::serialize(body), bearer(sue));
    INFO(url << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(r.json().at("error").at("code").as_string() == "bad_request");
    CHECK(std::string(r.json().at("error").at("message").as_string()).find(words) != std::string::npos);
  };
  refused("http://127.0.0.1:8080/hooks", "127.0.0.1 is a loopback address");
  refused("http://localhost/hooks", "loopback");
  refused("http://[::1]:9000/", "::1 is a loopback address");
  refused("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is the cloud metadata service");
  refused("http://10.0.0.7/hooks", "10.0.0.7 is a private address");
  refused("http://192.168.1.20/hooks", "private address");
  refused("http://[::ffff:127.0.0.1]/hooks", "IPv4-mapped");
  refused("http://0.0.0.0:8080/", "'this network'");
  refused("ftp://example.com/hooks", "must be an https URL");
  refused("https://user:secret@example.com/hooks", "user name or password");
  refused("not a url", "not an absolute URL");
  SECTION("nothing was stored") {
    auto list = http(d.port(), "GET", "/api/v1/webhooks", "", bearer(sue));
    REQUIRE(list.status == 200);
    CHECK(list.json().at("items").as_array().empty());
  }
  SECTION("bad event types and callers other than supervisors are refused too") {
    auto r = http(d.port(), "POST", "/api/v1/webhooks", R"({"url":"https://example.com/h","events":["typing"]})",
                  bearer(sue));
    CHECK(r.status == 400);
    CHECK(std::string(r.json().at("error").at("message").as_string()).find("'typing' is not an event type") !=
          std::string::npos);
    auto ann = login(d.port(), "ann", "password123");
    CHECK(http(d.port(), "GET", "/api/v1/webhooks", "", bearer(ann)).status == 403);
  }
}

TEST_CASE("plain http receivers are refused unless the operator allows them") {
  Deployment d;
  d.user("sue", "supervisor");
  auto sue = login(d.port(), "sue", "password123");
  auto r = http(d.port(), "POST", "/api/v1/webhooks", R"({"url":"http://example.com/h","events":["message"]})",
                bearer(sue));
  CHECK(r.status == 400);
  CHECK(std::string(r.json().at("error").at("message").as_string()).find("must be https") != std::string::npos);
}
