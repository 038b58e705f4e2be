#include "app/routing.hpp"

#include "app/wire.hpp"
#include "core/response_clock.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <utility>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {
constexpr int max_plan_chats = 100;    // chats read per team per planning round
constexpr int max_plan_rounds = 5;     // re-plans after lost compare-and-sets, per dispatch
constexpr int max_positions = 500;     // waiting customers told their place
constexpr auto dispatch_pause = std::chrono::milliseconds(10);  // between rounds of one team under load
constexpr int max_expired = 200;       // lapsed offers claimed per tick
constexpr int max_grace = 100;         // agents past their grace per tick
constexpr int max_sla = 200;           // SLA timers fired per tick
constexpr auto heartbeat_every = std::chrono::milliseconds(2000);
}  // namespace

Routing::Routing(Deps deps)
    : d_(std::move(deps)), rules_(d_.config.routing_rules()), periodic_(d_.executor, d_.store_up, "routing") {}

void Routing::start() {
  periodic_.every(std::chrono::milliseconds(250), this, &Routing::tick_offers);
  periodic_.every(std::chrono::milliseconds(1000), this, &Routing::tick_grace);
  periodic_.every(heartbeat_every, this, &Routing::tick_heartbeat);
  periodic_.every(std::chrono::milliseconds(2000), this, &Routing::tick_replan);
  periodic_.every(std::chrono::milliseconds(250), this, &Routing::tick_sla);
}

void Routing::stop() {
  stopped_ = true;
  periodic_.stop();
}

// ------------------------------------------------------------ dispatch

void Routing::dispatch(std::string const& team) {
  if (stopped_ || team.empty()) return;
  if (running_.count(team)) {
    again_.insert(team);
    return;
  }
  running_.insert(team);
  asio::co_spawn(d_.executor, guarded_dispatch(team), asio::detached);
}

