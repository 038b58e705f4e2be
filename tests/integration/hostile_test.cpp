// Every bad input gets its clear error and loses nothing: the catalogue of
// proto/bad-frames.json against the real server, and the attacks on auth,
// roles, origins, sizes and rates.
#include "harness.hpp"

#include "app/auth.hpp"
#include "net/security.hpp"
#include "support/process.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json/parse.hpp>

#include <poll.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

using namespace exceed::test;
using namespace std::chrono_literals;

// The repository (proto/ is one of its folders).
#define EXCEED_REPO_DIR EXCEED_PROTO_DIR "/.."

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

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

json::object catalogue() {
  std::ifstream in(EXCEED_REPO_DIR "/tests/hostile/catalogue.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str()).as_object();
}

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// The catalogue's shorthand: "{P*N}" is P repeated N times (innermost
// first), "{len}" the length of what follows the blank line.
std::string expand(std::string raw, std::string const& extra_body) {
  static std::regex const repeat(R"(\{([^{}]*)\*(\d+)\})");
  std::smatch m;
  while (std::regex_search(raw, m, repeat)) {
    std::string piece = m[1].str(), all;
    for (int i = 0, n = std::stoi(m[2].str()); i < n; ++i) all += piece;
    raw = m.prefix().str() + all + m.suffix().str();
  }
  raw += extra_body;
  auto blank = raw.find("\r\n\r\n");
  auto len = raw.find("{len}");
  if (len != std::string::npos && blank != std::string::npos)
    raw.replace(len, 5, std::to_string(raw.size() - blank - 4));
  return raw;
}

struct RawAnswer {
  unsigned status = 0;  // 0: closed without an answer
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  json::value json() const {
    std::error_code ec;
    auto v = json::parse(body, ec);
    return ec ? json::value(nullptr) : v;
  }
};

template <class Response>
RawAnswer answer_of(Response const& res) {
  RawAnswer out;
  out.status = res.result_int();
  out.body = res.body();
  for (auto const& f : res) {
    std::string name(f.name_string());
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out.headers[name] = std::string(f.value());
  }
  return out;
}

// Sends raw bytes on a fresh connection and reads one answer.
RawAnswer raw_http(std::uint16_t port, std::string const& bytes, std::chrono::seconds limit = 5s) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(limit);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  beast::error_code ec;
  asio::write(stream.socket(), asio::buffer(bytes), ec);  // the server may stop reading early
  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  bhttp::read(stream, buf, parser, ec);
  if (ec && !parser.is_header_done()) return {};
  return answer_of(parser.get());
}

// After an attack: the server still answers a normal client, promptly.
void still_serves(std::uint16_t port, std::string const& token) {
  auto const t0 = std::chrono::steady_clock::now();
  REQUIRE(http(port, "GET", "/healthz").status == 200);
  WsClient ws(port);
  REQUIRE(is_type(ws.hello(token), "welcome"));
  auto const took = std::chrono::steady_clock::now() - t0;
  INFO("a normal client took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  REQUIRE(took < 2s);
}

std::string make_cert(std::string const& dir) {
  auto cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " + dir +
             "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return dir;
}

// One HTTPS request; throws when the TLS or HTTP exchange fails.
RawAnswer https(std::uint16_t port, std::string const& method, std::string const& target, std::string const& body = "") {
  asio::io_context io;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_verify_mode(asio::ssl::verify_none);  // a throwaway self-signed certificate
  beast::ssl_stream<beast::tcp_stream> stream(io, tls);
  beast::get_lowest_layer(stream).expires_after(5s);
  beast::get_lowest_layer(stream).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  stream.handshake(asio::ssl::stream_base::client);
  bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), target, 11);
  req.set(bhttp::field::host, "localhost");
  req.set(bhttp::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buf;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buf, res);
  return answer_of(res);
}

