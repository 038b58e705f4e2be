#include "app/assessments.hpp"

#include "app/app.hpp"
#include "app/followups.hpp"
#include "app/metrics.hpp"
#include "store/scripts.hpp"
#include "app/client.hpp"
#include "app/wire.hpp"
#include "core/assessment.hpp"
#include "core/consistency.hpp"
#include "core/response_clock.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;
using protocol::error;

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

// The customer's CSAT parts and the facts people gave, from a conversation record.
void read_answers(store::Reply const& c, core::ChatRecord& record) {
  if (auto rating = field(c, "csat_rating"); !rating.empty()) record.rating = static_cast<int>(to_int(rating));
  record.expectation = core::parse_level(field(c, "csat_expectation"));
  record.comment = std::string(field(c, "csat_comment"));
  if (auto solved = field(c, "csat_solved"); !solved.empty()) record.customer_solved = solved == "yes";
  record.outcome = core::parse_outcome(field(c, "outcome"));
  record.went_beyond = std::string(field(c, "went_beyond"));
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

}  // namespace

// A solved ticket, judged like a conversation: its clock replays its
// public comments and status changes (a reopened ticket keeps every round),
// and the customer's CSAT answer on its conversation counts when there is one.
asio::awaitable<void> Assessments::assess_ticket(std::string ticket, std::string trigger) {
  auto& db = app_.db();
  auto key = db.key("ticket:" + ticket);
  auto rec = co_await db.cmd("HGETALL", key);
  if (!rec || field(rec.reply, "status") != "solved") co_return;
  auto const& t = rec.reply;
  auto comments = co_await db.cmd("XRANGE", key + ":comments", "-", "+", "COUNT", "5000");
  auto events = co_await db.cmd("XRANGE", key + ":events", "-", "+", "COUNT", "5000");
  if (!comments || !events) co_return;
  using K = core::ClockEvent::Kind;
  std::vector<core::ClockEvent> clock{{K::started, to_int(field(t, "created_at"))}};
  // A chat kept as a ticket began with the customer's message in the chat.
  if (field(t, "via") == "chat") clock.push_back({K::customer_message, to_int(field(t, "created_at"))});
  core::ChatRecord record;
  int assignments = 0;
  for (auto const& e : events.reply.elements) {
    auto const& f = e.elements.at(1);
    auto ts = to_int(field(f, "ts"));
    if (field(f, "what") == "assignee" && !field(f, "to").empty()) {
      if (assignments++ == 0) clock.push_back({K::assigned, ts});
    } else if (field(f, "what") == "status") {
      if (field(f, "to") == "solved") clock.push_back({K::resolved, ts});
      if (field(f, "from") == "solved" && field(f, "to") == "open") clock.push_back({K::reopened, ts});
    }
  }
  for (auto const& e : comments.reply.elements) {
    auto const& f = e.elements.at(1);
    if (field(f, "public") != "1") continue;  // notes are not answers
    auto ts = to_int(field(f, "ts"));
    bool customer = field(f, "role") == "customer";
    clock.push_back({customer ? K::customer_message : K::agent_reply, ts});
    record.lines.push_back({customer, customer ? std::string() : std::string(field(f, "uid")), ts, std::string(field(f, "text"))});
  }
  std::stable_sort(clock.begin(), clock.end(), [](auto const& a, auto const& b) { return a.at < b.at; });
  auto const& cfg = app_.config();
  std::string team(field(t, "team"));
  core::BusinessHours hours;
  core::TimeZone zone = core::TimeZone::utc();
  if (auto it = cfg.teams.find(team); it != cfg.teams.end()) {
    hours = it->second.business;
    zone = it->second.zone;
  }
  auto times = core::measure(clock, hours, zone);
  auto const& policy = cfg.sla_for(team, std::string(field(t, "priority")));
  record.transfers = std::max(0, assignments - 1);
  record.reopened = times.reopens > 0;
  if (auto conv = field(t, "conversation"); !conv.empty()) {
    auto csat = co_await db.cmd("HGETALL", db.key("conv:" + std::string(conv)));
    read_answers(csat.reply, record);
  }
  auto s = core::observe(record, times, policy, cfg.assessment.rules);
  s.queue_wait.reset();  // a ticket waits in no chat queue
  auto a = core::assess(s, cfg.assessment.rules);
  auto now = now_ms();
  auto out = assessment_json(a, policy.name, now, trigger);
  std::string level(core::to_string(a.level));
  co_await db.cmd("HSET", key, "assessment", json::serialize(out), "assessment_level", level, "times",
                  json::serialize(times_json(times)), "sla_policy", policy.name);
  co_await db.cmd("XADD", key + ":assessments", "*", "ts", std::to_string(now), "level", level, "trigger", trigger);
  json::object ev = out;
  ev["ticket_id"] = ticket;
  ev["team"] = team;
  app_.publish({"sup"}, protocol::encode_event("assessment", std::move(ev)));
}

