#include "store/assessments.hpp"

#include "store/decode.hpp"
#include "store/scripts.hpp"

namespace exceed::store {
namespace asio = boost::asio;
namespace {

// The entries of a stream read with XRANGE, each as its fields.
Result<std::vector<Fields>> entries_of(Reply const& reply, std::string_view what) {
  Row row(reply, what);
  std::vector<Fields> out;
  while (row.ok() && !row.at_end()) {
    Row entry(row.nested(), what);
    entry.text();  // the entry id
    auto const& body = entry.nested();
    if (!entry.ok()) return entry.failure();
    auto fields = Fields::read(body, what);
    if (!fields) return fields.failure();
    out.push_back(std::move(*fields));
  }
  if (!row.ok()) return row.failure();
  return out;
}

// A ticket's record and its two streams as its story (a plain function:
// g++ 12 mishandles class-typed range-for variables in coroutines).
TicketStory story_of(std::string const& id, Fields const& t, std::vector<Fields> const& comments,
                     std::vector<Fields> const& events) {
  TicketStory out;
  out.id = id;
  out.status = t.text("status");
  out.team = t.text("team");
  out.priority = t.text("priority");
  out.via = t.text("via");
  out.conversation_id = t.text("conversation");
  out.created_at = t.integer("created_at");
  for (auto const& c : comments)
    out.comments.push_back({c.integer("ts"), c.text("role") == "customer", c.text("public") == "1",
                            std::string(c.text("uid")), std::string(c.text("text"))});
  for (auto const& e : events)
    out.changes.push_back(
        {e.integer("ts"), std::string(e.text("what")), std::string(e.text("from")), std::string(e.text("to"))});
  return out;
}

}  // namespace

asio::awaitable<Result<bool>> AssessmentStore::save(Judgement const& j) {
  std::string level(core::to_string(j.level));
  std::string confidence(core::to_string(j.confidence));
  auto r = co_await db_.call(db_.scripts().assessment_save, j.conversation_id, j.assessment_json, level, confidence,
                             std::to_string(j.score), j.times_json, j.sla_policy, j.trigger,
                             std::to_string(j.resolved_at), j.team, j.agent, std::to_string(j.now));
  if (!r) co_return r.failure();
  if (r->kind != Reply::Kind::integer) co_return Failure::protocol("assessment_save: expected an integer");
  co_return r->integer == 1;
}

asio::awaitable<Result<Done>> AssessmentStore::save_ticket(TicketJudgement const& j) {
  std::string level(core::to_string(j.level));
  auto r = co_await db_.cmd("HSET", db_.keys().ticket(j.ticket_id), "assessment", j.assessment_json,
                            "assessment_level", level, "times", j.times_json, "sla_policy", j.sla_policy);
  if (!r) co_return r.failure();
  r = co_await db_.cmd("XADD", db_.keys().ticket_assessments(j.ticket_id), "*", "ts", std::to_string(j.now), "level",
                       level, "trigger", j.trigger);
  if (!r) co_return r.failure();
  co_return Done{};
}

asio::awaitable<Result<std::optional<AssessedRecord>>> AssessmentStore::record(std::string const& id) {
  auto r = co_await db_.cmd("HGETALL", db_.keys().conversation(id));
  if (!r) co_return r.failure();
  if (r->is_array() && r->elements.empty()) co_return std::optional<AssessedRecord>{};
  auto c = conversation_of(*r, "assessed conversation");
  if (!c) co_return c.failure();
  AssessedRecord out;
  auto const& f = c->fields;
  out.assessment_json = f.text("assessment");
  out.level = core::parse_level(f.text("assessment_level"));
  out.returned = !f.text("returned_at").empty();
  out.reviewed_at = f.maybe_integer("reviewed_at");
  out.reviewed_by = f.text("reviewed_by");
  out.review_note = f.text("review_note");
  out.conversation = std::move(*c);
  co_return std::optional<AssessedRecord>(std::move(out));
}

asio::awaitable<Result<Done>> AssessmentStore::mark_returned(std::string const& id, std::string const& with,
                                                            core::Millis now) {
  auto r = co_await db_.cmd("HSET", db_.keys().conversation(id), "returned_at", std::to_string(now), "returned_with",
                            with);
  if (!r) co_return r.failure();
  co_return Done{};
}

asio::awaitable<Result<std::vector<std::string>>> AssessmentStore::reviews(ReviewRange const& range) {
  auto key = range.reviewed ? db_.keys().reviews_done() : db_.keys().reviews();
  co_return strings_of(co_await db_.cmd("ZREVRANGEBYSCORE", key, range.to, range.from, "LIMIT", "0",
                                     std::to_string(range.max)),
                    "reviews");
}

asio::awaitable<Result<Done>> AssessmentStore::mark_reviewed(std::string const& id, std::string const& by,
                                                            std::string const& note, core::Millis now) {
  auto r = co_await db_.call(db_.scripts().review_mark, id, by, note, std::to_string(now));
  if (!r) co_return r.failure();
  co_return Done{};
}

asio::awaitable<Result<std::vector<AssessedLine>>> AssessmentStore::assessed(core::Millis from, core::Millis to,
                                                                            int max) {
  auto ids = strings_of(co_await db_.cmd("ZRANGEBYSCORE", db_.keys().assessed(), std::to_string(from),
                                      std::to_string(to), "LIMIT", "0", std::to_string(max)),
                     "assessed");
  if (!ids) co_return ids.failure();
  std::vector<AssessedLine> out;
  out.reserve(ids->size());
  for (std::size_t i = 0; i < ids->size(); ++i) {  // (no range-for in a coroutine: g++ 12)
    auto r = co_await db_.cmd("HMGET", db_.keys().conversation((*ids)[i]), "assessment_level", "team", "agent",
                              "resolved_at", "times", "stage");
    if (!r) co_return r.failure();
    Row row(*r, "assessed line");
    AssessedLine line;
    line.conversation_id = (*ids)[i];
    line.level = core::parse_level(row.text());
    line.team = row.text();
    line.agent = row.text();
    line.resolved_at = parse_integer(row.text()).value_or(0);
    line.times_json = row.text();
    line.stage = row.text();
    if (!row.ok()) co_return row.failure();
    out.push_back(std::move(line));
  }
  co_return out;
}

asio::awaitable<Result<std::optional<TicketStory>>> AssessmentStore::ticket_story(std::string const& id, int max) {
  auto rec = co_await db_.cmd("HGETALL", db_.keys().ticket(id));
  if (!rec) co_return rec.failure();
  auto fields = Fields::read(*rec, "ticket");
  if (!fields) co_return fields.failure();
  if (fields->empty()) co_return std::optional<TicketStory>{};
  auto comments = co_await db_.cmd("XRANGE", db_.keys().ticket_comments(id), "-", "+", "COUNT", std::to_string(max));
  if (!comments) co_return comments.failure();
  auto events = co_await db_.cmd("XRANGE", db_.keys().ticket_events(id), "-", "+", "COUNT", std::to_string(max));
  if (!events) co_return events.failure();
  auto comment_entries = entries_of(*comments, "ticket comments");
  if (!comment_entries) co_return comment_entries.failure();
  auto event_entries = entries_of(*events, "ticket events");
  if (!event_entries) co_return event_entries.failure();

  co_return std::optional<TicketStory>(story_of(id, *fields, *comment_entries, *event_entries));
}

}  // namespace exceed::store