// A TLS 1.2 handshake offering only `ciphers`: the suite the server chose,
// or "" when it refused them all.
std::string tls12_suite(std::uint16_t port, std::string const& ciphers) {
  asio::io_context io;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_verify_mode(asio::ssl::verify_none);
  SSL_CTX_set_max_proto_version(tls.native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_security_level(tls.native_handle(), 0);  // offer even the weak ones
  REQUIRE(SSL_CTX_set_cipher_list(tls.native_handle(), ciphers.c_str()) == 1);
  beast::ssl_stream<beast::tcp_stream> stream(io, tls);
  beast::get_lowest_layer(stream).expires_after(5s);
  beast::get_lowest_layer(stream).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  beast::error_code ec;
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return "";
  return SSL_get_cipher_name(stream.native_handle());
}

}  // namespace

TEST_CASE("every frame of the hostile catalogue gets the code and the close the spec requires") {
  Deployment d(Env{{"EXCEED_LIMITS_MESSAGES_PER_S", "1000"}, {"EXCEED_LIMITS_BURST", "1000"},
                   {"EXCEED_LIMITS_INVALID_FRAMES", "1000"}});
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

TEST_CASE("every input of tests/hostile/catalogue.json gets its answer and the server keeps serving") {
  Deployment d(Env{{"EXCEED_LIMITS_MAX_BODY_BYTES", "16384"}, {"EXCEED_LIMITS_MESSAGES_PER_S", "1000"},
                   {"EXCEED_LIMITS_BURST", "1000"}, {"EXCEED_LIMITS_INVALID_FRAMES", "1000"}});
  auto probe = customer(d.port(), "Probe");
  auto const cat = catalogue();
  int checked = 0;

  for (auto const& item : cat.at("ws").as_array()) {
    auto const& c = item.as_object();
    INFO("ws: " << c.at("name").as_string());
    std::string bytes;
    if (c.contains("hex")) bytes = from_hex(c.at("hex").as_string());
    if (c.contains("text")) bytes = std::string(c.at("text").as_string());
    if (c.contains("text_repeat")) {
      auto const& r = c.at("text_repeat").as_array();
      for (std::int64_t i = 0; i < r.at(1).as_int64(); ++i) bytes += std::string(r.at(0).as_string());
      if (c.contains("text_suffix")) bytes += std::string(c.at("text_suffix").as_string());
    }
    auto who = customer(d.port(), "Attacker");
    bool const binary = c.contains("binary") && c.at("binary").as_bool();
    if (binary) who->send_binary(bytes);
    else who->send_text(bytes);
    if (c.contains("expect")) {
      REQUIRE(code_of(who->expect_type("error")) == std::string(c.at("expect").as_string()));
      // Still open and answering.
      REQUIRE(code_of(who->request(frame({{"type", "history.get"}, {"conversation_id", "c_none"}}))) == "not_found");
    } else {
      REQUIRE(who->wait_closed(5s) == std::optional<std::uint16_t>(c.at("close").as_int64()));
    }
    still_serves(d.port(), probe.token);
    ++checked;
  }

  for (auto const& item : cat.at("http").as_array()) {
    auto const& c = item.as_object();
    INFO("http: " << c.at("name").as_string());
    std::string extra = c.contains("raw_hex_body") ? from_hex(c.at("raw_hex_body").as_string()) : "";
    auto a = raw_http(d.port(), expand(std::string(c.at("raw").as_string()), extra));
    INFO(a.body);
    REQUIRE(a.status == c.at("status").as_int64());
    if (c.contains("code")) REQUIRE(a.json().at("error").at("code").as_string() == c.at("code").as_string());
    if (c.contains("no_header")) {
      std::string h(c.at("no_header").as_string());
      for (auto& ch : h) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      REQUIRE(a.headers.count(h) == 0);
    }
    // Every answer, refusals of the HTTP layer included, carries nosniff.
    REQUIRE(a.headers["x-content-type-options"] == "nosniff");
    still_serves(d.port(), probe.token);
    ++checked;
  }
  REQUIRE(checked >= 35);
}

TEST_CASE("more token attacks: alg swapped to RS256, an oversize token, an expired token over HTTP") {
  Deployment d;
  auto [visitor, token] = new_visitor(d.port());
  auto try_token = [&](std::string const& t) {
    WsClient ws(d.port());
    auto w = ws.hello(t);
    REQUIRE(code_of(w) == "unauthorized");
    REQUIRE(ws.wait_closed(5s) == std::optional<std::uint16_t>(4401));
  };
  SECTION("alg RS256 with the HMAC signature kept") {
    try_token(exceed::app::base64url_encode(R"({"alg":"RS256","typ":"JWT"})") + token.substr(token.find('.')));
  }
  SECTION("a payload changed to supervisor, signature kept") {
    auto first = token.find('.'), second = token.find('.', first + 1);
    auto forged = token.substr(0, first + 1) +
                  exceed::app::base64url_encode(R"({"sub":")" + visitor + R"(","role":"supervisor","name":"x","exp":9999999999})") +
                  token.substr(second);
    try_token(forged);
  }
  SECTION("a token of 5000 characters") { try_token(std::string(5000, 'a')); }
  SECTION("an expired token over HTTP") {
    exceed::app::TokenSigner same(test_token_secret);
    auto old = same.sign({visitor, exceed::core::Role::customer, "x", now_ms() - 1000});
    auto r = http(d.port(), "GET", "/api/v1/conversations", "", {{"Authorization", "Bearer " + old}});
    REQUIRE(r.status == 401);
  }
  still_serves(d.port(), token);
}

TEST_CASE("a client that keeps sending malformed frames is closed with 4400 after the invalid-frame budget") {
  Deployment d(Env{{"EXCEED_LIMITS_INVALID_FRAMES", "5"}});
  auto casey = customer(d.port());
  auto other = customer(d.port(), "Bystander");
  for (int i = 0; i < 4; ++i) {
    casey->send_text("{not json");
    REQUIRE(code_of(casey->expect_type("error")) == "bad_request");
  }
  // Errors that are not bad_request (the frame was well-formed) do not count.
  REQUIRE(code_of(casey->request(frame({{"type", "history.get"}, {"conversation_id", "c_none"}}))) == "not_found");
  REQUIRE(casey->is_open());
  casey->send_binary("x");
  REQUIRE(casey->wait_closed(5s) == std::optional<std::uint16_t>(4400));
  REQUIRE(code_of(casey->backlog().back()) == "bad_request");
  REQUIRE(code_of(other->request(frame({{"type", "history.get"}, {"conversation_id", "c_none"}}))) == "not_found");
  still_serves(d.port(), other.token);
}

TEST_CASE("slowloris: request heads trickled byte by byte are cut off at the header timeout") {
  Deployment d(Env{{"EXCEED_LIMITS_HEADER_TIMEOUT_S", "1"}});
  auto probe = customer(d.port(), "Probe");
  asio::io_context io;
  constexpr int n = 40;
  std::vector<tcp::socket> socks;
  for (int i = 0; i < n; ++i) {
    socks.emplace_back(io);
    socks.back().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), d.port()));
  }
  auto const start = std::chrono::steady_clock::now();
  std::vector<std::optional<std::chrono::steady_clock::duration>> closed_after(n);
  std::string const head = "GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
  std::size_t sent = 0;
  int open = n;
  // Every 100 ms each connection gets one more byte of a head that never
  // ends; the wait between bytes is poll() on the sockets, which also
  // reports the server's close.
  while (open > 0 && std::chrono::steady_clock::now() - start < 8s) {
    for (int i = 0; i < n; ++i) {
      if (closed_after[i]) continue;
      char byte = sent < head.size() ? head[sent] : 'a';
      boost::system::error_code ec;
      socks[i].write_some(asio::buffer(&byte, 1), ec);
    }
    ++sent;
    std::vector<pollfd> fds;
    for (int i = 0; i < n; ++i) fds.push_back(pollfd{socks[i].native_handle(), POLLIN, 0});
    ::poll(fds.data(), fds.size(), 100);
    for (int i = 0; i < n; ++i) {
      if (closed_after[i] || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char sink[4096];
      boost::system::error_code ec;
      socks[i].read_some(asio::buffer(sink), ec);  // the server sends nothing before it closes
      if (ec) {
        closed_after[i] = std::chrono::steady_clock::now() - start;
        --open;
      }
    }
    if (sent == 5) still_serves(d.port(), probe.token);  // while the attack is on
  }
  REQUIRE(open == 0);
  for (auto const& t : closed_after) {
    REQUIRE(*t >= 900ms);  // the timeout, not an accident
    REQUIRE(*t < 3s);      // 1 s timeout, generous slack for a loaded machine
  }
  still_serves(d.port(), probe.token);
}

