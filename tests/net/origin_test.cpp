// Origins and Host headers are compared exactly: a name that merely starts
// like an allowed one is another name.
#include "net/security.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace exceed::net;

TEST_CASE("an origin is scheme, host and port, serialized the way browsers do") {
  auto o = parse_origin("https://Chat.Example");
  REQUIRE(o);
  REQUIRE(o->serialized == "https://chat.example");
  REQUIRE(o->port == 443);
  REQUIRE(parse_origin("https://chat.example:443")->serialized == "https://chat.example");
  REQUIRE(parse_origin("http://localhost:3000")->serialized == "http://localhost:3000");
  REQUIRE(parse_origin("http://127.0.0.1:8080")->host == "127.0.0.1");
  REQUIRE(parse_origin("http://[::1]:8080")->host == "[::1]");
}

TEST_CASE("look-alike origins are not the hosts they start with") {
  for (std::string text : {"http://127.0.0.1.evil.example", "http://127.0.0.1a", "http://localhost.evil.example",
                           "http://localhostx"}) {
    INFO(text);
    auto o = parse_origin(text);
    REQUIRE(o);  // well-formed, but another host
    REQUIRE_FALSE(is_loopback_host(o->host));
  }
  for (std::string text : {"http://[::1].evil", "http://[::1]evil", "http://127.0.0.1@evil.example",
                           "http://evil.example@127.0.0.1", "http://localhost/", "http://localhost/path",
                           "http://localhost?x", "http://localhost#x", "null", "", "localhost",
                           "ftp://localhost", "http://", "http://localhost:", "http://localhost:0",
                           "http://localhost:65536", "http://localhost:80x", "http://a..b", "http://.a",
                           "http://a.", "http://exa mple", "http://exa_mple", "javascript://x"}) {
    INFO(text);
    REQUIRE_FALSE(parse_origin(text));
  }
}

TEST_CASE("a Host header is a host and an optional port") {
  auto h = parse_host_header("Chat.Example:8443");
  REQUIRE(h);
  REQUIRE(h->host == "chat.example");
  REQUIRE(h->port == 8443);
  REQUIRE_FALSE(parse_host_header("chat.example")->port);
  REQUIRE(parse_host_header("[::1]:8080")->host == "[::1]");
  REQUIRE(parse_host_header("[::1]")->host == "[::1]");
  for (std::string text : {"", ":80", "a b", "a/b", "a@b", "[::1", "::1", "[zz]", "a:b", "a:", "evil.example:99999"}) {
    INFO(text);
    REQUIRE_FALSE(parse_host_header(text));
  }
}

TEST_CASE("loopback names and IP literals") {
  for (std::string host : {"localhost", "127.0.0.1", "127.1.2.3", "[::1]"}) {
    INFO(host);
    REQUIRE(is_loopback_host(host));
  }
  for (std::string host : {"127.0.0.1.evil.example", "127.0.0.1a", "128.0.0.1", "[::2]", "localhost.", "example"}) {
    INFO(host);
    REQUIRE_FALSE(is_loopback_host(host));
  }
  REQUIRE(is_ip_literal("10.0.0.5"));
  REQUIRE(is_ip_literal("[2001:db8::1]"));
  REQUIRE_FALSE(is_ip_literal("10.0.0"));
  REQUIRE_FALSE(is_ip_literal("chat.example"));
}

TEST_CASE("proxy address ranges") {
  auto r = parse_ip_range("172.16.0.0/12");
  REQUIRE(r);
  REQUIRE(in_range(*r, "172.18.0.5"));
  REQUIRE(in_range(*r, "172.31.255.255"));
  REQUIRE_FALSE(in_range(*r, "172.32.0.1"));
  REQUIRE_FALSE(in_range(*r, "::1"));
  REQUIRE(in_range(*parse_ip_range("127.0.0.1"), "127.0.0.1"));
  REQUIRE_FALSE(in_range(*parse_ip_range("127.0.0.1"), "127.0.0.2"));
  REQUIRE(in_range(*parse_ip_range("fd00::/8"), "fd12::1"));
  REQUIRE_FALSE(in_range(*parse_ip_range("fd00::/8"), "fe80::1"));
  REQUIRE(in_range(*parse_ip_range("0.0.0.0/0"), "8.8.8.8"));
  for (std::string bad : {"", "10.0.0.0/33", "10.0.0.0/", "10.0.0/8", "x", "10.0.0.0/8/8", "::/129"}) {
    INFO(bad);
    REQUIRE_FALSE(parse_ip_range(bad));
  }
}
