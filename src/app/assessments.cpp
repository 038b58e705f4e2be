#include "app/assessments.hpp"

#include "app/wire.hpp"
#include "core/assessment.hpp"
#include "core/consistency.hpp"
#include "core/response_clock.hpp"
#include "core/visitors.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;
using protocol::error;

constexpr int most_read = 5000;  // messages, comments, changes read for one assessment

namespace {

json::array reasons_json(std::vector<core::Reason> const& reasons) {
  json::array out;
  for (auto const& r : reasons) {
    json::object o{{"code", r.code}, {"value", r.value}, {"points", r.points}, {"text", r.text}};
    if (!r.evidence.empty()) o["evidence"] = r.evidence;
    out.push_back(std::move(o));
  }
  return out;
}

json::value ms_to_s(std::optional<core::Millis> ms) {
  return ms ? json::value(static_cast<double>(*ms) / 1000.0) : json::value(nullptr);
}

// The window and bucket of a report (defaults: the last 28 days, by day).
struct Window {
  core::Millis from = 0, to = 0, bucket = 86'400'000;
  std::string bucket_name = "day";
  std::string problem;
};
Window report_window(Query const& q, core::Millis now) {
  Window w;
  w.to = now;
  w.from = now - 28LL * 86'400'000;
  if (auto v = query_value(q, "to"); !v.empty()) {
    auto n = parse_number(v, 0, 1LL << 53);
    if (!n) w.problem = "to must be ms since the epoch";
    else w.to = *n;
  }
  if (auto v = query_value(q, "from"); !v.empty()) {
    auto n = parse_number(v, 0, 1LL << 53);
    if (!n) w.problem = "from must be ms since the epoch";
    else w.from = *n;
  }
  if (w.problem.empty() && w.from > w.to) w.problem = "from must not be after to";
  if (auto v = query_value(q, "bucket"); !v.empty()) {
    if (v == "week") {
      w.bucket = 7 * 86'400'000LL;
      w.bucket_name = "week";
    } else if (v != "day") {
      w.problem = "bucket must be day or week";
    }
  }
  return w;
}

json::object consistency_json(core::Consistency const& c, std::string const& team, std::string const& agent,
                              core::Millis from, core::Millis to, std::string const& bucket) {
  json::object out;
  if (!team.empty()) out["team"] = team;
  if (!agent.empty()) out["agent"] = agent;
  out["from"] = from;
  out["to"] = to;
  out["bucket"] = bucket;
  out["conversations"] = c.conversations;
  out["exceeded_share"] = c.exceeded_share;
  out["met_share"] = c.met_share;
  out["below_share"] = c.below_share;
  out["spread"] = json::object{{"stddev", c.spread_stddev}, {"min", c.spread_min}, {"max", c.spread_max}};
  json::array buckets;
  for (auto const& b : c.buckets)
    buckets.push_back(json::object{{"start", b.start}, {"conversations", b.conversations}, {"exceeded", b.exceeded},
                                   {"met", b.met}, {"below", b.below}, {"exceeded_share", b.exceeded_share}});
  out["buckets"] = std::move(buckets);
  out["first_response_p50_s"] = ms_to_s(c.first_response_p50);
  out["first_response_p90_s"] = ms_to_s(c.first_response_p90);
  return out;
}

json::object assessment_json(core::Assessment const& a, std::string const& policy, core::Millis now,
                             std::string const& trigger) {
  json::object out;
  out["level"] = core::to_string(a.level);
  out["score"] = a.score;
  out["by_customer"] = a.by_customer;
  out["confidence"] = core::to_string(a.confidence);
  out["check_in"] = a.check_in;
  json::array hard;
  for (auto const& r : a.hard_failures) hard.push_back(json::value(r.code));
  out["hard_failures"] = std::move(hard);
  out["reasons"] = reasons_json(a.reasons);
  out["would_have_exceeded"] = reasons_json(a.would_have_exceeded);
  out["sla_policy"] = policy;
  out["assessed_at"] = now;
  out["trigger"] = trigger;
  return out;
}

json::object times_json(core::ResponseTimes const& times) {
  json::object t;
  t["queue_wait_s"] = ms_to_s(times.queue_wait);
  t["first_response_s"] = ms_to_s(times.first_response);
  json::array next;
  for (auto ms : times.next_responses) next.push_back(static_cast<double>(ms) / 1000.0);
  t["next_responses_s"] = std::move(next);
  t["handle_time_s"] = ms_to_s(times.handle_time);
  t["resolution_s"] = ms_to_s(times.resolution);
  t["first_response_business_s"] = ms_to_s(times.first_response_business);
  t["resolution_business_s"] = ms_to_s(times.resolution_business);
  t["reopens"] = times.reopens;
  return t;
}


// The business hours a team's clock runs on (always open when not configured).
struct TeamClock {
  core::BusinessHours hours;
  core::TimeZone zone = core::TimeZone::utc();
};
TeamClock team_clock(Config const& cfg, std::string const& team) {
  TeamClock c;
  if (auto it = cfg.teams.find(team); it != cfg.teams.end()) {
    c.hours = it->second.business;
    c.zone = it->second.zone;
  }
  return c;
}

// The customer's CSAT parts and the facts people gave, as the core reads them.
void read_answers(store::Facts const& f, core::ChatRecord& record) {
  record.rating = f.csat.rating;
  record.expectation = core::parse_level(f.csat.expectation);
  record.comment = f.csat.comment;
  if (!f.csat.solved.empty()) record.customer_solved = f.csat.solved == "yes";
  record.outcome = core::parse_outcome(f.outcome);
  record.went_beyond = f.went_beyond;
}

// A resolved conversation as the core judges it (a plain function: g++ 12
// mishandles class-typed range-for variables in coroutines).
core::ChatRecord chat_record(store::Conversation const& c, std::vector<store::Message> const& messages,
                             std::vector<store::Followup> const& followups) {
  core::ChatRecord record;
  record.created_at = c.created_at;
  record.assigned_at = c.assigned_at;
  record.resolved_at = c.resolved_at.value_or(0);
  for (auto const& m : messages) {
    bool customer = m.role == "customer";
    if (!customer && m.role != "agent" && m.role != "supervisor") continue;
    record.lines.push_back({customer, customer ? std::string() : m.sender_id, m.ts, m.text});
  }
  record.transfers = c.transfers;
  for (auto const& f : followups)
    if (f.status == "done" && f.done_at.value_or(0) >= record.resolved_at) record.followup_done = true;
  read_answers(c.facts, record);
  return record;
}

// A solved ticket as the core judges it, and its clock: its public comments
// and status changes replayed (a reopened ticket keeps every round).
struct TicketCase {
  core::ChatRecord record;
  std::vector<core::ClockEvent> clock;
};
TicketCase ticket_case(store::TicketStory const& t) {
  using K = core::ClockEvent::Kind;
  TicketCase out;
  out.clock.push_back({K::started, t.created_at});
  // A chat kept as a ticket began with the customer's message in the chat.
  if (t.via == "chat") out.clock.push_back({K::customer_message, t.created_at});
  int assignments = 0;
  for (auto const& e : t.changes) {
    if (e.what == "assignee" && !e.to.empty()) {
      if (assignments++ == 0) out.clock.push_back({K::assigned, e.ts});
    } else if (e.what == "status") {
      if (e.to == "solved") out.clock.push_back({K::resolved, e.ts});
      if (e.from == "solved" && e.to == "open") out.clock.push_back({K::reopened, e.ts});
    }
  }
  for (auto const& c : t.comments) {
    if (!c.is_public) continue;  // notes are not answers
    out.clock.push_back({c.customer ? K::customer_message : K::agent_reply, c.ts});
    out.record.lines.push_back({c.customer, c.customer ? std::string() : c.author_id, c.ts, c.text});
  }
  std::stable_sort(out.clock.begin(), out.clock.end(), [](auto const& a, auto const& b) { return a.at < b.at; });
  out.record.transfers = std::max(0, assignments - 1);
  return out;
}

json::object agent_json(store::Conversation const& c) {
  return json::object{{"id", c.agent}, {"name", c.agent_name}};
}

// Does the filter of a review list keep this item? (team, agent, level, reason)
bool review_matches(Query const& q, store::AssessedRecord const& r, json::object const& assessment) {
  auto const& c = r.conversation;
  auto level = query_value(q, "level");
  auto team = query_value(q, "team");
  auto agent = query_value(q, "agent");
  auto reason = query_value(q, "reason");
  std::string stored_level(r.level ? core::to_string(*r.level) : std::string_view());
  if ((!level.empty() && stored_level != level) || (!team.empty() && c.team != team) ||
      (!agent.empty() && c.agent != agent) || !core::stage_matches(query_value(q, "stage"), c.stage))
    return false;
  if (reason.empty()) return true;
  auto const& rs = assessment.at("reasons").as_array();
  return std::any_of(rs.begin(), rs.end(), [&](auto const& x) { return x.at("code").as_string() == reason; });
}

// One item of the review list.
json::object review_item(store::AssessedRecord const& r, json::object const& ao, bool reviewed) {
  auto const& c = r.conversation;
  json::object item;
  item["conversation_id"] = c.id;
  item["level"] = ao.at("level");
  item["score"] = ao.at("score");
  item["reasons"] = ao.at("reasons");
  item["would_have_exceeded"] = ao.at("would_have_exceeded");
  item["confidence"] = ao.contains("confidence") ? ao.at("confidence") : json::value("medium");
  item["check_in"] = ao.contains("check_in") && ao.at("check_in").as_bool();
  item["facts"] = facts_json(c.facts);
  item["team"] = c.team;
  item["agent"] = c.agent.empty() ? json::value(nullptr) : json::value(agent_json(c));
  item["resolved_at"] = c.resolved_at.value_or(0);
  item["stage"] = c.stage.empty() ? json::value(nullptr) : json::value(c.stage);
  if (reviewed) {
    item["reviewed_at"] = r.reviewed_at.value_or(0);
    item["reviewed_by"] = r.reviewed_by;
    item["review_note"] = r.review_note;
  }
  return item;
}

}  // namespace

