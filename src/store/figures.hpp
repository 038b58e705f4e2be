// The figures of the deployment in Redis, for supervisors and reports: the
// live gauges (one script, O(teams + agents)), the stream of samples every
// process's scripts append to (first responses, queue waits, breaches,
// assessments), the facts the summary report pages through, and the SLA
// counters. Reads only, but for the queue's point a minute that the live
// reading records (see lua/metrics_live.lua).
#pragma once

#include "core/metrics.hpp"
#include "store/db.hpp"
#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace exceed::store {

// One reading of the live gauges.
struct LiveReading {
  struct Team {
    std::string team;
    std::int64_t queue_length = 0;
    core::Millis oldest_created_at = 0;  // of the first chats in queue order; 0: none waits
    std::int64_t agents_online = 0, agents_available = 0, active_conversations = 0;
  };
  struct Agent {
    std::string id, name, teams_csv;
    std::string status;  // offline without a live session, whatever was set last
    std::int64_t active = 0, capacity = 0;
    bool available = false;
    std::int64_t followups_open = 0, followups_overdue = 0;
  };
  // The queue's point of one minute: its length and longest wait.
  struct Point {
    core::Millis minute = 0;
    std::int64_t queue_length = 0;
    core::Millis longest_wait = 0;
  };
  std::vector<Team> teams;    // by name
  std::vector<Agent> agents;  // each once, by team then id
  std::vector<Point> series;  // the last hour's minutes that were sampled, oldest first
  std::int64_t met_only_open = 0;      // the review list's length
  std::int64_t followups_overdue = 0;  // everyone's
};

// A page of the samples stream.
struct SamplePage {
  std::vector<core::Sample> samples;  // those of a known kind
  std::size_t entries = 0;            // every entry read, known or not
  std::string last_id;                // where the next page starts ("" when empty)
};

// A page of the conversations started in a period.
struct FactsPage {
  std::int64_t scanned = 0;  // conversations looked at (the page size when more may follow)
  std::vector<core::ConversationFacts> facts;  // those that matched the filters
};

struct FactsQuery {
  core::Millis from = 0, to = 0;
  std::int64_t offset = 0, count = 1000;
  std::string team, agent;  // "" = any
  std::string stage;        // "" = any, "none" = started without one
};

// Answers in time and late, per SLA metric (first_response, next_response,
// resolution): each metric is there, 0 when nothing was counted.
struct SlaCount {
  std::int64_t met = 0, breached = 0;
};
using SlaCounts = std::map<std::string, SlaCount>;

class FigureStore {
 public:
  explicit FigureStore(Db& db) : db_(db) {}

  // The gauges at `now`; the longest wait of a team is looked for among its
  // first `queue_scan` chats. The first reading of a minute records its point.
  boost::asio::awaitable<Result<LiveReading>> live(core::Millis now, int queue_scan);
  // Samples after the entry `after_id`, or (empty) from `since` on, at most `max`.
  boost::asio::awaitable<Result<SamplePage>> samples(std::string const& after_id, core::Millis since, int max);
  // One page of conversations started in [from, to] (lua/report_facts.lua).
  boost::asio::awaitable<Result<FactsPage>> report_facts(FactsQuery const& q);
  // A team's or agent's SLA counts; on a Redis Cluster (Keys::split) the
  // routing slot's (breaches, resolutions) and the talk buckets' (response
  // waits met) summed.
  boost::asio::awaitable<Result<SlaCounts>> sla_of_team(std::string const& team);
  boost::asio::awaitable<Result<SlaCounts>> sla_of_agent(std::string const& agent);

 private:
  boost::asio::awaitable<Result<SlaCounts>> sla(std::vector<std::string> keys);

  Db& db_;
};

}  // namespace exceed::store
