// Routing in a running process: plans offers with core::plan_offers from a
// store snapshot, commits each with the offer script (compare-and-set), and
// runs the timers that make routing progress without a client's help:
// offer expiry, the agents' grace period, process heartbeats, SLA timers,
// the queue positions customers see, and a periodic re-plan that heals
// anything a lost event left behind. It also answers the routing requests
// of PROTOCOL.md (app/routing_requests.cpp): agent.status,
// conversation.accept, .decline, .transfer and .assign, and counts agents'
// connections in and out (presence).
#pragma once

#include "app/config.hpp"
#include "app/periodic.hpp"
#include "app/services.hpp"
#include "core/clock.hpp"
#include "core/router.hpp"
#include "protocol/codec.hpp"
#include "store/conversations.hpp"
#include "store/routing.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace exceed::app {

// A process whose heartbeat in `procs` is older than this is dead: its
// agents' connections are reaped, and it no longer counts as a peer.
constexpr core::Millis process_dead_after_ms = 15'000;

class Routing {
 public:
  // What the rest of the process hears from routing.
  struct Hooks {
    std::function<void(std::int64_t live)> processes_seen;  // each heartbeat: live processes, this one included
    std::function<void(core::Millis)> queue_wait;            // a chat assigned for the first time waited this long
    std::function<void(std::string const& metric)> sla_breach;
  };
  struct Deps {
    store::RoutingStore& store;
    store::ConversationStore& conversations;  // a transfer to a team reads the chat it moves
    Publisher& publisher;
    core::Clock const& clock;
    Config const& config;
    boost::asio::any_io_executor executor;
    std::string process_id;
    std::function<bool()> store_up;
    Hooks hooks;
  };
  explicit Routing(Deps deps);

  void start();
  void stop();

  // Plans the team again soon (coalesced: many requests, one run).
  void dispatch(std::string const& team);
  // Sends every waiting customer of the team their position soon (coalesced).
  void positions(std::string const& team);
  // Estimated wait for position p in a team.
  int estimate_wait_s(std::string const& team, int position) const;

  // The routing requests (app/routing_requests.cpp): done, or why not.
  boost::asio::awaitable<Answer> set_status(Sender const& s, protocol::AgentStatusSet const& a, Reply& reply);
  boost::asio::awaitable<Answer> accept(Sender const& s, protocol::ConversationAccept const& a, Reply& reply);
  boost::asio::awaitable<Answer> decline(Sender const& s, protocol::ConversationDecline const& d, Reply& reply);
  // To an agent (a supervisor's moves it whatever its state), or back to a
  // team's queue.
  boost::asio::awaitable<Answer> transfer(Sender const& s, protocol::ConversationTransfer const& t, Reply& reply);
  boost::asio::awaitable<Answer> assign(Sender const& s, protocol::ConversationAssign const& a, Reply& reply);
  // The conversation.offer events of the offers still open for an agent who
  // reconnects, with the time they have left.
  boost::asio::awaitable<std::vector<std::string>> open_offers(std::string agent);

  // Presence: an agent's connection counted in (their teams planned again,
  // for they may take chats now) or out (the last one out starts their
  // grace period). A count Redis did not take (it was down) is kept and
  // settled when the store is back (store_came_up).
  boost::asio::awaitable<void> agent_connected(std::string agent, std::vector<std::string> teams);
  void agent_disconnected(std::string agent);
  // A new link to Redis: this process beats at once, the default team
  // exists, and the counts Redis missed are settled.
  void store_came_up();
  // Leaves the process list for good (a graceful stop).
  boost::asio::awaitable<void> leave();

 private:
  boost::asio::awaitable<void> run_dispatch(std::string team);
  boost::asio::awaitable<void> guarded_dispatch(std::string team);
  boost::asio::awaitable<void> run_positions(std::string team);
  boost::asio::awaitable<void> send_positions(std::string team);
  boost::asio::awaitable<void> tick_offers();
  boost::asio::awaitable<void> tick_grace();
  boost::asio::awaitable<void> hand_back(store::GraceDue due, std::set<std::string>& teams);
  boost::asio::awaitable<void> tick_heartbeat();
  boost::asio::awaitable<void> tick_replan();
  boost::asio::awaitable<void> tick_sla();
  boost::asio::awaitable<void> count_presence(std::string agent, int delta);
  boost::asio::awaitable<void> settle_presence();
  // Tells who is concerned that a chat now belongs to `to_agent`.
  void announce_assignment(Sender const& s, std::string const& conversation_id, store::Assigned const& a,
                           std::string const& to_agent);
  boost::asio::awaitable<Answer> transfer_to_team(Sender const& s, protocol::ConversationTransfer const& t,
                                                  Reply& reply);

  Deps d_;
  core::RoutingRules rules_;
  std::set<std::string> running_;   // teams with a dispatch in progress
  std::set<std::string> again_;     // teams to re-plan when it ends
  std::set<std::string> positions_pending_;
  std::map<std::string, std::size_t> waiting_seen_;  // per team: customers waiting at its last positions round
  std::map<std::string, core::AssignmentPace> pace_;  // per team, for estimated waits
  std::map<std::string, int> presence_debt_;          // agent -> connections Redis has not counted
  Periodic periodic_;
  bool stopped_ = false;
};

}  // namespace exceed::app
