// Who can answer, told to the clients that must say it in words:
//   GET /api/v1/availability?team=T  (anyone: the customer widget before a
//     chat) whether the team is open now and whether anyone of it is online,
//     so the widget never promises an answer "within minutes" that no one
//     can give;
//   GET /api/v1/directory  (agents and supervisors) the teams and the agents
//     by name, with their status and free slots, for the transfer and
//     force-assign pickers (people pick names, never ids).
// Read-only: plain reads of the agent and team records the routing keeps.
#pragma once

#include "app/http_util.hpp"
#include "net/server.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace exceed::app {

class App;

// Answers the two paths above; nullopt for any other path, which the caller
// then routes on.
boost::asio::awaitable<std::optional<net::HttpResponse>> directory_http(App& app, net::HttpRequest const& req,
                                                                        std::string const& path,
                                                                        Query const& query);

}  // namespace exceed::app
