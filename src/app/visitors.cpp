#include "app/visitors.hpp"
#include "app/wire.hpp"

#include "app/auth.hpp"
#include "app/client.hpp"
#include "app/db.hpp"
#include "core/schedule.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;
using protocol::error;

namespace {

constexpr auto tick_every = std::chrono::milliseconds(1000);
constexpr int max_live = 20'000;        // visits one process lists
constexpr int stream_batch = 5'000;     // changes read at once
constexpr core::Millis reload_after = 60'000;  // a reader this late may have missed trimmed changes
constexpr core::Millis stream_keep = 120'000;
constexpr core::Millis forget_budget_after = 60'000;

void fail(Client& c, protocol::Request const& req, store::Failure const& f) {
  auto o = to_outcome(f);
  c.send(protocol::encode_error(req.id, *o.error, o.message));
}

bool conflict(store::Failure const& f) {
  return f.kind == store::Failure::Kind::refused && f.refusal == core::Refusal::conflict;
}

// "2027-01-15" in the zone.
std::string day_of(core::Millis at, core::TimeZone const& zone) {
  auto t = core::local_time(at, zone);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", t.year, t.month, t.day);
  return buf;
}


// The invitation a chat answers: the visit's own, still on screen or
// accepted.
bool answers_invitation(core::Visit const& v, std::optional<std::string> const& id) {
  return id && !v.invitation_id.empty() && *id == v.invitation_id &&
         (v.invitation_state == "shown" || v.invitation_state == "accepted");
}

// The visit's facts joined to a chat's context (the page's own keys win);
// only the stage when all of it would pass the context's limit.
protocol::ConversationStart with_visit(protocol::ConversationStart start, core::Visit const& v) {
  std::error_code ec;
  auto parsed = json::parse(start.context_json, ec);
  json::object ctx = !ec && parsed.is_object() ? parsed.get_object() : json::object();
  auto original = ctx;
  if (!start.stage) start.stage = std::string(core::stage_of(v));
  ctx["stage"] = *start.stage;
  original["stage"] = *start.stage;
  if (!ctx.contains("page_url")) ctx["page_url"] = v.page_url;
  ctx["pages_seen"] = v.pages_seen;
  if (v.cart && !ctx.contains("cart")) {
    json::object cart;
    cart["items"] = v.cart->items;
    cart["value"] = v.cart->value;
    cart["currency"] = v.cart->currency;
    ctx["cart"] = std::move(cart);
  }
  if (answers_invitation(v, start.invitation_id)) {
    json::object inv;
    inv["id"] = v.invitation_id;
    inv["rule"] = v.invitation_rule;
    ctx["invitation"] = std::move(inv);
    if (!start.team && !v.invitation_team.empty()) start.team = v.invitation_team;
  } else {
    start.invitation_id.reset();
  }
  auto text = json::serialize(ctx);
  start.context_json = text.size() <= 4096 ? std::move(text) : json::serialize(original);
  return start;
}

using RuleCounts = std::map<std::string, std::map<std::string, std::int64_t>>;  // rule -> event -> count

void add_counts(RuleCounts& by_rule, std::map<std::string, std::int64_t> const& day) {
  for (auto const& [key, n] : day) {
    auto colon = key.rfind(':');
    if (colon == std::string::npos) continue;
    by_rule[key.substr(0, colon)][key.substr(colon + 1)] += n;
  }
}

json::object figures(std::map<std::string, std::int64_t> const& events) {
  auto count = [&](char const* e) {
    auto it = events.find(e);
    return it == events.end() ? std::int64_t{0} : it->second;
  };
  json::object o;
  auto shown = count("shown");
  o["shown"] = shown;
  o["dismissed"] = count("dismissed");
  o["accepted"] = count("accepted");
  o["chats"] = count("chat");
  o["chat_rate"] = shown ? json::value(static_cast<double>(count("chat")) / static_cast<double>(shown)) : nullptr;
  return o;
}

// Per rule, most shown first, and the totals.
json::object report_body(RuleCounts const& by_rule) {
  std::map<std::string, std::int64_t> all;
  std::vector<std::pair<std::int64_t, json::object>> rows;
  for (auto const& [rule, events] : by_rule) {
    for (auto const& [e, n] : events) all[e] += n;
    auto row = figures(events);
    row["rule"] = rule;
    rows.emplace_back(row["shown"].as_int64(), std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(), [](auto const& a, auto const& b) { return a.first > b.first; });
  json::array list;
  for (auto& r : rows) list.push_back(std::move(r.second));
  json::object out;
  out["rules"] = std::move(list);
  out["totals"] = figures(all);
  return out;
}

}  // namespace

Visitors::Visitors(Deps deps) : d_(std::move(deps)), periodic_(d_.executor, d_.store_up, "visitors") {}

void Visitors::start() {
  if (d_.config.enabled) periodic_.every(tick_every, this, &Visitors::tick);
}

void Visitors::stop() { periodic_.stop(); }

core::PresenceTimes Visitors::times() const {
  return {d_.config.quiet_s * 1000LL, d_.config.linger_s * 1000LL, d_.config.presence_ttl_s * 1000LL};
}

store::VisitWrite Visitors::how(core::Millis now, std::string const& rule, std::string_view event) const {
  store::VisitWrite w;
  w.retention = d_.config.retention_s * 1000LL;
  w.stream_keep = stream_keep;
  w.day = day_of(now, d_.zone);
  if (!rule.empty() && !event.empty()) w.counted = rule + ":" + std::string(event);
  return w;
}

// ------------------------------------------------------------ JSON

json::object Visitors::invitation_json(core::Visit const& v) {
  json::object inv;
  inv["invitation_id"] = v.invitation_id;
  inv["text"] = v.invitation_text;
  inv["rule"] = v.invitation_rule;
  inv["team"] = v.invitation_team;
  json::object from;
  from["role"] = v.invitation_from_id.empty() ? "team" : "agent";
  if (!v.invitation_from_id.empty()) from["id"] = v.invitation_from_id;
  from["name"] = v.invitation_from_name;
  inv["from"] = std::move(from);
  inv["ts"] = v.invited_at;
  return inv;
}

json::object Visitors::to_json(core::Visit const& v) {
  json::object o;
  o["visitor_id"] = v.visitor_id;
  o["name"] = v.name;
  o["identified"] = v.identified;
  o["page_url"] = v.page_url;
  o["page_title"] = v.page_title;
  o["referrer"] = text_or_null(v.referrer);
  o["visit_started_at"] = v.visit_started_at;
  o["page_started_at"] = v.page_started_at;
  o["last_seen"] = v.last_seen;
  o["pages_seen"] = v.pages_seen;
  o["in_checkout"] = v.in_checkout;
  if (v.cart) {
    json::object cart;
    cart["items"] = v.cart->items;
    cart["value"] = v.cart->value;
    cart["currency"] = v.cart->currency;
    o["cart"] = std::move(cart);
  } else {
    o["cart"] = nullptr;
  }
  o["purchased"] = v.purchased;
  o["returning"] = v.returning;
  o["connected"] = v.connections > 0;
  if (v.invitation_id.empty()) {
    o["invitation"] = nullptr;
  } else {
    json::object inv;
    inv["id"] = v.invitation_id;
    inv["rule"] = v.invitation_rule;
    inv["state"] = v.invitation_state;
    o["invitation"] = std::move(inv);
  }
  o["dismissed"] = v.dismissed;
  o["conversation_id"] = text_or_null(v.conversation_id);
  return o;
}

// ------------------------------------------------------------ the widget

bool Visitors::admit(Client& c, protocol::Request const& req, core::Millis now) {
  auto [it, added] = local_.try_emplace(
      c.user_id(), Local{0,
                         core::PageBudget(d_.config.page_events_per_min, d_.config.page_events_burst,
                                          d_.config.page_events_burst * 2, now),
                         now});
  switch (it->second.budget.take(now)) {
    case core::PageBudget::Answer::accept: return true;
    case core::PageBudget::Answer::refuse:
      c.send(protocol::encode_error(req.id, error::rate_limited, "too many page events: slow down"));
      return false;
    case core::PageBudget::Answer::cut_off:
      spdlog::warn("ws {}: closed for flooding page events", c.id());
      c.send(protocol::encode_error(req.id, error::rate_limited, "too many page events: disconnected"));
      c.close(protocol::close_code::flood, "flood");
      return false;
  }
  return false;
}

asio::awaitable<void> Visitors::page(Client& c, protocol::Request const& req, protocol::VisitorPage const& p) {
  if (!d_.config.enabled) {
    c.send(protocol::encode_error(req.id, error::forbidden, "visitor tracking is turned off on this server"));
    co_return;
  }
  auto now = d_.clock.now();
  if (!admit(c, req, now)) co_return;
  if (!tabs_.count(c.id())) {
    tabs_[c.id()].visitor_id = c.user_id();
    auto verified = co_await d_.store.verified(c.user_id());
    auto tab = tabs_.find(c.id());
    if (tab == tabs_.end()) co_return;  // closed meanwhile
    tab->second.identified = verified && *verified;
  }
  core::PageView view;
  view.visitor_id = c.user_id();
  view.name = c.name();
  view.url = p.url;
  view.title = p.title;
  view.referrer = p.referrer;
  view.in_checkout = core::in_checkout(p.url, d_.config.checkout_paths);
  view.new_visit_id = random_id("vs_");
  for (int attempt = 0;; ++attempt) {
    auto tab = tabs_.find(c.id());
    if (tab == tabs_.end()) co_return;
    view.new_tab = !tab->second.counted;
    view.identified = tab->second.identified;
    auto stored = co_await d_.store.get(c.user_id());
    if (!stored) co_return fail(c, req, stored.failure());
    std::int64_t expected = *stored ? (*stored)->rev : 0;
    auto written = co_await d_.store.write(core::on_page(*stored, view, times(), now), expected, how(now, "", ""));
    if (!written && conflict(written.failure()) && attempt < 3) continue;
    if (!written) co_return fail(c, req, written.failure());
    if (view.new_tab) {
      auto counted = tabs_.find(c.id());
      if (counted == tabs_.end()) {  // the socket closed while this was written
        co_await left(c.user_id());
        co_return;
      }
      counted->second.counted = true;
      if (auto local = local_.find(c.user_id()); local != local_.end()) local->second.tabs += 1;
    }
    live_.put(*written);
    json::object result;
    result["visit_id"] = written->visit_id;
    result["pages_seen"] = written->pages_seen;
    if (written->invitation_state == "shown") result["invitation"] = invitation_json(*written);
    else result["invitation"] = nullptr;
    c.send(protocol::encode_ack(req.id, std::move(result)));
    co_return;
  }
}

asio::awaitable<void> Visitors::track(Client& c, protocol::Request const& req, protocol::VisitorTrack const& t) {
  if (!d_.config.enabled) {
    c.send(protocol::encode_error(req.id, error::forbidden, "visitor tracking is turned off on this server"));
    co_return;
  }
  auto now = d_.clock.now();
  if (!admit(c, req, now)) co_return;
  auto tab = tabs_.find(c.id());
  if (tab == tabs_.end() || !tab->second.counted) {
    c.send(protocol::encode_error(req.id, error::conflict, "report the page first (visitor.page)"));
    co_return;
  }
  for (int attempt = 0;; ++attempt) {
    auto stored = co_await d_.store.get(c.user_id());
    if (!stored) co_return fail(c, req, stored.failure());
    if (!*stored || (*stored)->page_url.empty()) {
      c.send(protocol::encode_error(req.id, error::conflict, "report the page first (visitor.page)"));
      co_return;
    }
    core::Visit next = t.cart ? core::on_cart(**stored, *t.cart, times(), now) : core::on_purchase(**stored, times(), now);
    auto written = co_await d_.store.write(next, (*stored)->rev, how(now, "", ""));
    if (!written && conflict(written.failure()) && attempt < 3) continue;
    if (!written) co_return fail(c, req, written.failure());
    live_.put(*written);
    json::object result;
    result["event"] = t.event;
    c.send(protocol::encode_ack(req.id, std::move(result)));
    co_return;
  }
}

asio::awaitable<void> Visitors::answer(Client& c, protocol::Request const& req, protocol::InvitationAnswer const& a) {
  auto now = d_.clock.now();
  std::string_view event = a.accepted ? "accepted" : "dismissed";
  for (int attempt = 0;; ++attempt) {
    auto stored = co_await d_.store.get(c.user_id());
    if (!stored) co_return fail(c, req, stored.failure());
    if (!*stored || (*stored)->invitation_id != a.invitation_id) {
      c.send(protocol::encode_error(req.id, error::not_found, "no such invitation"));
      co_return;
    }
    auto next = core::on_answer(**stored, a.invitation_id, a.accepted);
    if (!next) {
      c.send(protocol::encode_error(req.id, error::conflict, "this invitation was answered already"));
      co_return;
    }
    auto written = co_await d_.store.write(*next, (*stored)->rev, how(now, next->invitation_rule, event));
    if (!written && conflict(written.failure()) && attempt < 3) continue;
    if (!written) co_return fail(c, req, written.failure());
    live_.put(*written);
    if (d_.counted) d_.counted(event);
    json::object result;
    result["invitation_id"] = a.invitation_id;
    result["state"] = written->invitation_state;
    result["team"] = written->invitation_team;
    c.send(protocol::encode_ack(req.id, std::move(result)));
    // Every tab of the visitor puts it away.
    json::object ev;
    ev["invitation_id"] = a.invitation_id;
    ev["reason"] = event;
    d_.publisher.publish({"u:" + c.user_id()}, protocol::encode_event("invitation.closed", std::move(ev)));
    co_return;
  }
}

void Visitors::closed(Client& c) {
  std::erase_if(subscribers_, [&](Subscriber const& s) { return s.session == c.id(); });
  auto tab = tabs_.find(c.id());
  if (tab == tabs_.end()) return;
  auto visitor = tab->second.visitor_id;
  bool counted = tab->second.counted;
  tabs_.erase(tab);
  if (!counted) return;
  if (auto local = local_.find(visitor); local != local_.end() && --local->second.tabs <= 0) {
    local->second.tabs = 0;
    local->second.empty_since = d_.clock.now();
  }
  asio::co_spawn(d_.executor, left(std::move(visitor)), asio::detached);
}

asio::awaitable<void> Visitors::left(std::string visitor_id) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto now = d_.clock.now();
    auto stored = co_await d_.store.get(visitor_id);
    if (!stored || !*stored || (*stored)->connections <= 0) co_return;
    auto written = co_await d_.store.write(core::on_tab_closed(**stored, times(), now), (*stored)->rev, how(now, "", ""));
    if (written) {
      live_.put(*written);
      co_return;
    }
    if (!conflict(written.failure())) {
      spdlog::warn("visitors: a closed tab of {} was not recorded: {}", visitor_id, written.failure().message);
      co_return;
    }
  }
}

