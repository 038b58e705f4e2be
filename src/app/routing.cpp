#include "app/routing.hpp"

#include "app/app.hpp"
#include "app/metrics.hpp"
#include "app/client.hpp"
#include "store/scripts.hpp"
#include "app/wire.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {
constexpr int max_plan_chats = 100;    // chats read per team per planning round
constexpr int max_plan_rounds = 5;     // re-plans after lost compare-and-sets, per dispatch
constexpr int max_positions = 500;     // waiting customers told their place
constexpr auto heartbeat_every = std::chrono::milliseconds(2000);

double to_double(std::string const& s) {
  try {
    return s.empty() ? 0 : std::stod(s);
  } catch (std::exception const&) {
    return 0;
  }
}
}  // namespace

Routing::Routing(App& app) : app_(app), rules_(app.config().routing_rules()), periodic_(app.executor(), [&app] { return app.db().connected(); }, "routing") {}

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

void Routing::dispatch(std::string const& team) {
  if (stopped_ || team.empty()) return;
  if (running_.count(team)) {
    again_.insert(team);
    return;
  }
  running_.insert(team);
  asio::co_spawn(app_.executor(), guarded_dispatch(team), asio::detached);
}

asio::awaitable<void> Routing::guarded_dispatch(std::string team) {
  try {
    co_await run_dispatch(team);
  } catch (std::exception const& e) {
    spdlog::error("routing: dispatch of {} failed: {}", team, e.what());
  }
  running_.erase(team);
  if (again_.erase(team)) dispatch(team);
}

asio::awaitable<void> Routing::run_dispatch(std::string team) {
  auto& db = app_.db();
  bool placed_any = false;
  // Rounds go on while each placed a full view of the queue (a burst of
  // chats is placed max_plan_chats per round trip pair, not one view per
  // replan tick) and, after lost compare-and-sets, up to max_plan_rounds.
  for (int lost_rounds = 0; lost_rounds < max_plan_rounds;) {
    auto snap = co_await db.call(db.scripts().snapshot, team, std::to_string(max_plan_chats));
    if (!snap || snap.reply.elements.size() < 2) co_return;
    bool const more_queued = snap.reply.elements[0].elements.size() >= static_cast<std::size_t>(max_plan_chats);
    std::vector<core::QueuedChat> queue;
    for (auto const& row : snap.reply.elements[0].elements) {
      core::QueuedChat chat;
      chat.id = str_at(row, 0);
      chat.score = to_double(str_at(row, 1));
      if (row.elements.size() > 2) {
        auto const& d = row.elements[2].elements;
        for (std::size_t i = 0; i + 1 < d.size(); i += 2)
          chat.declines.push_back({d[i].str, static_cast<core::Millis>(to_double(d[i + 1].str))});
      }
      queue.push_back(std::move(chat));
    }
    std::vector<core::AgentSlot> agents;
    for (auto const& row : snap.reply.elements[1].elements) {
      core::AgentSlot a;
      a.id = str_at(row, 0);
      a.status = core::parse_agent_status(str_at(row, 1)).value_or(core::AgentStatus::offline);
      a.capacity = static_cast<int>(int_at(row, 2));
      a.active = static_cast<int>(int_at(row, 3));
      a.offered = static_cast<int>(int_at(row, 4));
      a.connections = static_cast<int>(int_at(row, 5));
      a.last_assigned_at = int_at(row, 6);
      agents.push_back(std::move(a));
    }
    auto now = now_ms();
    auto offers = core::plan_offers(std::move(queue), std::move(agents), rules_, now);
    if (offers.empty()) break;
    // Every offer of the round in one pipeline: each is a compare-and-set,
    // so one that lost to another process or request only means a re-plan.
    std::vector<std::vector<std::string>> calls;
    calls.reserve(offers.size());
    for (auto const& offer : offers)
      calls.push_back({offer.conversation_id, offer.agent_id, std::to_string(offer.expires_at), std::to_string(now)});
    auto results = co_await db.run_all(db.scripts().offer, std::move(calls));
    bool lost = false;
    bool failed = false;  // the store went away: the rest waits for the next dispatch
    for (std::size_t i = 0; i < offers.size(); ++i) {
      auto const& offer = offers[i];
      auto const& o = results[i];
      if (!o) {
        spdlog::warn("routing: offer of {} to {} failed: {}", offer.conversation_id, offer.agent_id, o.message);
        failed = true;
        continue;
      }
      if (int_at(o.reply, 0) != 1) {
        lost = true;  // another process (or request) changed the chat or the agent first
        continue;
      }
      placed_any = true;
      note_assignment(team, now);
      app_.publish({"u:" + offer.agent_id},
                   offer_event({offer.conversation_id, str_at(o.reply, 1), str_at(o.reply, 2), str_at(o.reply, 3),
                                str_at(o.reply, 4), str_at(o.reply, 5), str_at(o.reply, 6),
                                (offer.expires_at - now + 999) / 1000}));
    }
    if (failed) break;
    if (lost) ++lost_rounds;
    else if (!more_queued) break;
  }
  if (placed_any) positions(team);
}

