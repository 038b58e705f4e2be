// Routing in a running process: plans offers with core::plan_offers from a
// store snapshot, commits each with the offer script (compare-and-set), and
// runs the timers that make routing progress without a client's help:
// offer expiry, the agents' grace period, process heartbeats, the queue
// positions customers see, and a periodic re-plan that heals anything a
// lost event left behind.
#pragma once

#include "app/periodic.hpp"
#include "core/router.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <set>
#include <string>

namespace exceed::app {

class App;

class Routing {
 public:
  explicit Routing(App& app);

  void start();
  void stop();

  // Plans the team again soon (coalesced: many requests, one run).
  void dispatch(std::string const& team);
  // Sends every waiting customer of the team their position soon (coalesced).
  void positions(std::string const& team);
  // Estimated wait for position p in a team.
  int estimate_wait_s(std::string const& team, int position) const;

 private:
  boost::asio::awaitable<void> run_dispatch(std::string team);
  boost::asio::awaitable<void> guarded_dispatch(std::string team);
  boost::asio::awaitable<void> run_positions(std::string team);
  boost::asio::awaitable<void> send_positions(std::string team);
  boost::asio::awaitable<void> tick_offers();
  boost::asio::awaitable<void> tick_grace();
  boost::asio::awaitable<void> tick_heartbeat();
  boost::asio::awaitable<void> tick_replan();
  boost::asio::awaitable<void> tick_sla();
  void note_assignment(std::string const& team, core::Millis now);

  App& app_;
  core::RoutingRules rules_;
  std::set<std::string> running_;   // teams with a dispatch in progress
  std::set<std::string> again_;     // teams to re-plan when it ends
  std::set<std::string> positions_pending_;
  struct Pace {
    core::Millis last = 0;
    double mean_interval_s = 0;
  };
  std::map<std::string, Pace> pace_;  // per team, for estimated waits
  Periodic periodic_;
  bool stopped_ = false;
};

}  // namespace exceed::app