// ------------------------------------------------------------ invitations

asio::awaitable<store::Result<core::Visit>> Visitors::make_invitation(core::Visit visit, core::Invitation inv) {
  auto now = d_.clock.now();
  auto next = core::on_invited(visit, inv, now);
  auto written = co_await d_.store.write(next, visit.rev, how(now, inv.rule, "shown"));
  if (!written) co_return written;
  live_.put(*written);
  if (d_.counted) d_.counted("shown");
  d_.publisher.publish({"u:" + written->visitor_id}, protocol::encode_event("invitation", invitation_json(*written)));
  co_return written;
}

std::vector<Visitors::Due> Visitors::due_invitations(core::Millis now) const {
  std::vector<Due> out;
  core::InvitationLimits limits{d_.invitations.per_visit, d_.invitations.min_gap_s * 1000LL};
  auto const& rules = d_.invitations.rules;
  for (auto const& [id, local] : local_) {
    if (local.tabs <= 0) continue;
    auto const* v = live_.find(id);
    if (!v || core::may_invite(*v, limits, now) != core::InviteBlock::none) continue;
    for (std::size_t r = 0; r < rules.size(); ++r) {
      if (!core::rule_matches(rules[r], *v, now)) continue;
      auto team = rules[r].team.empty() ? d_.default_team : rules[r].team;
      if (rules[r].business_hours) {
        auto hours = d_.teams.find(team);
        if (hours != d_.teams.end() && !core::is_open(hours->second.business, hours->second.zone, now)) continue;
      }
      out.push_back(Due{*v, r, std::move(team)});
      break;
    }
  }
  return out;
}

