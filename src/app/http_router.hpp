// The HTTP API as a table. Each route names its method (or any, for a
// resource whose handler tells its methods apart under one prefix), its
// path (exact, or a prefix written "/api/v1/tickets/*" that matches the
// bare "/api/v1/tickets" and everything below it), who may call it, how its
// body is read, and its handler. App::route_http looks a request up here,
// reads the body, checks the caller's token when the route needs one, and
// hands the handler one HttpCall: there is one way to read a path, its
// query and its body.
#pragma once

#include "app/http_util.hpp"
#include "net/server.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::app {

// Who may call a route: anyone (the handler checks what it needs, such as
// a signed link or a shared secret), or a caller with a valid token (a
// customer's, or a staff member's whose account still stands).
enum class Access : std::uint8_t { anyone, signed_in };

// How the body is read: a JSON object (an empty body is {}), parsed before
// the handler runs; or the raw bytes (a file upload, a mail, or a route
// that takes no body).
enum class BodyKind : std::uint8_t { json, raw };

// One request as a handler gets it.
struct HttpCall {
  net::HttpRequest& req;
  std::string path;            // decoded path, without the query
  Query query;                 // decoded query parameters (the last of a repeated name)
  std::string rest;            // what follows a prefix route's prefix: "" or "/..."
  boost::json::object body;    // BodyKind::json routes
  std::optional<Actor> actor;  // Access::signed_in routes
};

using HttpHandler = std::function<boost::asio::awaitable<net::HttpResponse>(HttpCall&)>;

struct Route {
  std::string method;   // "GET", "POST", ...; "" any (the handler tells them apart)
  std::string pattern;  // "/api/v1/login", or a prefix: "/api/v1/tickets/*"
  Access access = Access::signed_in;
  BodyKind body = BodyKind::json;
  HttpHandler handler;
};

class Router {
 public:
  void add(Route r);

  struct Match {
    Route const* route = nullptr;    // the route for this method and path, or nullptr
    Route const* pattern = nullptr;  // a route of the path whatever its method (its access and body rule); nullptr: none
    std::string rest;              // see HttpCall::rest
    // The path has routes, none for this method: the methods it has
    // ("GET" or "GET, POST"), for a "use ..." answer.
    std::string allowed;
  };
  // Exact patterns win over prefixes; among prefixes the longest wins.
  Match match(std::string_view method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace exceed::app
