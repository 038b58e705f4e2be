#include "core/metrics.hpp"

#include <algorithm>
#include <cmath>

namespace exceed::core {

Millis start_of_day(Millis at, TimeZone const& tz) {
  auto lt = local_time(at, tz);
  Millis local_ms_of_day = static_cast<Millis>(lt.minute_of_day) * 60'000 + ((at % 60'000) + 60'000) % 60'000;
  return at - local_ms_of_day;
}

// ------------------------------------------------------------------ live

void LiveWindow::add(Sample s) {
  newest_ = std::max(newest_, s.at);
  if (s.kind == Sample::Kind::assessed) {
    auto [it, fresh] = latest_assessment_.try_emplace(s.conversation, s.at);
    if (!fresh) {
      if (s.at < it->second) return;  // an older level arrived late: the newer one stands
      // The conversation's earlier level no longer counts.
      std::erase_if(samples_, [&](Sample const& o) {
        return o.kind == Sample::Kind::assessed && o.conversation == s.conversation;
      });
      it->second = s.at;
    }
  }
  // Keep time order; samples almost always arrive at the back.
  auto pos = std::upper_bound(samples_.begin(), samples_.end(), s.at,
                              [](Millis at, Sample const& o) { return at < o.at; });
  samples_.insert(pos, std::move(s));
  trim();
}

void LiveWindow::trim() {
  while (!samples_.empty() && samples_.front().at < newest_ - keep_) {
    auto const& f = samples_.front();
    if (f.kind == Sample::Kind::assessed) {
      auto it = latest_assessment_.find(f.conversation);
      if (it != latest_assessment_.end() && it->second == f.at) latest_assessment_.erase(it);
    }
    samples_.pop_front();
  }
}

namespace {
std::optional<double> rate(long long part, long long all) {
  if (all == 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(all);
}
}  // namespace

WindowFigures LiveWindow::figures(Millis now, Millis window, Millis day_start) const {
  WindowFigures out;
  out.window = window;
  Millis from = now - window;
  std::vector<Millis> fr, qw;
  std::map<std::string, std::vector<Millis>> fr_today;
  for (auto const& s : samples_) {
    if (s.at > now) break;
    bool in_window = s.at >= from;
    bool today = s.at >= day_start;
    switch (s.kind) {
      case Sample::Kind::first_response:
        if (in_window) fr.push_back(s.value);
        if (today && !s.agent.empty()) fr_today[s.agent].push_back(s.value);
        break;
      case Sample::Kind::queue_wait:
        if (in_window) qw.push_back(s.value);
        break;
      case Sample::Kind::sla_breach:
        if (in_window) ++out.sla_breaches;
        break;
      case Sample::Kind::assessed: {
        bool exceeded = s.level == "exceeded";
        if (in_window) {
          ++out.assessed;
          if (exceeded) ++out.exceeded;
        }
        if (today && !s.agent.empty()) {
          auto& a = out.agents_today[s.agent];
          ++a.assessed;
          if (exceeded) ++a.exceeded;
        }
        break;
      }
    }
  }
  out.first_response_p50 = percentile(fr, 50);
  out.first_response_p90 = percentile(fr, 90);
  out.queue_wait_p50 = percentile(qw, 50);
  out.queue_wait_p90 = percentile(std::move(qw), 90);
  out.exceeded_rate = rate(out.exceeded, out.assessed);
  for (auto& [agent, values] : fr_today) out.agents_today[agent].first_response_p50 = percentile(std::move(values), 50);
  for (auto& [agent, a] : out.agents_today) a.exceeded_rate = rate(a.exceeded, a.assessed);
  return out;
}

// ---------------------------------------------------------------- reports

std::optional<GroupBy> parse_group_by(std::string_view s) noexcept {
  if (s.empty() || s == "none") return GroupBy::none;
  if (s == "hour") return GroupBy::hour;
  if (s == "day") return GroupBy::day;
  if (s == "agent") return GroupBy::agent;
  if (s == "team") return GroupBy::team;
  if (s == "stage") return GroupBy::stage;
  return std::nullopt;
}

SummaryFigures summarize(std::vector<ConversationFacts> const& facts) {
  SummaryFigures out;
  for (char const* m : {"first_response", "next_response", "resolution"}) out.sla[m];
  std::vector<Millis> qw, fr, res;
  long long csat_sum = 0;
  for (auto const& f : facts) {
    ++out.started;
    if (f.ticketed_at_start) ++out.ticketed;
    if (f.first_response > 0) ++out.answered;
    else if (f.ended && !f.ticketed_at_start) ++out.missed;
    if (f.assigned > 0) qw.push_back(f.assigned - f.started);
    if (f.first_response > 0 && f.first_customer > 0) fr.push_back(f.first_response - f.first_customer);
    if (f.resolved > 0) res.push_back(f.resolved - f.started);
    for (auto const& [metric, o] : f.sla) {
      auto& a = out.sla[metric];
      a.met += o.met;
      a.breached += o.breached;
    }
    if (f.csat >= 1 && f.csat <= 5) {
      ++out.csat_count;
      csat_sum += f.csat;
      ++out.csat_distribution[static_cast<std::size_t>(f.csat - 1)];
    }
    if (f.level == "exceeded") ++out.exceeded;
    else if (f.level == "met") ++out.met;
    else if (f.level == "below") ++out.below;
    if (!f.level.empty() && f.low_confidence) ++out.low_confidence;
  }
  out.queue_wait_p50 = percentile(qw, 50);
  out.queue_wait_p90 = percentile(std::move(qw), 90);
  out.first_response_p50 = percentile(fr, 50);
  out.first_response_p90 = percentile(std::move(fr), 90);
  out.resolution_p50 = percentile(res, 50);
  out.resolution_p90 = percentile(std::move(res), 90);
  for (auto& [metric, a] : out.sla) a.rate = rate(a.met, a.met + a.breached);
  if (out.csat_count > 0) out.csat_average = static_cast<double>(csat_sum) / static_cast<double>(out.csat_count);
  return out;
}

namespace {
std::string group_key(ConversationFacts const& f, GroupBy by, TimeZone const& tz) {
  switch (by) {
    case GroupBy::none: return "all";
    case GroupBy::agent: return f.agent;
    case GroupBy::team: return f.team;
    case GroupBy::stage: return f.stage.empty() ? "none" : f.stage;
    case GroupBy::day: return local_time(f.started, tz).date();
    case GroupBy::hour: {
      auto lt = local_time(f.started, tz);
      int h = lt.minute_of_day / 60;
      return lt.date() + "T" + char('0' + h / 10) + char('0' + h % 10) + ":00";
    }
  }
  return "";
}
}  // namespace

std::vector<SummaryGroup> summarize_by(std::vector<ConversationFacts> const& facts, GroupBy by, TimeZone const& tz) {
  // Local dates and hours in ISO 8601 sort in time order as text.
  std::map<std::string, std::vector<ConversationFacts>> groups;
  for (auto const& f : facts) groups[group_key(f, by, tz)].push_back(f);
  std::vector<SummaryGroup> out;
  out.reserve(groups.size());
  for (auto const& [key, members] : groups) out.push_back({key, summarize(members)});
  return out;
}

}  // namespace exceed::core