// A solved ticket, judged like a conversation, with the customer's CSAT
// answer on its conversation when there is one.
asio::awaitable<void> Assessments::assess_ticket(std::string ticket, std::string trigger) {
  auto story = co_await d_.store.ticket_story(ticket, most_read);
  if (!story || !*story || (*story)->status != "solved") co_return;
  auto const& t = **story;
  auto c = ticket_case(t);
  auto const& cfg = d_.config;
  auto team_hours = team_clock(cfg, t.team);
  auto times = core::measure(c.clock, team_hours.hours, team_hours.zone);
  auto const& policy = cfg.sla_for(t.team, t.priority);
  c.record.reopened = times.reopens > 0;
  if (!t.conversation_id.empty()) {
    auto conv = co_await d_.conversations.get(t.conversation_id);
    if (conv && *conv) read_answers((*conv)->facts, c.record);
  }
  auto s = core::observe(c.record, times, policy, cfg.assessment.rules);
  s.queue_wait.reset();  // a ticket waits in no chat queue
  auto a = core::assess(s, cfg.assessment.rules);
  auto now = d_.clock.now();
  auto out = assessment_json(a, policy.name, now, trigger);
  store::TicketJudgement judged{ticket, json::serialize(out), json::serialize(times_json(times)), policy.name, a.level,
                                trigger, now};
  co_await d_.store.save_ticket(judged);
  json::object ev = out;
  ev["ticket_id"] = ticket;
  ev["team"] = t.team;
  d_.publisher.publish({"sup"}, protocol::encode_event("assessment", std::move(ev)));
}

