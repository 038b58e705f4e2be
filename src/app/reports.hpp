// Reports over a period, for supervisors (any team or agent) and agents
// (their own figures): GET /api/v1/reports/summary.
#pragma once

#include "app/http_util.hpp"
#include "net/server.hpp"

#include <boost/asio/awaitable.hpp>

namespace exceed::app {

class App;

// ?from=&to= (RFC 3339 or ms; default the last 24 hours), team=, agent=,
// group_by=hour|day|agent|team; JSON, or CSV for Accept: text/csv (or format=csv).
boost::asio::awaitable<net::HttpResponse> summary_report(App& app, Actor const& actor, net::HttpRequest const& req,
                                                         Query const& q);

}  // namespace exceed::app