asio::awaitable<void> Visitors::invite_by_rules(core::Millis now) {
  if (!d_.invitations.enabled || d_.invitations.rules.empty()) co_return;
  auto due = due_invitations(now);
  std::map<std::string, bool> online;  // asked once a tick per team
  for (std::size_t i = 0; i < due.size(); ++i) {
    auto const& rule = d_.invitations.rules[due[i].rule];
    if (rule.team_online) {
      auto known = online.find(due[i].team);
      if (known == online.end()) {
        auto up = co_await d_.store.team_online(due[i].team);
        known = online.emplace(due[i].team, up && *up).first;
      }
      if (!known->second) continue;
    }
    core::Invitation inv{random_id("i_"), rule.name, rule.text, due[i].team, "", ""};
    auto made = co_await make_invitation(due[i].visit, std::move(inv));
    if (!made && !conflict(made.failure()))
      spdlog::warn("visitors: no invitation for {}: {}", due[i].visit.visitor_id, made.failure().message);
  }
}

asio::awaitable<void> Visitors::invite(Client& c, protocol::Request const& req, protocol::VisitorInvite const& i) {
  if (!d_.config.enabled || !d_.invitations.enabled) {
    c.send(protocol::encode_error(req.id, error::forbidden, "invitations are turned off on this server"));
    co_return;
  }
  core::InvitationLimits limits{d_.invitations.per_visit, d_.invitations.min_gap_s * 1000LL};
  std::string team = c.teams().empty() ? d_.default_team : c.teams().front();
  std::string text = i.text.value_or(d_.invitations.manual_text);
  for (int attempt = 0;; ++attempt) {
    auto now = d_.clock.now();
    auto stored = co_await d_.store.get(i.visitor_id);
    if (!stored) co_return fail(c, req, stored.failure());
    auto block = *stored ? core::may_invite(**stored, limits, now) : core::InviteBlock::gone;
    switch (block) {
      case core::InviteBlock::none: break;
      case core::InviteBlock::tracking:
      case core::InviteBlock::gone:
        c.send(protocol::encode_error(req.id, error::not_found, "this visitor is not on the site now"));
        co_return;
      case core::InviteBlock::dismissed:
        c.send(protocol::encode_error(req.id, error::conflict,
                                      "this visitor dismissed an invitation in this visit: they are not asked again"));
        co_return;
      case core::InviteBlock::chatting:
        c.send(protocol::encode_error(req.id, error::conflict, "this visitor already started a chat in this visit"));
        co_return;
      case core::InviteBlock::pending:
        c.send(protocol::encode_error(req.id, error::conflict, "an invitation is on this visitor's screen now"));
        co_return;
      case core::InviteBlock::per_visit:
      case core::InviteBlock::too_soon:
        c.send(protocol::encode_error(req.id, error::rate_limited, "this visitor was invited recently"));
        co_return;
    }
    core::Invitation inv{random_id("i_"), "manual", text, team, c.user_id(), c.name()};
    auto made = co_await make_invitation(**stored, inv);
    if (!made && conflict(made.failure()) && attempt < 3) continue;
    if (!made) co_return fail(c, req, made.failure());
    json::object result;
    result["invitation_id"] = made->invitation_id;
    result["visitor_id"] = i.visitor_id;
    c.send(protocol::encode_ack(req.id, std::move(result)));
    co_return;
  }
}

