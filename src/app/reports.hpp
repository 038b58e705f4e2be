// Reports over a period, for supervisors (any team or agent) and agents
// (their own figures): GET /api/v1/reports/summary and /reports/sla.
#pragma once

#include "app/config.hpp"
#include "app/http_util.hpp"
#include "core/clock.hpp"
#include "net/server.hpp"
#include "store/figures.hpp"

#include <boost/asio/awaitable.hpp>

namespace exceed::app {

class Reports {
 public:
  struct Deps {
    store::FigureStore& store;
    core::Clock const& clock;
    Config::Metrics const& config;  // the time zone report days start in
  };
  explicit Reports(Deps deps) : d_(deps) {}

  // ?from=&to= (RFC 3339 or ms; default the last 24 hours), team=, agent=,
  // group_by=hour|day|agent|team; JSON, or CSV for Accept: text/csv (or format=csv).
  boost::asio::awaitable<net::HttpResponse> summary(Actor const& actor, net::HttpRequest const& req, Query const& q);
  // ?team= or ?agent=: SLA attainment per metric, answered in time / all.
  boost::asio::awaitable<net::HttpResponse> sla(Actor const& actor, Query const& q);

 private:
  Deps d_;
};

}  // namespace exceed::app
