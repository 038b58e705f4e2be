#include "store/redis.hpp"

#include <catch2/catch.hpp>

using exceed::store::Endpoint;

TEST_CASE("Endpoint::parse accepts redis:// and unix:// URLs", "[store]") {
  auto ep = Endpoint::parse("redis://127.0.0.1:6380");
  REQUIRE(ep);
  CHECK(ep->host == "127.0.0.1");
  CHECK(ep->port == 6380);
  CHECK(ep->db == 0);
  CHECK(ep->password.empty());
  CHECK(ep->unix_path.empty());

  ep = Endpoint::parse("redis://cache");
  REQUIRE(ep);
  CHECK(ep->host == "cache");
  CHECK(ep->port == 6379);

  ep = Endpoint::parse("redis://app:p%40ss%3Aw@redis.internal:7000/3");
  REQUIRE(ep);
  CHECK(ep->username == "app");
  CHECK(ep->password == "p@ss:w");
  CHECK(ep->host == "redis.internal");
  CHECK(ep->port == 7000);
  CHECK(ep->db == 3);
  CHECK(ep->describe() == "redis.internal:7000/3");  // no credentials

  ep = Endpoint::parse("redis://:only-pass@[::1]:6390/1");
  REQUIRE(ep);
  CHECK(ep->username.empty());
  CHECK(ep->password == "only-pass");
  CHECK(ep->host == "::1");
  CHECK(ep->port == 6390);
  CHECK(ep->describe() == "[::1]:6390/1");

  ep = Endpoint::parse("redis://h/");
  REQUIRE(ep);
  CHECK(ep->db == 0);

  ep = Endpoint::parse("unix:///run/redis/redis.sock?db=4");
  REQUIRE(ep);
  CHECK(ep->unix_path == "/run/redis/redis.sock");
  CHECK(ep->db == 4);

  ep = Endpoint::parse("unix:///tmp/r.sock");
  REQUIRE(ep);
  CHECK(ep->unix_path == "/tmp/r.sock");
  CHECK(ep->db == 0);
}

TEST_CASE("Endpoint::parse rejects malformed URLs with a reason", "[store]") {
  char const* bad[] = {
      "",
      "http://127.0.0.1",
      "rediss://127.0.0.1",  // no TLS in hiredis 0.14
      "redis://",
      "redis://:6379",
      "redis://h:0",
      "redis://h:65536",
      "redis://h:abc",
      "redis://h:",
      "redis://h/x",
      "redis://h/1/2",
      "redis://h/-1",
      "redis://secret@h",  // userinfo must be [user]:password
      "redis://user:@h",
      "redis://:p%4@h",
      "redis://h?db=1",
      "redis://[::1",
      "redis://[::1]x",
      "unix://relative.sock",
      "unix:///s.sock?db=x",
      "unix:///s.sock?timeout=1",
  };
  for (char const* url : bad) {
    INFO(url);
    std::string why;
    CHECK_FALSE(Endpoint::parse(url, &why));
    CHECK_FALSE(why.empty());
  }
  CHECK_FALSE(Endpoint::parse("ftp://x"));  // why is optional
}
