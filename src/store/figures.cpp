#include "store/figures.hpp"

#include "store/decode.hpp"
#include "store/scripts.hpp"

namespace exceed::store {
namespace asio = boost::asio;
namespace {

constexpr char const* sla_metrics[] = {"first_response", "next_response", "resolution"};

// {teams, agents, series, met_only_open, followups_overdue}: see lua/metrics_live.lua.
Result<LiveReading> live_reading_of(Reply const& reply) {
  Row top(reply, "metrics_live");
  auto const& teams = top.nested();
  auto const& agents = top.nested();
  auto const& series = top.nested();
  LiveReading out;
  out.met_only_open = top.integer();
  out.followups_overdue = top.integer();
  if (!top.ok()) return top.failure();

  Row t(teams, "metrics_live teams");
  while (t.ok() && !t.at_end()) {
    LiveReading::Team team;
    team.team = t.text();
    team.queue_length = t.integer();
    team.oldest_created_at = t.integer();
    team.agents_online = t.integer();
    team.agents_available = t.integer();
    team.active_conversations = t.integer();
    out.teams.push_back(std::move(team));
  }
  if (!t.ok()) return t.failure();

  Row a(agents, "metrics_live agents");
  while (a.ok() && !a.at_end()) {
    LiveReading::Agent agent;
    agent.id = a.text();
    agent.name = a.text();
    agent.teams_csv = a.text();
    agent.status = a.text();
    agent.active = a.integer();
    agent.capacity = a.integer();
    agent.available = a.integer() != 0;
    agent.followups_open = a.integer();
    agent.followups_overdue = a.integer();
    out.agents.push_back(std::move(agent));
  }
  if (!a.ok()) return a.failure();

  Row s(series, "metrics_live series");
  while (s.ok() && !s.at_end()) {
    LiveReading::Point p;
    p.minute = s.integer();
    p.queue_length = s.integer();
    p.longest_wait = s.integer();
    out.series.push_back(p);
  }
  if (!s.ok()) return s.failure();
  return out;
}

// A sample's fields (see metric_sample in lua/prelude.lua); nullopt for a
// kind this version does not know.
std::optional<core::Sample> sample_of(Fields const& f) {
  auto kind = f.text("k");
  core::Sample s{core::Sample::Kind::first_response, 0, "", "", "", 0, "", ""};
  if (kind == "fr") s.kind = core::Sample::Kind::first_response;
  else if (kind == "qw") s.kind = core::Sample::Kind::queue_wait;
  else if (kind == "breach") s.kind = core::Sample::Kind::sla_breach;
  else if (kind == "assess") s.kind = core::Sample::Kind::assessed;
  else return std::nullopt;
  s.at = f.integer("at");
  s.conversation = f.text("c");
  s.team = f.text("t");
  s.agent = f.text("a");
  auto v = f.text("v");
  if (s.kind == core::Sample::Kind::sla_breach) s.metric = v;
  else if (s.kind == core::Sample::Kind::assessed) s.level = v;
  else s.value = f.integer("v");
  return s;
}

// An XRANGE page of the samples stream: [[id, [field, value, ...]], ...].
Result<SamplePage> sample_page_of(Reply const& reply) {
  Row entries(reply, "metric samples");
  SamplePage out;
  while (entries.ok() && !entries.at_end()) {
    Row entry(entries.nested(), "metric sample");
    auto id = entry.text();
    auto const& body = entry.nested();
    if (!entry.ok()) return entry.failure();
    auto fields = Fields::read(body, "metric sample");
    if (!fields) return fields.failure();
    if (auto s = sample_of(*fields)) out.samples.push_back(std::move(*s));
    out.last_id = std::move(id);
    ++out.entries;
  }
  if (!entries.ok()) return entries.failure();
  return out;
}

// {scanned, row, row, ...}, each row report_facts.lua's FIELDS in order.
Result<FactsPage> facts_page_of(Reply const& reply) {
  Row row(reply, "report_facts");
  FactsPage out;
  out.scanned = row.integer();
  while (row.ok() && !row.at_end()) {
    core::ConversationFacts f;
    f.id = row.text();
    f.team = row.text();
    f.agent = row.text();
    f.started = parse_integer(row.text()).value_or(0);
    f.first_customer = parse_integer(row.text()).value_or(0);
    f.assigned = parse_integer(row.text()).value_or(0);
    f.first_response = parse_integer(row.text()).value_or(0);
    f.resolved = parse_integer(row.text()).value_or(0);
    auto status = row.text();
    f.ended = status == "resolved" || status == "ticket";
    f.ticketed_at_start = !row.text().empty();
    f.csat = static_cast<int>(parse_integer(row.text()).value_or(0));
    f.level = row.text();
    for (char const* metric : sla_metrics) {
      core::ConversationFacts::Outcome o{static_cast<int>(parse_integer(row.text()).value_or(0)),
                                         static_cast<int>(parse_integer(row.text()).value_or(0))};
      if (o.met || o.breached) f.sla[metric] = o;
    }
    f.low_confidence = row.text() == "low";
    f.stage = row.text();
    if (row.ok()) out.facts.push_back(std::move(f));
  }
  if (!row.ok()) return row.failure();
  return out;
}

}  // namespace

asio::awaitable<Result<LiveReading>> FigureStore::live(core::Millis now, int queue_scan) {
  auto r = co_await db_.call(db_.scripts().metrics_live, std::to_string(now), std::to_string(queue_scan));
  if (!r) co_return r.failure();
  co_return live_reading_of(*r);
}

asio::awaitable<Result<SamplePage>> FigureStore::samples(std::string const& after_id, core::Millis since, int max) {
  // "(" makes the start exclusive: the entry after the last one read.
  std::string start = after_id.empty() ? std::to_string(std::max<core::Millis>(0, since)) + "-0" : "(" + after_id;
  auto r = co_await db_.cmd("XRANGE", db_.keys().metric_samples(), start, "+", "COUNT", std::to_string(max));
  if (!r) co_return r.failure();
  co_return sample_page_of(*r);
}

asio::awaitable<Result<FactsPage>> FigureStore::report_facts(FactsQuery const& q) {
  auto r = co_await db_.call(db_.scripts().report_facts, std::to_string(q.from), std::to_string(q.to),
                             std::to_string(q.offset), std::to_string(q.count), q.team, q.agent, q.stage);
  if (!r) co_return r.failure();
  auto page = facts_page_of(*r);
  if (!page || !db_.keys().split() || page->facts.empty()) co_return page;
  // On a Redis Cluster a conversation's response waits met are counted on
  // its talk side (lua/send.lua); its breaches are on the record.
  std::vector<Args> reads;
  for (auto const& f : page->facts)
    reads.push_back(Args{"HMGET", db_.keys().talk(f.id), "out_first_response_met", "out_next_response_met"});
  auto replies = co_await db_.exec_all(std::move(reads));
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (!replies[i]) co_return replies[i].failure();
    auto const& e = replies[i]->elements;
    if (e.size() != 2) co_return Failure::protocol("report facts: HMGET of the talk side");
    auto& f = page->facts[i];
    char const* metrics[] = {"first_response", "next_response"};
    for (std::size_t j = 0; j < 2; ++j) {
      auto met = parse_integer(e[j].str).value_or(0);
      if (met > 0) f.sla[metrics[j]].met += static_cast<int>(met);
    }
  }
  co_return page;
}