// ------------------------------------------------------------ chats

asio::awaitable<protocol::ConversationStart> Visitors::enrich(std::string visitor_id, protocol::ConversationStart start) {
  if (!d_.config.enabled) co_return start;
  auto stored = co_await d_.store.get(visitor_id);
  if (!stored || !*stored) co_return start;
  auto const& v = **stored;
  if (v.page_url.empty() || !core::visit_continues(v, d_.clock.now(), d_.config.quiet_s * 1000LL)) co_return start;
  co_return with_visit(std::move(start), v);
}

asio::awaitable<void> Visitors::started(std::string visitor_id, std::string conversation_id,
                                        std::optional<std::string> invitation_id) {
  if (!d_.config.enabled) co_return;
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto now = d_.clock.now();
    auto stored = co_await d_.store.get(visitor_id);
    if (!stored || !*stored) co_return;
    auto const& v = **stored;
    bool from_invitation = answers_invitation(v, invitation_id);
    if (!from_invitation && !core::visit_continues(v, now, d_.config.quiet_s * 1000LL)) co_return;
    std::string rule = from_invitation ? v.invitation_rule : std::string();
    auto written = co_await d_.store.write(core::on_chat(v, conversation_id, from_invitation), v.rev,
                                           how(now, rule, "chat"));
    if (!written && conflict(written.failure())) continue;
    if (!written) co_return;
    live_.put(*written);
    if (!from_invitation) co_return;
    if (d_.counted) d_.counted("chat");
    json::object ev;
    ev["invitation_id"] = written->invitation_id;
    ev["reason"] = "chat";
    d_.publisher.publish({"u:" + visitor_id}, protocol::encode_event("invitation.closed", std::move(ev)));
    co_return;
  }
}

