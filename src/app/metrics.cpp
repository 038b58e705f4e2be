#include "app/metrics.hpp"

#include "app/client.hpp"
#include "app/version.hpp"
#include "app/wire.hpp"
#include "protocol/codec.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;
using Registry = core::prom::Registry;

namespace {

constexpr core::Millis keep_samples = 25 * 3600 * 1000LL;  // a day and the longest window
constexpr int samples_batch = 2000;
constexpr int queue_scan = 50;  // queued chats looked at per team for the longest wait

// Splits "a,b" into a JSON array.
json::array csv_array(std::string_view csv) {
  json::array out;
  while (!csv.empty()) {
    auto comma = csv.find(',');
    auto part = csv.substr(0, comma);
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    csv.remove_prefix(comma + 1);
  }
  return out;
}

// The live figures as the `metrics` event carries them (without as_of).
json::object figures_json(store::LiveReading const& live, core::WindowFigures const& w, core::Millis now) {
  json::object out;
  out["window_s"] = w.window / 1000;

  long long queue = 0, active = 0, oldest = 0, online = 0, available = 0;
  json::array team_rows;
  for (auto const& team : live.teams) {
    json::object t;
    t["team"] = team.team;
    t["queue_length"] = team.queue_length;
    t["longest_wait_s"] = team.oldest_created_at > 0 ? std::max<long long>(0, now - team.oldest_created_at) / 1000 : 0;
    t["agents_online"] = team.agents_online;
    t["agents_available"] = team.agents_available;
    t["active_conversations"] = team.active_conversations;
    queue += team.queue_length;
    active += team.active_conversations;
    if (team.oldest_created_at > 0 && (oldest == 0 || team.oldest_created_at < oldest)) oldest = team.oldest_created_at;
    team_rows.push_back(std::move(t));
  }

  json::array agent_rows;
  for (auto const& agent : live.agents) {
    json::object a;
    a["agent_id"] = agent.id;
    a["name"] = agent.name;
    a["teams"] = csv_array(agent.teams_csv);
    a["status"] = agent.status;
    a["active"] = agent.active;
    a["capacity"] = agent.capacity;
    a["available"] = agent.available;
    a["followups_open"] = agent.followups_open;
    a["followups_overdue"] = agent.followups_overdue;
    auto today = w.agents_today.find(agent.id);
    bool has = today != w.agents_today.end();
    a["first_response_p50_today_s"] = has ? seconds_or_null(today->second.first_response_p50) : json::value(nullptr);
    a["exceeded_rate_today"] = has ? number_or_null(today->second.exceeded_rate) : json::value(nullptr);
    if (agent.status == "online") ++online;
    if (agent.available) ++available;
    agent_rows.push_back(std::move(a));
  }

  out["queue_length"] = queue;
  out["longest_wait_s"] = oldest > 0 ? std::max<long long>(0, now - oldest) / 1000 : 0;
  out["agents_online"] = online;
  out["agents_available"] = available;
  out["active_conversations"] = active;
  out["first_response_p50_s"] = seconds_or_null(w.first_response_p50);
  out["first_response_p90_s"] = seconds_or_null(w.first_response_p90);
  out["queue_wait_p50_s"] = seconds_or_null(w.queue_wait_p50);
  out["queue_wait_p90_s"] = seconds_or_null(w.queue_wait_p90);
  out["sla_breaches"] = w.sla_breaches;
  out["exceeded_rate"] = number_or_null(w.exceeded_rate);
  out["assessed"] = w.assessed;
  out["met_only_open"] = live.met_only_open;
  out["teams"] = std::move(team_rows);
  out["agents"] = std::move(agent_rows);

  // The last hour, a point a minute, oldest first; a minute nobody sampled
  // (no process was running) is null.
  core::Millis minute = now - now % 60'000;
  json::array queue_points, wait_points;
  auto const& series = live.series;
  std::size_t j = 0;
  for (core::Millis m = minute - 59 * 60'000; m <= minute; m += 60'000) {
    while (j < series.size() && series[j].minute < m) ++j;
    if (j < series.size() && series[j].minute == m) {
      queue_points.emplace_back(series[j].queue_length);
      wait_points.emplace_back(series[j].longest_wait / 1000);
    } else {
      queue_points.emplace_back(nullptr);
      wait_points.emplace_back(nullptr);
    }
  }
  json::object s;
  s["step_s"] = 60;
  s["end"] = minute;
  s["queue_length"] = std::move(queue_points);
  s["longest_wait_s"] = std::move(wait_points);
  out["series"] = std::move(s);
  return out;
}

}  // namespace