asio::awaitable<void> Assessments::assess(std::string conv, std::string trigger) {
  auto& db = app_.db();
  auto rec = co_await db.cmd("HGETALL", db.key("conv:" + conv));
  if (!rec || field(rec.reply, "status") != "resolved") co_return;
  auto const& c = rec.reply;
  auto msgs = co_await db.cmd("XRANGE", db.key("conv:" + conv + ":msgs"), "-", "+", "COUNT", "5000");
  if (!msgs) co_return;

  // The conversation as stored, then its clock replayed from it.
  core::ChatRecord record;
  record.created_at = to_int(field(c, "created_at"));
  if (auto assigned = field(c, "assigned_at"); !assigned.empty()) record.assigned_at = to_int(assigned);
  record.resolved_at = to_int(field(c, "resolved_at"));
  for (auto const& e : msgs.reply.elements) {
    auto const& f = e.elements.at(1);
    auto role = field(f, "role");
    bool customer = role == "customer";
    if (!customer && role != "agent" && role != "supervisor") continue;
    record.lines.push_back({customer, customer ? std::string() : std::string(field(f, "uid")), to_int(field(f, "ts")),
                            std::string(field(f, "text"))});
  }
  record.transfers = static_cast<int>(to_int(field(c, "transfers")));
  record.reopened = !field(c, "returned_at").empty();
  auto followups = co_await db.cmd("SMEMBERS", db.key("conv:" + conv + ":followups"));
  for (auto const& id : followups.reply.elements) {
    auto f = co_await db.cmd("HMGET", db.key("followup:" + id.str), "status", "done_at");
    if (str_at(f.reply, 0) == "done" && int_at(f.reply, 1) >= record.resolved_at) record.followup_done = true;
  }
  read_answers(c, record);
  auto const& cfg = app_.config();
  std::string team(field(c, "team"));
  core::BusinessHours hours;
  core::TimeZone zone = core::TimeZone::utc();
  if (auto it = cfg.teams.find(team); it != cfg.teams.end()) {
    hours = it->second.business;
    zone = it->second.zone;
  }
  auto times = core::measure(core::clock_events(record), hours, zone);
  auto const& policy = cfg.sla_for(team, std::string(field(c, "priority")));
  auto a = core::assess(core::observe(record, times, policy, cfg.assessment.rules), cfg.assessment.rules);
  auto resolved_at = record.resolved_at;
  auto now = now_ms();
  auto out = assessment_json(a, policy.name, now, trigger);
  auto t = times_json(times);
  auto text = json::serialize(out);
  std::string level(core::to_string(a.level));
  std::string confidence(core::to_string(a.confidence));
  co_await db.cmd("HSET", db.key("conv:" + conv), "assessment", text, "assessment_level", level, "assessment_confidence",
                  confidence, "times", json::serialize(t), "sla_policy", policy.name);
  co_await db.cmd("XADD", db.key("conv:" + conv + ":assessments"), "*", "ts", std::to_string(now), "level", level,
                  "score", std::to_string(a.score), "confidence", confidence, "trigger", trigger);
  // Only-met and below go to the supervisors until one marks them reviewed.
  co_await db.cmd("ZADD", db.key("assessed"), std::to_string(resolved_at), conv);
  bool reviewed = !field(c, "reviewed_at").empty();
  if (a.level == core::Level::exceeded) co_await db.cmd("ZREM", db.key("reviews"), conv);
  else if (!reviewed) co_await db.cmd("ZADD", db.key("reviews"), std::to_string(resolved_at), conv);
  // The live figures' sample (the same stream and trimming as metric_sample
  // in lua/prelude.lua); a later assessment replaces this one there.
  app_.metrics().assessed(level);
  std::string agent(field(c, "agent"));
  co_await db.cmd("XADD", db.key("metrics:samples"), "MINID", "~", std::to_string(now - 26 * 3600 * 1000LL), "*", "k",
                  "assess", "c", conv, "t", team, "a", agent, "v", level, "at", std::to_string(now));
  spdlog::info("conversation {} assessed {} ({:.1f}, {} confidence) on {}", conv, level, a.score, confidence, trigger);
  // Nothing to go on: the check-in follow-up asks the customer ("am I
  // exceeding your needs?"), once, when the chat is first assessed.
  if (a.check_in && trigger == "resolved") co_await app_.followups().check_in(conv, agent);

  json::object ev = out;
  ev["conversation_id"] = conv;
  ev["team"] = team;
  ev["facts"] = facts_json(c);
  if (field(c, "agent").empty()) ev["agent"] = nullptr;
  else ev["agent"] = json::object{{"id", field(c, "agent")}, {"name", field(c, "agent_name")}};
  app_.publish({"sup"}, protocol::encode_event("assessment", std::move(ev)));
}