// ------------------------------------------------------------ the live list

void Visitors::subscribe(Client& c, protocol::Request const& req, protocol::VisitorsSubscribe const& s) {
  if (!d_.config.enabled) {
    c.send(protocol::encode_error(req.id, error::forbidden, "visitor tracking is turned off on this server"));
    return;
  }
  std::erase_if(subscribers_, [&](Subscriber const& x) { return x.session == c.id(); });
  Subscriber sub;
  sub.client = c.shared_from_this();
  sub.session = c.id();
  sub.filter = s.filter;
  sub.limit = static_cast<std::size_t>(s.limit);
  subscribers_.push_back(std::move(sub));
  c.send(protocol::encode_ack(req.id));
  if (loaded_) send_views(d_.clock.now(), true);
}

void Visitors::unsubscribe(Client& c, protocol::Request const& req) {
  std::erase_if(subscribers_, [&](Subscriber const& x) { return x.session == c.id(); });
  c.send(protocol::encode_ack(req.id));
}

void Visitors::absorb(store::VisitChanges const& changes) {
  for (auto const& change : changes.changes) {
    if (change.visit) live_.put(*change.visit);
    else live_.remove(change.gone);
  }
}

// What each console lacks of its view, in one frame: the whole view for a
// new subscriber, else the rows that changed and the ids that left.
void Visitors::send_views(core::Millis now, bool only_new) {
  bool moved = live_.generation() != shown_generation_;
  std::erase_if(subscribers_, [](Subscriber const& s) { return s.client.expired(); });
  for (auto& s : subscribers_) {
    if (only_new && !s.full) continue;
    if (!s.full && !moved) continue;
    auto client = s.client.lock();
    if (s.full) {
      s.held.clear();
      s.held_total = static_cast<std::size_t>(-1);
    }
    auto d = core::diff(core::view(live_, s.filter, s.limit), s.held, s.held_total);
    if (!s.full && d.empty()) continue;
    json::array rows;
    for (auto const* v : d.changed) rows.push_back(to_json(*v));
    json::array gone;
    for (auto const& id : d.gone) gone.push_back(json::value(id));
    json::object ev;
    ev["full"] = s.full;
    ev["total"] = d.total;
    ev["visitors"] = std::move(rows);
    ev["gone"] = std::move(gone);
    ev["server_time"] = now;
    client->send(protocol::encode_event("visitors.update", std::move(ev)));
    s.full = false;
  }
  if (!only_new) shown_generation_ = live_.generation();
}