TEST_CASE("many connections from one address: past max_connections_per_ip they are closed at once, others are served") {
  Deployment d(Env{{"EXCEED_LIMITS_MAX_CONNECTIONS_PER_IP", "5"}});
  auto probe = customer(d.port(), "Probe");  // its WebSocket from 127.0.0.1 is one of the five
  asio::io_context io;
  std::vector<tcp::socket> socks;
  for (int i = 0; i < 4; ++i) {
    socks.emplace_back(io);
    socks.back().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), d.port()));
  }
  // The server counts an accepted socket when it accepts it; wait until a
  // sixth one is refused (each try is an event: connect, then EOF or not).
  auto refused = [&] {
    tcp::socket extra(io);
    extra.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), d.port()));
    std::vector<pollfd> fds{pollfd{extra.native_handle(), POLLIN, 0}};
    if (::poll(fds.data(), 1, 2000) <= 0) return false;
    char c;
    boost::system::error_code ec;
    extra.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  };
  REQUIRE(refused());
  REQUIRE_THROWS(http(d.port(), "GET", "/healthz"));
  // Another address is served as usual.
  WsOptions elsewhere;
  elsewhere.bind_address = "127.0.0.2";
  WsClient other(d.port(), elsewhere);
  REQUIRE(is_type(other.hello(probe.token), "welcome"));
  REQUIRE(code_of(probe->request(frame({{"type", "history.get"}, {"conversation_id", "c_none"}}))) == "not_found");
  // One leaves: room again.
  socks.pop_back();
  auto const deadline = std::chrono::steady_clock::now() + 5s;
  bool served = false;
  while (!served && std::chrono::steady_clock::now() < deadline) {
    try {
      served = http(d.port(), "GET", "/healthz").status == 200;
    } catch (std::exception const&) {
      // the server has not seen the close yet
    }
  }
  REQUIRE(served);
}