asio::awaitable<void> Assessments::assess(std::string conv, std::string trigger) {
  auto rec = co_await d_.store.record(conv);
  if (!rec || !*rec || (*rec)->conversation.status != core::ConversationStatus::resolved) co_return;
  auto const& r = **rec;
  auto const& c = r.conversation;
  auto messages = co_await d_.conversations.transcript(conv, most_read);
  if (!messages) co_return;
  auto followups = co_await d_.followups.of_conversation(conv);
  if (!followups) co_return;

  // The conversation as stored, then its clock replayed from it.
  auto record = chat_record(c, *messages, *followups);
  record.reopened = r.returned;
  auto const& cfg = d_.config;
  auto team_hours = team_clock(cfg, c.team);
  auto times = core::measure(core::clock_events(record), team_hours.hours, team_hours.zone);
  auto const& policy = cfg.sla_for(c.team, c.priority);
  auto a = core::assess(core::observe(record, times, policy, cfg.assessment.rules), cfg.assessment.rules);
  auto now = d_.clock.now();
  auto out = assessment_json(a, policy.name, now, trigger);
  store::Judgement judged;
  judged.conversation_id = conv;
  judged.team = c.team;
  judged.agent = c.agent;
  judged.assessment_json = json::serialize(out);
  judged.times_json = json::serialize(times_json(times));
  judged.sla_policy = policy.name;
  judged.level = a.level;
  judged.confidence = a.confidence;
  judged.score = a.score;
  judged.trigger = trigger;
  judged.resolved_at = record.resolved_at;
  judged.now = now;
  // Only-met and below go to the supervisors until one marks them reviewed.
  co_await d_.store.save(judged);
  std::string level(core::to_string(a.level));
  d_.hooks.assessed(level);
  spdlog::info("conversation {} assessed {} ({:.1f}, {} confidence) on {}", conv, level, a.score,
               core::to_string(a.confidence), trigger);
  // Nothing to go on: the check-in follow-up asks the customer ("am I
  // exceeding your needs?"), once, when the chat is first assessed.
  if (a.check_in && trigger == "resolved") co_await d_.hooks.check_in(conv, c.agent);

  json::object ev = out;
  ev["conversation_id"] = conv;
  ev["team"] = c.team;
  ev["facts"] = facts_json(c.facts);
  if (c.agent.empty()) ev["agent"] = nullptr;
  else ev["agent"] = agent_json(c);
  d_.publisher.publish({"sup"}, protocol::encode_event("assessment", std::move(ev)));
}