asio::awaitable<Result<SlaCounts>> FigureStore::sla_of_team(std::string const& team) {
  std::vector<std::string> keys{db_.keys().sla_team(team)};
  if (db_.keys().split())
    for (int k = 0; k < Keys::talk_buckets; ++k) keys.push_back(db_.keys().bucket_sla_team(k, team));
  co_return co_await sla(std::move(keys));
}

asio::awaitable<Result<SlaCounts>> FigureStore::sla_of_agent(std::string const& agent) {
  std::vector<std::string> keys{db_.keys().sla_agent(agent)};
  if (db_.keys().split())
    for (int k = 0; k < Keys::talk_buckets; ++k) keys.push_back(db_.keys().bucket_sla_agent(k, agent));
  co_return co_await sla(std::move(keys));
}

asio::awaitable<Result<SlaCounts>> FigureStore::sla(std::vector<std::string> keys) {
  std::vector<Args> reads;
  reads.reserve(keys.size());
  for (auto& key : keys) reads.push_back(Args{"HGETALL", std::move(key)});
  auto replies = co_await db_.exec_all(std::move(reads));
  SlaCounts out;
  for (char const* metric : sla_metrics) out[metric] = SlaCount{0, 0};
  for (auto const& r : replies) {
    if (!r) co_return r.failure();
    auto fields = Fields::read(*r, "sla counts");
    if (!fields) co_return fields.failure();
    for (char const* metric : sla_metrics) {
      std::string m(metric);
      out[m].met += std::max<std::int64_t>(0, fields->integer(m + ".met"));
      out[m].breached += std::max<std::int64_t>(0, fields->integer(m + ".breached"));
    }
  }
  co_return out;
}

}  // namespace exceed::store