void Routing::note_assignment(std::string const& team, core::Millis now) {
  auto& pace = pace_[team];
  if (pace.last > 0) {
    double interval = static_cast<double>(now - pace.last) / 1000.0;
    // Exponential average over roughly the last ten assignments.
    pace.mean_interval_s = pace.mean_interval_s == 0 ? interval : 0.9 * pace.mean_interval_s + 0.1 * interval;
  }
  pace.last = now;
}

int Routing::estimate_wait_s(std::string const& team, int position) const {
  auto it = pace_.find(team);
  return core::estimate_wait_s(position, it == pace_.end() ? 0 : it->second.mean_interval_s);
}

void Routing::positions(std::string const& team) {
  if (stopped_ || team.empty() || !positions_pending_.insert(team).second) return;
  asio::co_spawn(app_.executor(), run_positions(team), asio::detached);
}

asio::awaitable<void> Routing::run_positions(std::string team) {
  // Coalesce a burst of queue changes into one round of updates.
  asio::steady_timer pause(app_.executor(), std::chrono::milliseconds(100));
  co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  positions_pending_.erase(team);
  try {
    co_await send_positions(team);
  } catch (std::exception const& e) {
    spdlog::error("routing: positions of {} failed: {}", team, e.what());
  }
}

asio::awaitable<void> Routing::send_positions(std::string team) {
  auto& db = app_.db();
  auto o = co_await db.call(db.scripts().positions, team, std::to_string(max_positions));
  if (!o) co_return;
  json::array items;
  for (std::size_t i = 0; i + 1 < o.reply.elements.size(); i += 2) {
    int position = static_cast<int>(i / 2) + 1;
    json::array item;
    item.emplace_back(o.reply.elements[i].str);
    item.emplace_back(o.reply.elements[i + 1].str);
    item.emplace_back(position);
    item.emplace_back(estimate_wait_s(team, position));
    items.push_back(std::move(item));
  }
  app_.publish({"@positions"}, json::serialize(items));
}

asio::awaitable<void> Routing::tick_offers() {
  auto& db = app_.db();
  auto o = co_await db.call(db.scripts().expire_offers, std::to_string(now_ms()), "200");
  if (!o) co_return;
  std::set<std::string> teams;
  for (std::size_t i = 0; i + 2 < o.reply.elements.size(); i += 3) {
    json::object ev;
    ev["conversation_id"] = o.reply.elements[i].str;
    app_.publish({"u:" + o.reply.elements[i + 1].str}, protocol::encode_event("conversation.offer_expired", std::move(ev)));
    teams.insert(o.reply.elements[i + 2].str);
  }
  for (auto const& t : teams) dispatch(t);
}