// GET /api/v1/reports/consistency?team=|agent=&from=&to=&bucket=day|week
asio::awaitable<net::HttpResponse> Assessments::consistency_report(Actor const& actor, Query const& q) {
  if (actor.role == core::Role::customer) co_return error_response(error::forbidden, "reports are for staff");
  auto team = query_value(q, "team");
  auto agent = query_value(q, "agent");
  if (actor.role == core::Role::agent && agent != actor.user_id)
    co_return error_response(error::forbidden, "agents see their own consistency");
  auto window = report_window(q, now_ms());
  if (!window.problem.empty()) co_return error_response(error::bad_request, window.problem);
  auto from = window.from, to = window.to;
  auto bucket = window.bucket;
  auto const& bucket_name = window.bucket_name;
  auto& db = app_.db();
  std::string key = db.key("assessed");
  std::string lo = std::to_string(from), hi = std::to_string(to);
  auto ids = co_await db.cmd("ZRANGEBYSCORE", key, lo, hi, "LIMIT", "0", "20000");
  if (!ids) co_return from_outcome(ids);
  std::vector<core::AssessedConversation> items;
  for (auto const& id : ids.reply.elements) {
    auto r = co_await db.cmd("HMGET", db.key("conv:" + id.str), "assessment_level", "team", "agent", "resolved_at", "times");
    if (!r) co_return from_outcome(r);
    if ((!team.empty() && str_at(r.reply, 1) != team) || (!agent.empty() && str_at(r.reply, 2) != agent)) continue;
    auto level = core::parse_level(str_at(r.reply, 0));
    if (!level) continue;
    core::AssessedConversation a{int_at(r.reply, 3), *level, std::nullopt};
    auto times = parse_object(str_at(r.reply, 4));
    if (auto const* fr = times.if_contains("first_response_s"); fr && fr->is_number())
      a.first_response = static_cast<core::Millis>(fr->to_number<double>() * 1000);
    items.push_back(a);
  }
  auto c = core::consistency(items, bucket);
  co_return json_response(200, consistency_json(c, team, agent, from, to, bucket_name));
}