Metrics::Metrics(Deps deps) : d_(std::move(deps)), periodic_(d_.executor, d_.store_up, "metrics"), window_(keep_samples) {
  auto& r = registry_;
  r.describe("exceed_build_info", Registry::Type::gauge, "The running version (always 1).");
  r.describe("exceed_connections", Registry::Type::gauge, "Authenticated WebSocket sessions of this process, by role.");
  r.describe("exceed_messages_total", Registry::Type::counter,
             "Chat messages: in = stored from a sender, out = delivered to a session.");
  r.describe("exceed_queue_length", Registry::Type::gauge, "Chats waiting in each team's queue (whole deployment).");
  r.describe("exceed_queue_wait_seconds", Registry::Type::histogram, "From a chat's start to its first agent.",
             {1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600});
  r.describe("exceed_first_response_seconds", Registry::Type::histogram,
             "From a customer's first message to the first agent reply.", {1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600});
  r.describe("exceed_sla_breaches_total", Registry::Type::counter, "SLA targets missed, by metric.");
  r.describe("exceed_assessments_total", Registry::Type::counter, "Conversations assessed, by level.");
  r.describe("exceed_followups_overdue", Registry::Type::gauge, "Open follow-ups past their due time (whole deployment).");
  r.describe("exceed_redis_command_seconds", Registry::Type::histogram, "Round trip of one Redis command or script.",
             {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1});
  r.describe("exceed_errors_total", Registry::Type::counter, "Error answers given (WebSocket and HTTP), by code.");
  r.describe("exceed_login_failures_total", Registry::Type::counter,
             "Logins refused, by reason: password (wrong or unknown user), disabled, throttled (waiting after "
             "failures), rate_limited (too many from one address), busy (the hashing queue was full).");
  r.describe("exceed_rate_limited_total", Registry::Type::counter,
             "Requests refused by a rate limit, by what was limited.");
  r.describe("exceed_redis_up", Registry::Type::gauge, "1 while this process's Redis link is up.");
  r.describe("exceed_bus_publishing", Registry::Type::gauge,
             "1 while this process publishes its events for other processes; 0 while it knows it is alone.");

  r.gauge("exceed_build_info", {{"version", std::string(exceed_version)}}) = 1;
  messages_in_ = &r.counter("exceed_messages_total", {{"direction", "in"}});
  messages_out_ = &r.counter("exceed_messages_total", {{"direction", "out"}});
  queue_wait_ = &r.histogram("exceed_queue_wait_seconds");
  first_response_ = &r.histogram("exceed_first_response_seconds");
  redis_latency_ = &r.histogram("exceed_redis_command_seconds");
  for (char const* m : {"first_response", "next_response", "resolution"}) r.counter("exceed_sla_breaches_total", {{"metric", m}});
  for (char const* l : {"exceeded", "met", "below"}) r.counter("exceed_assessments_total", {{"level", l}});
  for (char const* why : {"password", "disabled", "throttled", "rate_limited", "busy"})
    r.counter("exceed_login_failures_total", {{"reason", why}});
  r.gauge("exceed_followups_overdue");
  r.describe("exceed_invitations_total", Registry::Type::counter,
             "Invitations to chat: shown to a visitor, dismissed, accepted, and those that led to a chat.");
  r.describe("exceed_visitors_live", Registry::Type::gauge, "Visitors on the shop's pages now (whole deployment).");
  for (char const* e : {"shown", "dismissed", "accepted", "chat"}) r.counter("exceed_invitations_total", {{"event", e}});
  r.gauge("exceed_visitors_live");
}

void Metrics::invitation(std::string_view event) {
  registry_.counter("exceed_invitations_total", {{"event", std::string(event)}}) += 1;
}

void Metrics::visitors_live(std::size_t n) { registry_.gauge("exceed_visitors_live") = static_cast<double>(n); }

Metrics::~Metrics() = default;

void Metrics::start() { periodic_.every(std::chrono::milliseconds(1000), this, &Metrics::tick); }

void Metrics::stop() { periodic_.stop(); }

void Metrics::sla_breach(std::string_view metric) {
  registry_.counter("exceed_sla_breaches_total", {{"metric", std::string(metric)}}) += 1;
}

void Metrics::assessed(std::string_view level) {
  registry_.counter("exceed_assessments_total", {{"level", std::string(level)}}) += 1;
}

void Metrics::login_refused(std::string_view reason) {
  registry_.counter("exceed_login_failures_total", {{"reason", std::string(reason)}}) += 1;
}

void Metrics::rate_limited(std::string_view what) {
  registry_.counter("exceed_rate_limited_total", {{"limit", std::string(what)}}) += 1;
}

