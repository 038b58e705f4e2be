// The HTTP API's route table: which route a method and path reach, what a
// prefix route leaves to its handler, and what a path with other methods says.
#include "app/http_router.hpp"

#include <catch2/catch.hpp>

using namespace exceed::app;

namespace {

HttpHandler none() {
  return [](HttpCall&) -> boost::asio::awaitable<exceed::net::HttpResponse> { co_return exceed::net::HttpResponse{}; };
}

Router table() {
  Router r;
  r.add({"POST", "/api/v1/login", Access::anyone, BodyKind::json, none()});
  r.add({"", "/api/v1/tickets/*", Access::signed_in, BodyKind::json, none()});
  r.add({"GET", "/api/v1/reports/sla", Access::signed_in, BodyKind::json, none()});
  r.add({"GET", "/api/v1/things", Access::signed_in, BodyKind::raw, none()});
  r.add({"POST", "/api/v1/things", Access::signed_in, BodyKind::json, none()});
  r.add({"", "/api/v1/*", Access::signed_in, BodyKind::json, none()});
  return r;
}

}  // namespace

TEST_CASE("an exact route is found for its method, and other methods are told which it takes") {
  auto r = table();
  auto login = r.match("POST", "/api/v1/login");
  REQUIRE(login.route != nullptr);
  REQUIRE(login.route->pattern == "/api/v1/login");
  REQUIRE(login.rest.empty());
  auto wrong = r.match("GET", "/api/v1/login");
  REQUIRE(wrong.route == nullptr);
  REQUIRE(wrong.pattern != nullptr);
  REQUIRE(wrong.pattern->access == Access::anyone);
  REQUIRE(wrong.allowed == "POST");
  // Two methods on one path: each gets its own route and body rule.
  REQUIRE(r.match("GET", "/api/v1/things").route->body == BodyKind::raw);
  REQUIRE(r.match("POST", "/api/v1/things").route->body == BodyKind::json);
  REQUIRE(r.match("DELETE", "/api/v1/things").allowed == "GET, POST");
}

TEST_CASE("a prefix route takes its bare path and everything below it, and leaves the rest to its handler") {
  auto r = table();
  auto bare = r.match("GET", "/api/v1/tickets");
  REQUIRE(bare.route != nullptr);
  REQUIRE(bare.route->pattern == "/api/v1/tickets/*");
  REQUIRE(bare.rest.empty());
  auto one = r.match("PATCH", "/api/v1/tickets/t_1/comments");
  REQUIRE(one.route->pattern == "/api/v1/tickets/*");
  REQUIRE(one.rest == "/t_1/comments");
  REQUIRE(r.match("GET", "/api/v1/tickets/").rest == "/");
}

TEST_CASE("the longest prefix wins, an exact path beats any prefix, and a name that only starts alike is not below") {
  auto r = table();
  REQUIRE(r.match("GET", "/api/v1/reports/sla").route->pattern == "/api/v1/reports/sla");
  REQUIRE(r.match("GET", "/api/v1/tickets/x").route->pattern == "/api/v1/tickets/*");
  // "/api/v1/ticketsX" is not under /api/v1/tickets: the shorter prefix takes it.
  auto alike = r.match("GET", "/api/v1/ticketsX");
  REQUIRE(alike.route->pattern == "/api/v1/*");
  REQUIRE(alike.rest == "/ticketsX");
  // The exact path with another method is refused by method, not passed to a prefix.
  REQUIRE(r.match("POST", "/api/v1/reports/sla").route == nullptr);
  REQUIRE(r.match("POST", "/api/v1/reports/sla").allowed == "GET");
}

TEST_CASE("a path no route has is not found, whatever the method") {
  auto r = table();
  for (auto const* path : {"/", "/console/", "/api", "/api/v2/login", "/healthz"}) {
    auto m = r.match("GET", path);
    REQUIRE(m.route == nullptr);
    REQUIRE(m.pattern == nullptr);
    REQUIRE(m.allowed.empty());
  }
}