asio::awaitable<Outcome> Assessments::answer_csat(std::string visitor, protocol::CsatSubmit const& a) {
  auto& db = app_.db();
  auto window = std::to_string(app_.config().assessment.csat_window_s * 1000LL);
  // Named, not conditional temporaries inside co_await: g++ 12 destroys
  // the branch never built.
  std::string rating = a.rating ? std::to_string(*a.rating) : std::string();
  std::string solved = a.solved ? (*a.solved ? "yes" : "no") : "";
  std::string expectation = a.expectation.value_or(""), comment = a.comment.value_or(""), now = std::to_string(now_ms());
  auto o = co_await db.call(db.scripts().csat, a.conversation_id, visitor, rating, expectation, comment, now, window, solved);
  if (!o) co_return o;
  auto answered = csat_json(a.conversation_id, o.reply);
  answered["visitor_id"] = visitor;
  app_.happened(protocol::encode_event("csat", std::move(answered)));
  co_await assess(a.conversation_id, "csat");
  co_return o;
}

json::object Assessments::csat_json(std::string const& conversation_id, store::Reply const& stored) {
  json::object out{{"conversation_id", conversation_id}};
  for (auto& part : app::csat_json(str_at(stored, 0), str_at(stored, 1), str_at(stored, 2), str_at(stored, 3)))
    out[part.key()] = part.value();
  return out;
}

asio::awaitable<void> Assessments::customer_returned(std::string visitor, std::string new_conversation) {
  auto& db = app_.db();
  auto recent = co_await db.cmd("ZREVRANGE", db.key("visitor:" + visitor + ":convs"), "0", "4");
  auto window = app_.config().assessment.reopen_days * 86'400'000LL;
  for (auto const& id : recent.reply.elements) {
    if (id.str == new_conversation) continue;
    auto c = co_await db.cmd("HMGET", db.key("conv:" + id.str), "status", "resolved_at", "returned_at");
    if (str_at(c.reply, 0) != "resolved" || !str_at(c.reply, 2).empty()) break;
    if (now_ms() - int_at(c.reply, 1) > window) break;
    std::string now = std::to_string(now_ms());
    co_await db.cmd("HSET", db.key("conv:" + id.str), "returned_at", now, "returned_with", new_conversation);
    co_await assess(id.str, "reopened");
    break;  // the latest resolved conversation is the one that did not hold
  }
}

asio::awaitable<json::array> Assessments::items(Query const& q, bool reviewed, std::size_t limit) {
  auto& db = app_.db();
  auto from = query_value(q, "from").empty() ? std::string("-inf") : query_value(q, "from");
  auto to = query_value(q, "to").empty() ? std::string("+inf") : query_value(q, "to");
  auto ids = co_await db.cmd("ZREVRANGEBYSCORE", db.key(reviewed ? "reviews:done" : "reviews"), to, from, "LIMIT", "0",
                             "1000");
  json::array out;
  for (auto const& id : ids.reply.elements) {
    if (out.size() >= limit) break;
    auto rec = co_await db.cmd("HGETALL", db.key("conv:" + id.str));
    if (!rec || rec.reply.elements.empty()) continue;
    auto const& r = rec.reply;
    std::error_code ec;
    auto a = json::parse(field(r, "assessment"), ec);
    if (ec || !a.is_object()) continue;
    auto const& ao = a.get_object();
    auto level = query_value(q, "level");
    auto reason = query_value(q, "reason");
    if ((!level.empty() && field(r, "assessment_level") != level) ||
        (!query_value(q, "team").empty() && field(r, "team") != query_value(q, "team")) ||
        (!query_value(q, "agent").empty() && field(r, "agent") != query_value(q, "agent")))
      continue;
    if (!reason.empty()) {
      auto const& rs = ao.at("reasons").as_array();
      if (std::none_of(rs.begin(), rs.end(), [&](auto const& x) { return x.at("code").as_string() == reason; })) continue;
    }
    json::object item;
    item["conversation_id"] = id.str;
    item["level"] = ao.at("level");
    item["score"] = ao.at("score");
    item["reasons"] = ao.at("reasons");
    item["would_have_exceeded"] = ao.at("would_have_exceeded");
    item["confidence"] = ao.contains("confidence") ? ao.at("confidence") : json::value("medium");
    item["check_in"] = ao.contains("check_in") && ao.at("check_in").as_bool();
    item["facts"] = facts_json(r);
    item["team"] = field(r, "team");
    item["agent"] = field(r, "agent").empty() ? json::value(nullptr)
                                              : json::value(json::object{{"id", field(r, "agent")}, {"name", field(r, "agent_name")}});
    item["resolved_at"] = to_int(field(r, "resolved_at"));
    if (reviewed) {
      item["reviewed_at"] = to_int(field(r, "reviewed_at"));
      item["reviewed_by"] = field(r, "reviewed_by");
      item["review_note"] = field(r, "review_note");
    }
    out.push_back(std::move(item));
  }
  co_return out;
}

