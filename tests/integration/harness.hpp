// What the integration suites share: a deployment (a fresh redis-server
// and one or more exceed processes on it) and the people using it.
#pragma once

#include "support/exceed_server.hpp"
#include "support/redis_server.hpp"
#include "support/ws_client.hpp"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <thread>
#include <memory>
#include <string>

namespace exceed::test {

namespace json = boost::json;

// One command through redis-cli, for reading the store's state in a test;
// the reply's text with the trailing newline removed.
inline std::string redis_cli(std::uint16_t port, std::string const& args) {
  std::string cmd = "redis-cli -p " + std::to_string(port) + " " + args;
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    pclose(p);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// A configuration of a test's own: `toml` written to a new file, named by
// EXCEED_CONFIG in the environment this returns.
inline Env config_env(std::string const& toml) {
  auto dir = make_temp_dir("exceed-config-");
  std::ofstream(dir + "/exceed.toml") << toml;
  return Env{{"EXCEED_CONFIG", dir + "/exceed.toml"}};
}

// Today's date in UTC, `plus_days` from now, as YYYY-MM-DD (for days off in
// a team's business hours).
inline std::string today_utc(int plus_days = 0) {
  std::time_t t = std::time(nullptr) + plus_days * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

struct Deployment {
  Deployment() : Deployment(Env{}, RedisServer::Options{}) {}
  explicit Deployment(Env env) : Deployment(std::move(env), RedisServer::Options{}) {}
  Deployment(Env env, RedisServer::Options ropt) : redis(ropt), env_(std::move(env)) {
    servers.push_back(std::make_unique<ExceedServer>(redis.url(), env_));
  }
  ExceedServer& add_server() {
    servers.push_back(std::make_unique<ExceedServer>(redis.url(), env_));
    return *servers.back();
  }
  std::uint16_t port(std::size_t i = 0) const { return servers.at(i)->port(); }
  ExceedServer& server(std::size_t i = 0) { return *servers.at(i); }
  std::string prefix() const { return "exceed:"; }  // of every key (redis.prefix)
  void user(std::string const& name, std::string const& role = "agent", std::string const& teams = "support",
            int capacity = 3) {
    REQUIRE(add_user(redis.url(), name, role, teams, capacity) == 0);
  }

  RedisServer redis;
  std::vector<std::unique_ptr<ExceedServer>> servers;

 private:
  Env env_;
};

inline Frame frame(std::initializer_list<std::pair<json::string_view, json::value_ref>> fields) {
  return Frame(fields);
}

inline std::string str(Frame const& f, char const* key) { return std::string(f.at(key).as_string()); }
inline bool ok(Frame const& f) { return is_type(f, "ack"); }
inline std::string code_of(Frame const& f) { return is_type(f, "error") ? str(f, "code") : "ack"; }

struct Person {
  std::unique_ptr<WsClient> ws;
  std::string id;
  std::string token;
  std::uint16_t port = 0;

  WsClient& operator*() { return *ws; }
  WsClient* operator->() { return ws.get(); }
  // A new connection of the same person (a second tab, or after a drop).
  void reconnect(json::array resume = {}, std::uint16_t to_port = 0) {
    if (to_port) port = to_port;
    ws = std::make_unique<WsClient>(port);
    auto w = ws->hello(token, std::move(resume));
    REQUIRE(is_type(w, "welcome"));
  }
};

inline Person customer(std::uint16_t port, std::string const& name = "Casey Customer") {
  Person p;
  p.port = port;
  std::tie(p.id, p.token) = new_visitor(port, name);
  p.ws = std::make_unique<WsClient>(port);
  auto w = p.ws->hello(p.token);
  REQUIRE(is_type(w, "welcome"));
  REQUIRE(str(w, "role") == "customer");
  return p;
}

inline Person agent(std::uint16_t port, std::string const& username, bool go_online = true) {
  Person p;
  p.port = port;
  p.token = login(port, username, "password123");
  p.ws = std::make_unique<WsClient>(port);
  auto w = p.ws->hello(p.token);
  REQUIRE(is_type(w, "welcome"));
  p.id = str(w, "user_id");
  if (go_online) REQUIRE(ok(p.ws->request(frame({{"type", "agent.status"}, {"status", "online"}}))));
  return p;
}

inline std::string start_chat(Person& c, std::string const& text = "Hello, my order is late",
                              std::string const& team = "") {
  auto f = frame({{"type", "conversation.start"}, {"text", text}});
  if (!team.empty()) f["team"] = team;
  auto ack = c->request(f);
  INFO(json::serialize(ack));
  REQUIRE(ok(ack));
  return str(ack, "conversation_id");
}

inline Frame offer_for(Person& a, std::string const& conv, std::chrono::milliseconds t = std::chrono::seconds(5)) {
  return a->expect(
      [&](Frame const& f) { return is_type(f, "conversation.offer") && str(f, "conversation_id") == conv; }, t,
      "an offer of " + conv);
}

inline void accept(Person& a, std::string const& conv) {
  offer_for(a, conv);
  auto ack = a->request(frame({{"type", "conversation.accept"}, {"conversation_id", conv}}));
  INFO(json::serialize(ack));
  REQUIRE(ok(ack));
}

inline Frame send(Person& p, std::string const& conv, std::string const& text, std::string const& cmid) {
  return p->request(frame({{"type", "message.send"}, {"conversation_id", conv}, {"client_msg_id", cmid}, {"text", text}}));
}

inline Frame message_event(Person& p, std::string const& conv, std::int64_t seq) {
  return p->expect(
      [&](Frame const& f) {
        return is_type(f, "message") && str(f, "conversation_id") == conv && f.at("seq").as_int64() == seq;
      },
      std::chrono::seconds(5), "message " + std::to_string(seq) + " of " + conv);
}

inline json::array history(Person& p, std::string const& conv, std::int64_t after = 0) {
  auto ack = p->request(frame({{"type", "history.get"}, {"conversation_id", conv}, {"after_seq", after}, {"limit", 200}}));
  INFO(json::serialize(ack));
  REQUIRE(ok(ack));
  return ack.at("messages").as_array();
}

}  // namespace exceed::test