// ------------------------------------------------------------ every second

asio::awaitable<void> Visitors::load() {
  auto snap = co_await d_.store.live(max_live);
  if (!snap) co_return;
  live_ = core::LiveVisitors{};
  absorb(*snap);
  cursor_ = snap->last_id;
  loaded_ = true;
  for (auto& s : subscribers_) s.full = true;
}

std::vector<std::pair<std::string, core::Millis>> Visitors::open_tabs_until(core::Millis now) const {
  std::vector<std::pair<std::string, core::Millis>> until;
  auto t = times();
  for (auto const& [id, local] : local_) {
    if (local.tabs <= 0) continue;
    if (auto const* v = live_.find(id); v && v->connections > 0)
      until.emplace_back(id, std::min(v->last_seen + t.quiet, now + t.ttl));
  }
  return until;
}

asio::awaitable<void> Visitors::keep_tabs_live(core::Millis now) {
  auto until = open_tabs_until(now);
  auto kept = co_await d_.store.keep_live(until);
  if (!kept) spdlog::warn("visitors: could not keep open tabs listed: {}", kept.failure().message);
}

asio::awaitable<void> Visitors::tick() {
  auto now = d_.clock.now();
  if (!loaded_ || now - last_read_ > reload_after) {
    co_await load();
  } else {
    for (int round = 0; round < 10; ++round) {
      auto changes = co_await d_.store.changes(cursor_, stream_batch);
      if (!changes) co_return;
      absorb(*changes);
      cursor_ = changes->last_id;
      if (changes->changes.size() < static_cast<std::size_t>(stream_batch)) break;
    }
  }
  if (!loaded_) co_return;
  last_read_ = now;
  auto gone = co_await d_.store.expire(now, 1000, stream_keep);
  if (gone)
    for (std::size_t i = 0; i < gone->size(); ++i) live_.remove((*gone)[i]);
  co_await invite_by_rules(now);
  if (now - last_keep_ >= d_.config.presence_ttl_s * 1000LL / 3) {
    last_keep_ = now;
    co_await keep_tabs_live(now);
  }
  send_views(now, false);
  std::erase_if(local_, [now](auto const& kv) {
    return kv.second.tabs <= 0 && now - kv.second.empty_since > forget_budget_after;
  });
  if (d_.live_count) d_.live_count(live_.size());
}