asio::awaitable<void> Assessments::review_list(Client& client, protocol::Request const& req,
                                               protocol::ReviewList const& cmd) {
  Query q;
  if (cmd.level) q["level"] = *cmd.level;
  if (cmd.team) q["team"] = *cmd.team;
  json::object result;
  result["items"] = co_await items(q, false, static_cast<std::size_t>(cmd.limit));
  client.send(protocol::encode_ack(req.id, std::move(result)));
}

asio::awaitable<net::HttpResponse> Assessments::http(Actor actor, std::string method, std::string rest, Query query,
                                                     json::object body) {
  if (actor.role != core::Role::supervisor) co_return error_response(error::forbidden, "reviews are for supervisors");
  if (rest.empty() || rest == "/") {
    if (method != "GET") co_return error_response(error::bad_request, "use GET");
    for (auto const* key : {"from", "to"})
      if (auto v = query_value(query, key); !v.empty() && !parse_number(v, 0, 1LL << 53))
        co_return error_response(error::bad_request, std::string(key) + " must be ms since the epoch");
    auto limit = parse_number(query_value(query, "limit").empty() ? "50" : query_value(query, "limit"), 1, 200);
    if (!limit) co_return error_response(error::bad_request, "limit must be 1..200");
    json::object out;
    out["items"] = co_await items(query, query_value(query, "reviewed") == "true", static_cast<std::size_t>(*limit));
    out["next_cursor"] = nullptr;
    co_return json_response(200, out);
  }
  // POST /api/v1/reviews/{conversation_id} {note}: marks it reviewed.
  if (method != "POST") co_return error_response(error::bad_request, "use POST to mark a review");
  auto id = rest.substr(1);
  auto& db = app_.db();
  auto in = co_await db.cmd("ZSCORE", db.key("reviews"), id);
  if (!in) co_return from_outcome(in);
  if (in.reply.is_nil()) co_return error_response(error::not_found, "no such conversation waiting for review");
  auto const* note = body.if_contains("note");
  if (note && (!note->is_string() || note->get_string().size() > protocol::max_text_bytes))
    co_return error_response(error::bad_request, "note must be a string");
  std::string text = note ? std::string(note->get_string()) : std::string();
  auto now = std::to_string(now_ms());
  co_await db.cmd("HSET", db.key("conv:" + id), "reviewed_at", now, "reviewed_by", actor.user_id, "review_note", text);
  co_await db.cmd("ZREM", db.key("reviews"), id);
  co_await db.cmd("ZADD", db.key("reviews:done"), in.reply.str, id);
  co_return json_response(200, json::object{{"conversation_id", id}, {"reviewed_at", to_int(now)}, {"reviewed_by", actor.user_id},
                                            {"review_note", text}});
}

}  // namespace exceed::app
