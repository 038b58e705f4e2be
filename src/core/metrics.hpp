// The figures supervisors run the floor from and reports are made of. Pure:
// samples and facts carry their own times; nothing here reads a clock.
//
// Two views of the same events:
// - LiveWindow keeps the samples of the last day as events happen (a first
//   response, a queue wait, a breach, an assessment) and answers the rolling
//   figures of the live `metrics` event without scanning conversations;
// - summarize() turns the facts of the conversations started in a period
//   into the figures of GET /api/v1/reports/summary.
// Percentiles are nearest-rank: the smallest value with at least p of the
// samples at or below it, so a figure is always one that was observed.
#pragma once

#include "core/consistency.hpp"  // percentile()
#include "core/domain.hpp"
#include "core/hours.hpp"

#include <array>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace exceed::core {

// The local midnight (in `tz`) that starts the day holding `at`.
Millis start_of_day(Millis at, TimeZone const& tz);

// ------------------------------------------------------------------ live

// One thing that happened, as the store records it for the live figures.
struct Sample {
  enum class Kind : std::uint8_t {
    first_response,  // value: first customer message -> first agent reply
    queue_wait,      // value: started -> first assigned
    sla_breach,      // metric: which target
    assessed,        // level: the conversation's (latest) level
  };
  Kind kind;
  Millis at = 0;
  std::string conversation;
  std::string team;
  std::string agent;
  Millis value = 0;
  std::string metric;  // sla_breach
  std::string level;   // assessed: exceeded | met | below
};

// Rolling figures over [now - window, now], and per agent since the start
// of the day.
struct WindowFigures {
  Millis window = 0;
  std::optional<Millis> first_response_p50, first_response_p90;
  std::optional<Millis> queue_wait_p50, queue_wait_p90;
  long long sla_breaches = 0;
  long long assessed = 0;
  long long exceeded = 0;
  std::optional<double> exceeded_rate;  // exceeded / assessed, empty when none assessed

  struct Agent {
    std::optional<Millis> first_response_p50;
    long long assessed = 0;
    long long exceeded = 0;
    std::optional<double> exceeded_rate;
  };
  std::map<std::string, Agent> agents_today;  // by agent id, only agents with a sample today
};

class LiveWindow {
 public:
  // Samples older than `keep` before the newest one seen are dropped (a day
  // plus the longest window is enough for every figure).
  explicit LiveWindow(Millis keep = 25 * 3600 * 1000LL) : keep_(keep) {}

  // Samples may arrive slightly out of time order (several processes write
  // them); a re-assessment replaces the conversation's earlier level.
  void add(Sample s);
  WindowFigures figures(Millis now, Millis window, Millis day_start) const;
  std::size_t size() const noexcept { return samples_.size(); }

 private:
  void trim();
  Millis keep_;
  Millis newest_ = 0;
  std::deque<Sample> samples_;
  // conversation -> the `at` of its latest assessment, so an earlier one is skipped.
  std::map<std::string, Millis> latest_assessment_;
};

// ---------------------------------------------------------------- reports

// What one conversation came to, read off its record. Times are absolute
// (0 = did not happen); SLA outcomes count each target met or breached.
struct ConversationFacts {
  std::string id;
  std::string team;
  std::string agent;          // the last agent assigned, empty if none
  Millis started = 0;         // created
  Millis first_customer = 0;  // the customer's first message
  Millis assigned = 0;        // first assigned to an agent
  Millis first_response = 0;  // the first agent reply
  Millis resolved = 0;
  bool ended = false;         // resolved, or kept as a ticket
  bool ticketed_at_start = false;  // nobody online or after hours: never queued
  struct Outcome {
    int met = 0;
    int breached = 0;
  };
  std::map<std::string, Outcome> sla;  // first_response, next_response, resolution
  int csat = 0;               // 1..5, 0 = none
  std::string level;          // exceeded | met | below, empty if not assessed
  bool low_confidence = false;  // assessed with nothing to go on (no CSAT, no word after the answer)
  std::string stage;            // pre_purchase | purchase | post_purchase, empty if none
};

struct SummaryFigures {
  long long started = 0;
  long long answered = 0;  // an agent replied
  long long missed = 0;    // queued, ended without any agent reply
  long long ticketed = 0;  // kept as a ticket at once (nobody online, after hours)
  std::optional<Millis> queue_wait_p50, queue_wait_p90;
  std::optional<Millis> first_response_p50, first_response_p90;
  std::optional<Millis> resolution_p50, resolution_p90;
  struct Attainment {
    long long met = 0;
    long long breached = 0;
    std::optional<double> rate;  // met / (met + breached)
  };
  std::map<std::string, Attainment> sla;  // every metric present, even with no sample
  long long csat_count = 0;
  std::optional<double> csat_average;
  std::array<long long, 5> csat_distribution{};  // ratings 1..5
  long long exceeded = 0, met = 0, below = 0;
  long long low_confidence = 0;  // of those assessed: judged with nothing to go on
};

enum class GroupBy : std::uint8_t { none, hour, day, agent, team, stage };
std::optional<GroupBy> parse_group_by(std::string_view s) noexcept;

struct SummaryGroup {
  std::string key;  // the hour or day (local, ISO 8601), the agent id or the team
  SummaryFigures figures;
};

SummaryFigures summarize(std::vector<ConversationFacts> const& facts);
// Groups in key order (hours and days in time order); a conversation
// belongs to the hour or day it started in, in `tz`.
std::vector<SummaryGroup> summarize_by(std::vector<ConversationFacts> const& facts, GroupBy by,
                                       TimeZone const& tz = TimeZone::utc());

}  // namespace exceed::core