TEST_CASE("security headers: nosniff and no referrer everywhere, a CSP and no framing by others on the pages, the widget loadable anywhere") {
  Deployment d;
  auto page = [&](std::string const& path) { return raw_http(d.port(), "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); };
  for (std::string path : {"/", "/console/", "/dashboard/", "/demo/shop.html"}) {
    INFO(path);
    auto r = page(path);
    REQUIRE(r.status == 200);
    REQUIRE(r.headers["x-content-type-options"] == "nosniff");
    REQUIRE(r.headers["referrer-policy"] == "no-referrer");
    REQUIRE(r.headers["x-frame-options"] == "SAMEORIGIN");
    auto csp = r.headers["content-security-policy"];
    REQUIRE(csp.find("frame-ancestors 'self'") != std::string::npos);
    REQUIRE(csp.find("object-src 'none'") != std::string::npos);
    REQUIRE(csp.find("script-src 'self'") != std::string::npos);
    REQUIRE(csp.find("unsafe-eval") == std::string::npos);
    REQUIRE(r.headers.count("strict-transport-security") == 0);  // plain HTTP: no HSTS
  }
  // The landing page's inline script is allowed by its hash, nothing else inline.
  auto index = page("/");
  REQUIRE(index.headers["content-security-policy"] ==
          exceed::net::page_security_policy_of_file(EXCEED_REPO_DIR "/web/index.html"));
  REQUIRE(index.headers["content-security-policy"].find("'sha256-") != std::string::npos);
  REQUIRE(page("/console/").headers["content-security-policy"].find("'sha256-") == std::string::npos);

  auto widget = page("/widget.js");
  REQUIRE(widget.status == 200);
  REQUIRE(widget.headers["content-type"].rfind("text/javascript", 0) == 0);
  REQUIRE(widget.headers["x-content-type-options"] == "nosniff");
  REQUIRE(widget.headers.count("cross-origin-resource-policy") == 0);
  REQUIRE(widget.headers.count("content-security-policy") == 0);
  REQUIRE(widget.headers.count("x-frame-options") == 0);

  auto api = http(d.port(), "GET", "/healthz");
  REQUIRE(api.header("X-Content-Type-Options") == "nosniff");
  REQUIRE(api.header("Referrer-Policy") == "no-referrer");
}

TEST_CASE("no spelling of a request path reads a file outside the web clients") {
  Deployment d;
  auto probe = customer(d.port(), "Probe");
  auto const file = std::filesystem::canonical(EXCEED_REPO_DIR "/CMakeLists.txt").string();  // "/..../CMakeLists.txt"
  std::vector<std::string> const spellings{
      "/" + file, "//" + file, "/%2f" + file.substr(1), "/%2F" + file.substr(1), "/../CMakeLists.txt",
      "/%2e%2e/CMakeLists.txt", "/console/../../CMakeLists.txt", "/..%2fCMakeLists.txt", "/web/../CMakeLists.txt",
      "//etc/passwd", "/" + file + "?x=1"};
  for (auto const& target : spellings) {
    for (std::string method : {"GET", "HEAD"}) {
      INFO(method << " " << target);
      auto a = raw_http(d.port(), method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
      REQUIRE(a.status == 404);
      REQUIRE(a.body.find("cmake_minimum_required") == std::string::npos);
      REQUIRE(a.body.find("root:") == std::string::npos);
    }
  }
  // The clients themselves are still there.
  auto page = raw_http(d.port(), "GET /console HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  REQUIRE(page.status == 301);
  REQUIRE(page.headers["location"] == "/console/");
  REQUIRE(raw_http(d.port(), "GET /console/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").status == 200);
  still_serves(d.port(), probe.token);
}

TEST_CASE("the page policy hashes inline scripts only") {
  auto p = exceed::net::page_security_policy("<script src=a.js></script><SCRIPT>x()</SCRIPT><scripts>");
  REQUIRE(p.find("script-src 'self' 'sha256-") != std::string::npos);
  REQUIRE(p.find("'sha256-", p.find("'sha256-") + 1) == std::string::npos);  // one hash
  REQUIRE(exceed::net::page_security_policy("<p>no scripts</p>").find("script-src 'self';") != std::string::npos);
}

TEST_CASE("secrets never reach the log: token secret, identity secret, passwords, tokens") {
  Deployment d(Env{{"EXCEED_AUTH_IDENTITY_SECRET", "identity-secret-never-logged"}});
  d.user("ann");
  auto ann = agent(d.port(), "ann");
  auto casey = customer(d.port());
  auto conv = start_chat(casey, "my card number is 4111");
  accept(ann, conv);
  REQUIRE(http(d.port(), "POST", "/api/v1/login", R"({"username":"ann","password":"wrong-password-77"})").status == 401);
  REQUIRE(http(d.port(), "POST", "/api/v1/login", R"({"username":"nobody","password":"another-secret-88"})").status == 401);
  REQUIRE(http(d.port(), "POST", "/api/v1/visitors", R"({"user_id":"u1","user_hash":"deadbeef"})").status == 401);
  auto log = d.server().log();
  REQUIRE(log.find("login: ann") != std::string::npos);  // the log is there and has content
  for (std::string secret : {std::string(test_token_secret), std::string("identity-secret-never-logged"),
                             std::string("password123"), std::string("wrong-password-77"),
                             std::string("another-secret-88"), ann.token, casey.token,
                             std::string("my card number is 4111")}) {
    INFO(secret);
    REQUIRE(log.find(secret) == std::string::npos);
  }
}

TEST_CASE("exceed serve --tls-cert --tls-key serves https and wss only, with HSTS") {
  exceed::test::RedisServer redis;
  auto dir = make_cert(exceed::test::make_temp_dir("exceed-tls-"));
  auto port = exceed::test::free_port();
  auto log_path = dir + "/exceed.log";
  exceed::test::Process server({exceed::test::exceed_binary(), "serve", "--tls-cert", dir + "/cert.pem", "--tls-key",
                                dir + "/key.pem", "--listen", "127.0.0.1:" + std::to_string(port), "--redis", redis.url()},
                               {{"EXCEED_AUTH_TOKEN_SECRET", test_token_secret},
                                {"EXCEED_SERVER_WEB_ROOT", EXCEED_REPO_DIR "/web"}},
                               log_path);
  // Up when /healthz answers over TLS.
  RawAnswer health;
  auto const deadline = std::chrono::steady_clock::now() + 15s;
  while (health.status != 200 && std::chrono::steady_clock::now() < deadline) {
    REQUIRE(server.running());
    try {
      health = https(port, "GET", "/healthz");
    } catch (std::exception const&) {
      std::this_thread::sleep_for(20ms);  // polling a port that is not open yet
    }
  }
  REQUIRE(health.status == 200);
  REQUIRE(health.headers["strict-transport-security"] == "max-age=31536000");

  auto visitor = https(port, "POST", "/api/v1/visitors", R"({"name":"Tess"})");
  REQUIRE(visitor.status == 201);
  auto token = std::string(visitor.json().at("token").as_string());
  REQUIRE(https(port, "GET", "/console/").headers.count("content-security-policy") == 1);

  // wss: hello, welcome, start a chat.
  asio::io_context io;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_verify_mode(asio::ssl::verify_none);
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(io, tls);
  beast::get_lowest_layer(ws).expires_after(10s);
  beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  ws.next_layer().handshake(asio::ssl::stream_base::client);
  beast::get_lowest_layer(ws).expires_never();
  ws.handshake("localhost", "/ws");
  auto read_frame = [&] {
    beast::flat_buffer b;
    ws.read(b);
    return json::parse(beast::buffers_to_string(b.data())).as_object();
  };
  ws.write(asio::buffer(json::serialize(json::object{{"type", "hello"}, {"token", token}})));
  REQUIRE(read_frame().at("type").as_string() == "welcome");
  ws.write(asio::buffer(json::serialize(json::object{{"type", "conversation.start"}, {"id", 1}, {"text", "over tls"}})));
  json::object ack;
  do ack = read_frame();
  while (ack.at("type").as_string() != "ack" && ack.at("type").as_string() != "error");
  REQUIRE(ack.at("type").as_string() == "ack");
  ws.close(websocket::close_code::normal);

  // TLS 1.2: forward-secret AEAD suites only, in the server's order.
  REQUIRE(tls12_suite(port, "AES128-SHA256:AES256-GCM-SHA384:AES128-SHA").empty());            // RSA key exchange
  REQUIRE(tls12_suite(port, "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384").empty());           // CBC
  REQUIRE(tls12_suite(port, "DHE-RSA-AES128-GCM-SHA256").empty());                               // finite-field DH
  REQUIRE(tls12_suite(port, "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256") == "ECDHE-RSA-AES128-GCM-SHA256");

  // Plain HTTP on the TLS port gets no HTTP answer.
  RawAnswer plain;
  try {
    plain = raw_http(port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", 3s);
  } catch (std::exception const&) {
  }
  REQUIRE(plain.status == 0);

  std::ifstream in(log_path);
  std::stringstream ss;
  ss << in.rdbuf();
  REQUIRE(ss.str().find("(https)") != std::string::npos);
  REQUIRE(ss.str().find(test_token_secret) == std::string::npos);
}