void Metrics::subscribe(std::shared_ptr<Client> const& client) {
  if (!last_.empty()) {
    // A snapshot at most a second old: send it now.
    client->send(protocol::encode_event("metrics", last_));
    subscribers_.push_back({client, last_text_});
    return;
  }
  waiting_.push_back(client);
  if (!busy_) asio::co_spawn(d_.executor, refresh(false), asio::detached);
}

asio::awaitable<void> Metrics::tick() {
  auto now = d_.clock.now();
  bool watched = !subscribers_.empty() || !waiting_.empty();
  bool new_minute = now / 60'000 != last_minute_;
  if (!watched && !new_minute) co_return;
  last_minute_ = now / 60'000;
  co_await refresh(true);
}

// Reads new samples and the gauges, then sends the snapshot to those still
// waiting for their first one and, when `broadcast` and a figure changed,
// to every subscriber.
asio::awaitable<void> Metrics::refresh(bool broadcast) {
  if (busy_) co_return;
  busy_ = true;
  struct Done {
    bool& flag;
    ~Done() { flag = false; }
  } done{busy_};

  auto now = d_.clock.now();
  last_reading_ = now;
  co_await read_samples(now);
  auto live = co_await d_.store.live(now, queue_scan);
  if (!live) co_return;

  publish(*live, now, broadcast);
}

// Turns one reading into the snapshot and sends it (kept out of the
// coroutine: g++ 12 mishandles class-typed loop variables in coroutines).
void Metrics::publish(store::LiveReading const& live, core::Millis now, bool broadcast) {
  auto const& cfg = d_.config;
  auto w = window_.figures(now, static_cast<core::Millis>(cfg.window_s) * 1000, core::start_of_day(now, cfg.zone));
  json::object figures = figures_json(live, w, now);

  // Operators' gauges follow the same reading.
  registry_.clear("exceed_queue_length");
  for (auto const& t : figures["teams"].as_array())
    registry_.gauge("exceed_queue_length", {{"team", std::string(t.at("team").as_string())}}) =
        static_cast<double>(t.at("queue_length").as_int64());
  registry_.gauge("exceed_followups_overdue") = static_cast<double>(live.followups_overdue);

  last_text_ = json::serialize(figures);
  figures["as_of"] = now;
  last_ = figures;
  if (subscribers_.empty() && waiting_.empty()) return;

  // Encoded once for every subscriber it goes to.
  auto frame = std::make_shared<std::string const>(protocol::encode_event("metrics", std::move(figures)));
  std::erase_if(subscribers_, [](Subscriber const& s) {
    auto c = s.client.lock();
    return !c || !c->open();
  });
  if (broadcast) {
    for (auto& s : subscribers_) {
      if (s.sent == last_text_) continue;
      if (auto c = s.client.lock()) c->send(frame);
      s.sent = last_text_;
    }
  }
  for (auto& w : waiting_) {
    auto c = w.lock();
    if (!c || !c->open()) continue;
    c->send(frame);
    subscribers_.push_back({std::move(w), last_text_});
  }
  waiting_.clear();
}

// Reads the samples every process appended since the last read (at start,
// the last day's) into the window.
asio::awaitable<void> Metrics::read_samples(core::Millis now) {
  for (int batch = 0; batch < 50; ++batch) {
    auto page = co_await d_.store.samples(cursor_, now - keep_samples, samples_batch);
    if (!page) co_return;
    for (std::size_t i = 0; i < page->samples.size(); ++i) window_.add(std::move(page->samples[i]));
    if (!page->last_id.empty()) cursor_ = page->last_id;
    if (page->entries < static_cast<std::size_t>(samples_batch)) co_return;
  }
}

asio::awaitable<std::string> Metrics::prometheus() {
  if (d_.clock.now() - last_reading_ > 5'000) co_await refresh(false);
  co_return render_prometheus();
}

std::string Metrics::render_prometheus() {
  auto& r = registry_;
  for (auto role : {core::Role::customer, core::Role::agent, core::Role::supervisor})
    r.gauge("exceed_connections", {{"role", std::string(core::to_string(role))}}) =
        static_cast<double>(d_.sessions(role));
  for (int i = 1; i <= protocol::error_count; ++i) {
    auto code = static_cast<protocol::error>(i);
    r.counter("exceed_errors_total", {{"code", std::string(protocol::code_name(code))}}) =
        static_cast<double>(protocol::errors_counted(code));
  }
  r.gauge("exceed_redis_up") = d_.store_up() ? 1 : 0;
  r.gauge("exceed_bus_publishing") = d_.bus_publishing() ? 1 : 0;
  return r.render();
}

}  // namespace exceed::app