// GET /api/v1/reports/consistency?team=|agent=&from=&to=&bucket=day|week
asio::awaitable<net::HttpResponse> Assessments::consistency_report(Actor const& actor, Query const& q) {
  if (actor.role == core::Role::customer) co_return error_response(error::forbidden, "reports are for staff");
  auto team = query_value(q, "team");
  auto agent = query_value(q, "agent");
  auto stage = query_value(q, "stage");
  if (!core::is_stage_filter(stage))
    co_return error_response(error::bad_request, "stage must be pre_purchase, purchase, post_purchase or none");
  if (actor.role == core::Role::agent && agent != actor.user_id)
    co_return error_response(error::forbidden, "agents see their own consistency");
  auto window = report_window(q, d_.clock.now());
  if (!window.problem.empty()) co_return error_response(error::bad_request, window.problem);
  auto lines = co_await d_.store.assessed(window.from, window.to, 20'000);
  if (!lines) co_return from_failure(lines.failure());
  std::vector<core::AssessedConversation> items;
  for (std::size_t i = 0; i < lines->size(); ++i) {
    auto const& line = (*lines)[i];
    if ((!team.empty() && line.team != team) || (!agent.empty() && line.agent != agent)) continue;
    if (!core::stage_matches(stage, line.stage)) continue;
    if (!line.level) continue;
    core::AssessedConversation a{line.resolved_at, *line.level, std::nullopt};
    auto times = parse_object(line.times_json);
    if (auto const* fr = times.if_contains("first_response_s"); fr && fr->is_number())
      a.first_response = static_cast<core::Millis>(fr->to_number<double>() * 1000);
    items.push_back(a);
  }
  auto c = core::consistency(items, window.bucket);
  auto out = consistency_json(c, team, agent, window.from, window.to, window.bucket_name);
  if (!stage.empty()) out["stage"] = stage;
  co_return json_response(200, std::move(out));
}

asio::awaitable<store::Result<store::CsatParts>> Assessments::answer_csat(std::string visitor,
                                                                          protocol::CsatSubmit const& a) {
  store::CsatAnswer answer;
  answer.conversation_id = a.conversation_id;
  answer.visitor = std::move(visitor);
  answer.rating = a.rating;
  answer.expectation = a.expectation.value_or("");
  answer.comment = a.comment.value_or("");
  if (a.solved) answer.solved = *a.solved ? "yes" : "no";
  answer.now = d_.clock.now();
  answer.window = d_.config.assessment.csat_window_s * 1000LL;
  auto stored = co_await d_.conversations.csat(answer);
  if (!stored) co_return stored;
  if (d_.hooks.happened) {
    auto answered = csat_json(a.conversation_id, *stored);
    answered["visitor_id"] = answer.visitor;
    d_.hooks.happened(protocol::encode_event("csat", std::move(answered)));
  }
  co_await assess(a.conversation_id, "csat");
  co_return stored;
}

json::object Assessments::csat_json(std::string const& conversation_id, store::CsatParts const& stored) {
  json::object out{{"conversation_id", conversation_id}};
  for (auto& part : app::csat_json(stored)) out[part.key()] = part.value();
  return out;
}

asio::awaitable<void> Assessments::customer_returned(std::string new_conversation, std::string previous) {
  // The latest earlier conversation is the one that did not hold.
  auto rec = co_await d_.store.record(previous);
  if (!rec || !*rec) co_return;
  auto const& c = (*rec)->conversation;
  if (c.status != core::ConversationStatus::resolved || (*rec)->returned) co_return;
  auto now = d_.clock.now();
  auto window = d_.config.assessment.reopen_days * 86'400'000LL;
  if (now - c.resolved_at.value_or(0) > window) co_return;
  auto marked = co_await d_.store.mark_returned(previous, new_conversation, now);
  if (marked) co_await assess(previous, "reopened");
}

asio::awaitable<store::Result<json::array>> Assessments::items(Query const& q, bool reviewed, std::size_t limit) {
  store::AssessmentStore::ReviewRange range;
  range.reviewed = reviewed;
  if (auto from = query_value(q, "from"); !from.empty()) range.from = from;
  if (auto to = query_value(q, "to"); !to.empty()) range.to = to;
  auto ids = co_await d_.store.reviews(range);
  if (!ids) co_return ids.failure();
  json::array out;
  for (std::size_t i = 0; i < ids->size() && out.size() < limit; ++i) {
    auto rec = co_await d_.store.record((*ids)[i]);
    if (!rec || !*rec) continue;
    auto assessment = parse_object((*rec)->assessment_json);
    if (assessment.empty() || !review_matches(q, **rec, assessment)) continue;
    out.push_back(review_item(**rec, assessment, reviewed));
  }
  co_return out;
}

asio::awaitable<store::Result<json::object>> Assessments::review_list(protocol::ReviewList const& cmd) {
  Query q;
  if (cmd.level) q["level"] = *cmd.level;
  if (cmd.team) q["team"] = *cmd.team;
  if (cmd.stage) q["stage"] = *cmd.stage;
  auto listed = co_await items(q, false, static_cast<std::size_t>(cmd.limit));
  if (!listed) co_return listed.failure();
  json::object result;
  result["items"] = std::move(*listed);
  co_return result;
}

asio::awaitable<net::HttpResponse> Assessments::http(Actor actor, std::string method, std::string rest, Query query,
                                                     json::object body) {
  if (actor.role != core::Role::supervisor) co_return error_response(error::forbidden, "reviews are for supervisors");
  if (!rest.empty() && rest != "/") {
    if (method != "POST") co_return error_response(error::bad_request, "use POST to mark a review");
    co_return co_await mark_reviewed(actor, rest.substr(1), body);
  }
  if (method != "GET") co_return error_response(error::bad_request, "use GET");
  for (auto const* key : {"from", "to"})
    if (auto v = query_value(query, key); !v.empty() && !parse_number(v, 0, 1LL << 53))
      co_return error_response(error::bad_request, std::string(key) + " must be ms since the epoch");
  if (!core::is_stage_filter(query_value(query, "stage")))
    co_return error_response(error::bad_request, "stage must be pre_purchase, purchase, post_purchase or none");
  auto limit = parse_number(query_value(query, "limit").empty() ? "50" : query_value(query, "limit"), 1, 200);
  if (!limit) co_return error_response(error::bad_request, "limit must be 1..200");
  auto listed = co_await items(query, query_value(query, "reviewed") == "true", static_cast<std::size_t>(*limit));
  if (!listed) co_return from_failure(listed.failure());
  json::object out;
  out["items"] = std::move(*listed);
  out["next_cursor"] = nullptr;
  co_return json_response(200, out);
}

// POST /api/v1/reviews/{conversation_id} {note}: marks it reviewed.
asio::awaitable<net::HttpResponse> Assessments::mark_reviewed(Actor const& actor, std::string id,
                                                              json::object const& body) {
  auto const* note = body.if_contains("note");
  if (note && (!note->is_string() || note->get_string().size() > protocol::max_text_bytes))
    co_return error_response(error::bad_request, "note must be a string");
  std::string text = note ? std::string(note->get_string()) : std::string();
  auto now = d_.clock.now();
  auto marked = co_await d_.store.mark_reviewed(id, actor.user_id, text, now);
  if (!marked) co_return from_failure(marked.failure());
  co_return json_response(200, json::object{{"conversation_id", id}, {"reviewed_at", now}, {"reviewed_by", actor.user_id},
                                            {"review_note", text}});
}

}  // namespace exceed::app