asio::awaitable<void> Routing::guarded_dispatch(std::string team) {
  for (;;) {
    try {
      co_await run_dispatch(team);
    } catch (std::exception const& e) {
      spdlog::error("routing: dispatch of {} failed: {}", team, e.what());
    }
    if (stopped_ || !again_.erase(team)) break;
    // Chats queued while it ran get one more round, after a short pause: a
    // round's snapshot reads every agent of the team, and back-to-back rounds
    // under a burst planned a few chats each, so most of Redis's time per
    // started chat went to snapshots (docs/PERFORMANCE.md, storm). Paced, a
    // round plans all that queued meanwhile. A lone chat is not delayed: the
    // first request of a quiet team runs at once.
    asio::steady_timer pause(d_.executor, dispatch_pause);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  running_.erase(team);
}

asio::awaitable<void> Routing::run_dispatch(std::string team) {
  bool placed_any = false;
  // Rounds go on while each placed a full view of the queue (a burst of
  // chats is placed max_plan_chats per round trip pair, not one view per
  // replan tick) and, after lost compare-and-sets, up to max_plan_rounds.
  for (int lost_rounds = 0; lost_rounds < max_plan_rounds;) {
    auto snap = co_await d_.store.snapshot(team, max_plan_chats);
    if (!snap) {
      if (snap.failure().kind == store::Failure::Kind::protocol)
        spdlog::error("routing: {}", snap.failure().message);
      co_return;
    }
    bool const more_queued = snap->queue.size() >= static_cast<std::size_t>(max_plan_chats);
    auto now = d_.clock.now();
    auto offers = core::plan_offers(std::move(snap->queue), std::move(snap->agents), rules_, now);
    if (offers.empty()) break;
    // Every offer of the round in one pipeline: each is a compare-and-set,
    // so one that lost to another process or request only means a re-plan.
    auto results = co_await d_.store.offer(offers, now);
    bool lost = false;
    bool failed = false;  // the store went away: the rest waits for the next dispatch
    for (std::size_t i = 0; i < offers.size(); ++i) {
      auto const& offer = offers[i];
      auto const& o = results[i];
      if (!o) {
        spdlog::warn("routing: offer of {} to {} failed: {}", offer.conversation_id, offer.agent_id,
                     o.failure().message);
        failed = true;
        continue;
      }
      if (!o->made) {
        lost = true;  // another process (or request) changed the chat or the agent first
        continue;
      }
      placed_any = true;
      pace_[team].assigned(now);
      d_.publisher.publish({"u:" + offer.agent_id},
                           offer_event({offer.conversation_id, o->team, o->visitor, o->visitor_name, o->priority,
                                        o->context_json, o->preview, core::offer_seconds_left(offer.expires_at, now)}));
    }
    if (failed) break;
    if (lost) ++lost_rounds;
    else if (!more_queued) break;
  }
  if (placed_any) positions(team);
}

int Routing::estimate_wait_s(std::string const& team, int position) const {
  auto it = pace_.find(team);
  return core::estimate_wait_s(position, it == pace_.end() ? 0 : it->second.mean_interval_s());
}

// ------------------------------------------------------------ positions

void Routing::positions(std::string const& team) {
  if (stopped_ || team.empty() || !positions_pending_.insert(team).second) return;
  asio::co_spawn(d_.executor, run_positions(team), asio::detached);
}

asio::awaitable<void> Routing::run_positions(std::string team) {
  // Coalesce a burst of queue changes into one round of updates, the longer
  // the queue the fewer rounds (core::positions_interval_ms).
  auto seen = waiting_seen_.find(team);
  auto const interval = core::positions_interval_ms(seen == waiting_seen_.end() ? 0 : seen->second);
  asio::steady_timer pause(d_.executor, std::chrono::milliseconds(interval));
  co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  positions_pending_.erase(team);
  try {
    co_await send_positions(team);
  } catch (std::exception const& e) {
    spdlog::error("routing: positions of {} failed: {}", team, e.what());
  }
}

// Positions of one queue, for every process to tell its customers:
// [[conversation, visitor, position, estimated_wait_s], ...].
asio::awaitable<void> Routing::send_positions(std::string team) {
  auto waiting = co_await d_.store.waiting(team, max_positions);
  if (!waiting) co_return;
  waiting_seen_[team] = waiting->size();
  json::array items;
  for (std::size_t i = 0; i < waiting->size(); ++i) {
    int position = static_cast<int>(i) + 1;
    json::array item;
    item.emplace_back((*waiting)[i].conversation_id);
    item.emplace_back((*waiting)[i].visitor);
    item.emplace_back(position);
    item.emplace_back(estimate_wait_s(team, position));
    items.push_back(std::move(item));
  }
  d_.publisher.publish({"@positions"}, json::serialize(items));
}

// ------------------------------------------------------------ timers

asio::awaitable<void> Routing::tick_offers() {
  auto expired = co_await d_.store.expire_offers(d_.clock.now(), max_expired);
  if (!expired) co_return;
  std::set<std::string> teams;
  for (std::size_t i = 0; i < expired->size(); ++i) {
    auto const& e = (*expired)[i];
    json::object ev;
    ev["conversation_id"] = e.conversation_id;
    d_.publisher.publish({"u:" + e.agent}, protocol::encode_event("conversation.offer_expired", std::move(ev)));
    teams.insert(e.team);
  }
  for (auto it = teams.begin(); it != teams.end(); ++it) dispatch(*it);
}

asio::awaitable<void> Routing::tick_grace() {
  auto due = co_await d_.store.grace_due(d_.clock.now(), max_grace);
  if (!due) co_return;
  std::set<std::string> teams;
  for (std::size_t i = 0; i < due->size(); ++i) co_await hand_back(std::move((*due)[i]), teams);
  for (auto it = teams.begin(); it != teams.end(); ++it) {
    dispatch(*it);
    positions(*it);
  }
}

// An agent gone past the grace period: their chats go back to the head of
// their queues (a compare-and-set each: another process may do the same),
// then they are offline. `teams` gathers the queues that moved.
asio::awaitable<void> Routing::hand_back(store::GraceDue due, std::set<std::string>& teams) {
  for (std::size_t i = 0; i < due.chats.size(); ++i) {
    auto const& chat = due.chats[i];
    store::Requeue back{chat.conversation_id, due.agent, chat.team,
                        core::queue_score(chat.priority, chat.created_at, true), d_.clock.now()};
    auto r = co_await d_.store.requeue(back);
    if (!r) continue;  // moved on meanwhile (resolved, transferred, or another process did it)
    spdlog::info("conversation {} back in queue {}: agent {} gone past the grace period", chat.conversation_id,
                 chat.team, due.agent);
    json::object ev;
    ev["conversation_id"] = chat.conversation_id;
    ev["reason"] = "requeued";
    d_.publisher.publish({"u:" + due.agent}, protocol::encode_event("conversation.unassigned", std::move(ev)));
    teams.insert(chat.team);
  }
  co_await d_.store.grace_done(due.agent);
}

asio::awaitable<void> Routing::tick_heartbeat() {
  co_await d_.store.repair_copies();
  auto now = d_.clock.now();
  co_await d_.store.beat(d_.process_id, now);
  co_await d_.store.reap(now, now - process_dead_after_ms, rules_.grace);
  auto live = co_await d_.store.live_processes(now - process_dead_after_ms);
  if (live && d_.hooks.processes_seen) d_.hooks.processes_seen(*live);
}

// SLA warnings and breaches that fell due: to the agent on the chat and the
// supervisors. A breach says how late it is with due_in_s 0 and late_s.
asio::awaitable<void> Routing::tick_sla() {
  auto now = d_.clock.now();
  auto due = co_await d_.store.sla_due(now, max_sla);
  if (!due) co_return;
  for (std::size_t i = 0; i < due->size(); ++i) {
    auto const& d = (*due)[i];
    auto countdown = core::sla_countdown(d.due_at, d.breach, now);
    json::object ev;
    ev[d.ticket ? "ticket_id" : "conversation_id"] = d.id;
    ev["metric"] = d.metric;
    ev["due_in_s"] = countdown.due_in_s;
    ev["due_at"] = d.due_at;
    ev["breached"] = d.breach;
    if (countdown.late_s) {
      ev["late_s"] = *countdown.late_s;
      if (d_.hooks.sla_breach) d_.hooks.sla_breach(d.metric);
    }
    Targets targets{"sup"};
    if (!d.agent.empty()) targets.push_back("u:" + d.agent);
    d_.publisher.publish(std::move(targets), protocol::encode_event("sla.warning", std::move(ev)));
  }
}

asio::awaitable<void> Routing::tick_replan() {
  auto teams = co_await d_.store.teams();
  if (!teams) co_return;
  for (std::size_t i = 0; i < teams->size(); ++i) dispatch((*teams)[i]);
}

// ------------------------------------------------------------ presence

asio::awaitable<void> Routing::agent_connected(std::string agent, std::vector<std::string> teams) {
  co_await count_presence(agent, 1);
  for (std::size_t i = 0; i < teams.size(); ++i) dispatch(teams[i]);
}

void Routing::agent_disconnected(std::string agent) {
  // Not skipped while stopping: a graceful stop waits for these writes.
  asio::co_spawn(d_.executor, count_presence(std::move(agent), -1), asio::detached);
}

asio::awaitable<void> Routing::count_presence(std::string agent, int delta) {
  auto n = co_await d_.store.presence(agent, d_.process_id, delta, d_.clock.now(),
                                      d_.config.routing.agent_grace_s * 1000LL);
  if (n) co_return;
  if ((presence_debt_[agent] += delta) == 0) presence_debt_.erase(agent);
}

void Routing::store_came_up() {
  d_.store.arrive(d_.process_id, d_.config.routing.default_team, d_.clock.now());
  if (!presence_debt_.empty()) asio::co_spawn(d_.executor, settle_presence(), asio::detached);
}

asio::awaitable<void> Routing::settle_presence() {
  auto debts = std::exchange(presence_debt_, {});
  for (auto it = debts.begin(); it != debts.end(); ++it) co_await count_presence(it->first, it->second);
}

asio::awaitable<void> Routing::leave() { co_await d_.store.leave(d_.process_id); }

}  // namespace exceed::app