// ------------------------------------------------------------ the report

asio::awaitable<net::HttpResponse> Visitors::report(Actor const& actor, Query const& query) {
  if (actor.role == core::Role::customer) co_return error_response(error::forbidden, "reports are for staff");
  auto now = d_.clock.now();
  auto day_at = [](std::string const& text) -> std::optional<core::Millis> {
    if (text.size() != 10) return std::nullopt;
    return core::parse_rfc3339(text + "T12:00:00Z");
  };
  auto to = query_value(query, "to").empty() ? std::optional<core::Millis>(now) : day_at(query_value(query, "to"));
  auto from = query_value(query, "from").empty() ? std::optional<core::Millis>(now - 6 * 86'400'000LL)
                                                 : day_at(query_value(query, "from"));
  if (!from || !to) co_return error_response(error::bad_request, "from and to are days, as 2027-01-15");
  if (*from > *to) co_return error_response(error::bad_request, "from is after to");
  if (*to - *from > 92 * 86'400'000LL) co_return error_response(error::bad_request, "at most 92 days at once");
  RuleCounts by_rule;
  std::string first = day_of(*from, d_.zone), last = day_of(*to, d_.zone);
  for (core::Millis at = *from;; at += 86'400'000LL) {
    auto day = day_of(at, d_.zone);
    if (day > last) break;
    auto counts = co_await d_.store.invitation_counts(day);
    if (!counts) co_return from_failure(counts.failure());
    add_counts(by_rule, *counts);
  }
  auto out = report_body(by_rule);
  out["from"] = first;
  out["to"] = last;
  co_return json_response(200, out);
}

}  // namespace exceed::app
