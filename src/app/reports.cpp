// GET /api/v1/reports/summary: what the conversations started in a period
// came to, in total and grouped by hour, day, agent or team, as JSON or
// (Accept: text/csv) CSV. The figures are core::summarize's over facts read
// off each conversation's record, page by page (reports/summary is asked
// for now and then; the live figures never scan, see app/metrics.hpp).
// GET /api/v1/reports/sla: attainment from the counters the scripts keep
// as answers come in time or late.
#include "app/reports.hpp"

#include "app/wire.hpp"
#include "core/metrics.hpp"
#include "core/schedule.hpp"

#include <boost/json/serialize.hpp>

#include <cstdio>
#include <iterator>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;
using protocol::error;

namespace {

constexpr long long page_size = 1000;
constexpr long long max_scanned = 500'000;
constexpr char const* metrics[] = {"first_response", "next_response", "resolution"};

// The stage a report is narrowed to: before, during or after a purchase,
// 'none' for the conversations started without one, '' for all.
bool stage_filter_ok(std::string const& stage) {
  return stage.empty() || stage == "pre_purchase" || stage == "purchase" || stage == "post_purchase" || stage == "none";
}

// "2026-11-22T10:00:00Z" or milliseconds since the epoch.
std::optional<core::Millis> parse_time(std::string const& text) {
  if (text.empty()) return std::nullopt;
  if (auto n = parse_number(text, 0, 253'402'300'799'999)) return *n;
  return core::parse_rfc3339(text);
}

json::object figures_json(core::SummaryFigures const& f) {
  json::object o;
  o["started"] = f.started;
  o["answered"] = f.answered;
  o["missed"] = f.missed;
  o["ticketed"] = f.ticketed;
  o["queue_wait_p50_s"] = seconds_or_null(f.queue_wait_p50);
  o["queue_wait_p90_s"] = seconds_or_null(f.queue_wait_p90);
  o["first_response_p50_s"] = seconds_or_null(f.first_response_p50);
  o["first_response_p90_s"] = seconds_or_null(f.first_response_p90);
  o["resolution_p50_s"] = seconds_or_null(f.resolution_p50);
  o["resolution_p90_s"] = seconds_or_null(f.resolution_p90);
  json::object sla;
  for (auto const& [metric, a] : f.sla) {
    json::object m;
    m["met"] = a.met;
    m["breached"] = a.breached;
    m["attainment"] = number_or_null(a.rate);
    sla[metric] = std::move(m);
  }
  o["sla"] = std::move(sla);
  json::object csat;
  csat["count"] = f.csat_count;
  csat["average"] = number_or_null(f.csat_average);
  json::object dist;
  for (int r = 1; r <= 5; ++r) dist[std::to_string(r)] = f.csat_distribution[static_cast<std::size_t>(r - 1)];
  csat["distribution"] = std::move(dist);
  o["csat"] = std::move(csat);
  json::object levels;
  levels["exceeded"] = f.exceeded;
  levels["met"] = f.met;
  levels["below"] = f.below;
  levels["low_confidence"] = f.low_confidence;
  o["assessments"] = std::move(levels);
  return o;
}

// ----------------------------------------------------------------- CSV

std::string csv_cell(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

std::string csv_number(std::optional<double> v) {
  if (!v) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", *v);
  std::string s(buf);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::optional<double> secs(std::optional<core::Millis> ms) {
  if (!ms) return std::nullopt;
  return static_cast<double>(*ms) / 1000.0;
}

std::string csv_header() {
  std::string h =
      "group,started,answered,missed,ticketed,queue_wait_p50_s,queue_wait_p90_s,first_response_p50_s,"
      "first_response_p90_s,resolution_p50_s,resolution_p90_s";
  for (char const* m : metrics) {
    h += ",sla_";
    h += m;
    h += "_met,sla_";
    h += m;
    h += "_breached,sla_";
    h += m;
    h += "_attainment";
  }
  h += ",csat_count,csat_average,csat_1,csat_2,csat_3,csat_4,csat_5,exceeded,met,below,low_confidence\r\n";
  return h;
}

std::string csv_row(std::string_view group, core::SummaryFigures const& f) {
  std::string r = csv_cell(group);
  auto add = [&](std::string const& cell) {
    r += ',';
    r += cell;
  };
  for (long long n : {f.started, f.answered, f.missed, f.ticketed}) add(std::to_string(n));
  for (auto const& p : {f.queue_wait_p50, f.queue_wait_p90, f.first_response_p50, f.first_response_p90,
                        f.resolution_p50, f.resolution_p90})
    add(csv_number(secs(p)));
  for (char const* m : metrics) {
    auto const& a = f.sla.at(m);
    add(std::to_string(a.met));
    add(std::to_string(a.breached));
    add(csv_number(a.rate));
  }
  add(std::to_string(f.csat_count));
  add(csv_number(f.csat_average));
  for (long long n : f.csat_distribution) add(std::to_string(n));
  for (long long n : {f.exceeded, f.met, f.below, f.low_confidence}) add(std::to_string(n));
  r += "\r\n";
  return r;
}

bool wants_csv(net::HttpRequest const& req, Query const& q) {
  if (query_value(q, "format") == "csv") return true;
  auto accept = req.header("Accept");
  return accept && accept->find("text/csv") != std::string_view::npos;
}

net::HttpResponse render(net::HttpRequest const& req, Query const& q, std::vector<core::ConversationFacts> const& facts,
                         core::GroupBy by, core::Millis from, core::Millis to, std::string const& team,
                         std::string const& agent, std::string const& stage, core::TimeZone const& tz) {
  auto totals = core::summarize(facts);
  std::vector<core::SummaryGroup> groups;
  if (by != core::GroupBy::none) groups = core::summarize_by(facts, by, tz);
  if (wants_csv(req, q)) {
    std::string body = csv_header();
    for (auto const& g : groups) body += csv_row(g.key, g.figures);
    body += csv_row("total", totals);
    net::HttpResponse r;
    r.content_type = "text/csv; charset=utf-8";
    r.body = std::move(body);
    r.headers.push_back({"Content-Disposition", "attachment; filename=\"exceed-summary.csv\""});
    secure_headers(r);
    return r;
  }
  json::object out;
  out["from"] = from;
  out["to"] = to;
  out["team"] = team.empty() ? json::value(nullptr) : json::value(team);
  out["agent"] = agent.empty() ? json::value(nullptr) : json::value(agent);
  out["stage"] = stage.empty() ? json::value(nullptr) : json::value(stage);
  static constexpr char const* names[] = {"none", "hour", "day", "agent", "team", "stage"};
  out["group_by"] = names[static_cast<int>(by)];
  out["totals"] = figures_json(totals);
  json::array rows;
  for (auto const& g : groups) {
    auto o = figures_json(g.figures);
    o["key"] = g.key;
    rows.push_back(std::move(o));
  }
  out["groups"] = std::move(rows);
  return json_response(200, out);
}

// Met, breached and the share met, per SLA metric.
json::object sla_attainment(store::SlaCounts const& counts) {
  json::object out;
  for (auto const& [metric, c] : counts) {
    json::object m;
    m["met"] = c.met;
    m["breached"] = c.breached;
    if (c.met + c.breached == 0) m["attainment_pct"] = nullptr;
    else m["attainment_pct"] = 100.0 * static_cast<double>(c.met) / static_cast<double>(c.met + c.breached);
    out[metric] = std::move(m);
  }
  return out;
}

}  // namespace

asio::awaitable<net::HttpResponse> Reports::summary(Actor const& actor, net::HttpRequest const& req, Query const& q) {
  if (actor.role == core::Role::customer) co_return error_response(error::forbidden, "reports are for staff");
  auto now = d_.clock.now();
  auto to = q.count("to") ? parse_time(query_value(q, "to")) : std::optional<core::Millis>(now);
  auto from = q.count("from") ? parse_time(query_value(q, "from")) : std::optional<core::Millis>(to ? *to - 86'400'000 : 0);
  if (!to) co_return error_response(error::bad_request, "'to' must be an RFC 3339 time or milliseconds");
  if (!from) co_return error_response(error::bad_request, "'from' must be an RFC 3339 time or milliseconds");
  if (*from > *to) co_return error_response(error::bad_request, "'from' is after 'to'");
  auto by = core::parse_group_by(query_value(q, "group_by"));
  if (!by) co_return error_response(error::bad_request, "group_by must be hour, day, agent, team or stage");
  std::string team = query_value(q, "team");
  std::string agent = query_value(q, "agent");
  std::string stage = query_value(q, "stage");
  if (!stage_filter_ok(stage))
    co_return error_response(error::bad_request, "stage must be pre_purchase, purchase, post_purchase or none");
  if (actor.role == core::Role::agent) {
    // Agents see their own figures.
    if (!agent.empty() && agent != actor.user_id)
      co_return error_response(error::forbidden, "agents see their own figures");
    agent = actor.user_id;
  }

  std::vector<core::ConversationFacts> facts;
  store::FactsQuery page_query{*from, *to, 0, page_size, team, agent, stage};
  for (;; page_query.offset += page_size) {
    if (page_query.offset >= max_scanned)
      co_return error_response(error::too_large, "more than 500000 conversations in the period: ask for a shorter one");
    auto page = co_await d_.store.report_facts(page_query);
    if (!page) co_return from_failure(page.failure());
    std::move(page->facts.begin(), page->facts.end(), std::back_inserter(facts));
    if (page->scanned < page_size) break;
  }
  co_return render(req, q, facts, *by, *from, *to, team, agent, stage, d_.config.zone);
}

// GET /api/v1/reports/sla?team=|agent=
asio::awaitable<net::HttpResponse> Reports::sla(Actor const& actor, Query const& q) {
  if (actor.role == core::Role::customer) co_return error_response(error::forbidden, "reports are for staff");
  std::string team = query_value(q, "team");
  std::string agent = query_value(q, "agent");
  if (team.empty() == agent.empty()) co_return error_response(error::bad_request, "give team or agent");
  if (actor.role == core::Role::agent && agent != actor.user_id)
    co_return error_response(error::forbidden, "agents see their own figures");
  // (Not a ?: of two co_awaits: g++ 12 mishandles class-typed temporaries there.)
  store::Result<store::SlaCounts> counts;
  if (team.empty()) counts = co_await d_.store.sla_of_agent(agent);
  else counts = co_await d_.store.sla_of_team(team);
  if (!counts) co_return from_failure(counts.failure());
  json::object out = sla_attainment(*counts);
  if (team.empty()) out["agent"] = agent;
  else out["team"] = team;
  co_return json_response(200, out);
}

}  // namespace exceed::app