asio::awaitable<void> Routing::tick_grace() {
  auto& db = app_.db();
  auto o = co_await db.call(db.scripts().grace_due, std::to_string(now_ms()), "100");
  if (!o) co_return;
  std::set<std::string> teams;
  for (std::size_t i = 0; i + 1 < o.reply.elements.size(); i += 2) {
    auto const& agent = o.reply.elements[i].str;
    auto const& chats = o.reply.elements[i + 1].elements;
    for (std::size_t j = 0; j + 3 < chats.size(); j += 4) {
      auto const& conv = chats[j].str;
      auto priority = core::parse_priority(chats[j + 1].str).value_or(core::Priority::normal);
      auto created = static_cast<core::Millis>(to_double(chats[j + 2].str));
      auto const& team = chats[j + 3].str;
      auto score = json::serialize(json::value(core::queue_score(priority, created, true)));
      auto r = co_await db.call(db.scripts().requeue, conv, agent, team, score, std::to_string(now_ms()));
      if (!r) continue;  // moved on meanwhile (resolved, transferred, or another process did it)
      spdlog::info("conversation {} back in queue {}: agent {} gone past the grace period", conv, team, agent);
      json::object ev;
      ev["conversation_id"] = conv;
      ev["reason"] = "requeued";
      app_.publish({"u:" + agent}, protocol::encode_event("conversation.unassigned", std::move(ev)));
      teams.insert(team);
    }
    co_await db.call(db.scripts().grace_done, agent);
  }
  for (auto const& t : teams) {
    dispatch(t);
    positions(t);
  }
}

asio::awaitable<void> Routing::tick_heartbeat() {
  auto& db = app_.db();
  auto now = now_ms();
  co_await db.cmd("ZADD", db.key("procs"), std::to_string(now), app_.process_id());
  co_await db.call(db.scripts().reap_procs, std::to_string(now), std::to_string(now - process_dead_after_ms),
                                            std::to_string(rules_.grace));
  auto live = co_await db.cmd("ZCOUNT", db.key("procs"), std::to_string(now - process_dead_after_ms), "+inf");
  if (live && live.reply.kind == store::Reply::Kind::integer) app_.observe_processes(live.reply.integer);
}

// SLA warnings and breaches that fell due: to the agent on the chat and the
// supervisors. A breach says how late it is with due_in_s 0 and late_s.
asio::awaitable<void> Routing::tick_sla() {
  auto& db = app_.db();
  auto now = now_ms();
  auto o = co_await db.call(db.scripts().sla_due, std::to_string(now), "200");
  if (!o) co_return;
  auto const& e = o.reply.elements;
  for (std::size_t i = 0; i + 5 < e.size(); i += 6) {
    json::object ev;
    bool ticket = e[i].str.rfind("t_", 0) == 0;
    ev[ticket ? "ticket_id" : "conversation_id"] = e[i].str;
    ev["metric"] = e[i + 1].str;
    bool breach = e[i + 2].str == "breach";
    auto due = e[i + 3].integer;
    ev["due_in_s"] = breach ? 0 : std::max<std::int64_t>(0, (due - now + 999) / 1000);
    ev["due_at"] = due;
    ev["breached"] = breach;
    if (breach) {
      ev["late_s"] = std::max<std::int64_t>(0, (now - due) / 1000);
      app_.metrics().sla_breach(e[i + 1].str);
    }
    Targets targets{"sup"};
    if (!e[i + 4].str.empty()) targets.push_back("u:" + e[i + 4].str);
    app_.publish(std::move(targets), protocol::encode_event("sla.warning", std::move(ev)));
  }
}

asio::awaitable<void> Routing::tick_replan() {
  auto& db = app_.db();
  auto teams = co_await db.cmd("SMEMBERS", db.key("teams"));
  if (!teams) co_return;
  for (auto const& t : teams.reply.elements) dispatch(t.str);
}

}  // namespace exceed::app
