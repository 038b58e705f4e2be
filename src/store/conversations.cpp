#include "store/conversations.hpp"
#include "store/sla_args.hpp"

#include "store/scripts.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <spdlog/spdlog.h>

namespace exceed::store {
namespace asio = boost::asio;
namespace {

// The first response's deadline core computed in the team's hours, for
// the talk side's wait that a chat's first words start (append.lua).
void first_wait_deadline(Db::TalkMessage& words, StartChat const& s) {
  if (!s.deadlines || !s.deadlines->first_response) return;
  words.warn_at = s.deadlines->first_response->warn_at;
  words.due_at = s.deadlines->first_response->due_at;
}

core::ConversationStatus status_or(std::string_view s, core::ConversationStatus fallback, bool* ok) {
  auto st = core::parse_conversation_status(s);
  if (!st) *ok = false;
  return st.value_or(fallback);
}

}  // namespace

Result<Conversation> conversation_of(Reply const& flat, std::string_view what) {
  auto fields = Fields::read(flat, what);
  if (!fields) return fields.failure();
  auto const& f = *fields;
  bool ok = f.has("id");
  Conversation c;
  c.status = status_or(f.text("status"), core::ConversationStatus::queued, &ok);
  if (!ok) return Failure::protocol(std::string(what) + ": not a conversation record");
  c.id = f.text("id");
  c.visitor = f.text("visitor");
  c.visitor_name = f.text("visitor_name");
  c.agent = f.text("agent");
  c.agent_name = f.text("agent_name");
  c.offered_to = f.text("offered_to");
  c.team = f.text("team");
  c.priority = f.text("priority");
  c.ticket = f.text("ticket");
  c.stage = f.text("stage");
  c.offer_expires = f.maybe_integer("offer_expires");
  c.context_json = f.text("context");
  c.preview = f.text("preview");
  c.created_at = f.integer("created_at");
  c.assigned_at = f.maybe_integer("assigned_at");
  c.resolved_at = f.maybe_integer("resolved_at");
  c.transfers = static_cast<int>(f.integer("transfers"));
  c.last_seq = f.integer("seq");
  c.facts = facts_of(f);
  c.fields = std::move(*fields);
  return c;
}

Facts facts_of(Fields const& record) {
  Facts out;
  if (auto rating = record.maybe_integer("csat_rating")) out.csat.rating = static_cast<int>(*rating);
  out.csat.expectation = record.text("csat_expectation");
  out.csat.comment = record.text("csat_comment");
  out.csat.solved = record.text("csat_solved");
  out.outcome = record.text("outcome");
  out.went_beyond = record.text("went_beyond");
  return out;
}

// entry: ["0-<seq>", [field, value, ...]]
Result<Message> message_of(std::string const& conversation_id, Reply const& entry, std::string_view what) {
  Row row(entry, what);
  auto id = row.text();
  auto const& body = row.nested();
  if (!row.ok()) return row.failure();
  auto dash = id.find('-');
  auto seq = dash == std::string::npos ? std::nullopt : parse_integer(std::string_view(id).substr(dash + 1));
  auto fields = Fields::read(body, what);
  if (!fields) return fields.failure();
  if (!seq || !fields->maybe_integer("ts")) return Failure::protocol(std::string(what) + ": not a message entry");
  Message m;
  m.conversation_id = conversation_id;
  m.seq = *seq;
  m.ts = fields->integer("ts");
  m.role = fields->text("role");
  m.sender_id = fields->text("uid");
  m.sender_name = fields->text("name");
  m.text = fields->text("text");
  m.client_msg_id = fields->text("cmid");
  m.attachment = fields->text("att");
  return m;
}

asio::awaitable<Result<Started>> ConversationStore::start(StartChat const& s) {
  std::vector<std::string> args{s.id,
                                s.visitor,
                                s.visitor_name,
                                s.team,
                                s.priority,
                                s.context_json,
                                std::to_string(s.now),
                                text_of_number(s.score),
                                s.text,
                                s.stage,
                                s.team_open ? "1" : "0",
                                s.ticket_id,
                                s.subject,
                                s.offline_notice,
                                s.after_hours_notice,
                                s.ticket_when_offline ? "1" : "0"};
  append_policy(args, s.sla, s.deadlines, s.now);
  auto r = co_await db_.run(db_.scripts().start, std::move(args));
  if (!r) co_return r.failure();
  Row row(*r, "start");
  Started out;
  out.conversation_id = row.text();
  auto status = row.text();
  out.queue_position = static_cast<int>(row.integer());
  out.team = row.text();
  out.created = row.integer() == 1;
  out.ticket_id = row.text();
  out.reason = row.text();
  out.previous = row.text();
  if (!row.ok()) co_return row.failure();
  bool ok = true;
  out.status = status_or(status, core::ConversationStatus::queued, &ok);
  if (!ok) co_return Failure::protocol("start: unknown status '" + status + "'");
  if (db_.keys().split() && !out.created && !s.text.empty()) {
    // A start that failed after its first half (below) is sent again and
    // finds its chat open: its words are appended if the chat has none.
    auto seq = co_await last_seq(out.conversation_id);
    if (!seq) co_return seq.failure();
    if (*seq == 0) {
      Db::TalkMessage words{out.conversation_id, "start", "customer", s.visitor, s.visitor_name, s.text, "", "", s.now,
                            out.status == core::ConversationStatus::ticket ? "first" : "wait"};
      first_wait_deadline(words, s);
      auto appended = co_await db_.append_talk(std::move(words));
      if (!appended) co_return appended.failure();
    }
  }
  if (db_.keys().split() && out.created) {
    // Split (a Redis Cluster): start.lua wrote the record in the routing
    // slot, and Db::run copied it to the talk side; the customer's words
    // (which start the first response's wait there) and the notice of a
    // chat kept as a ticket are appended there now, keyed so that a repeat
    // does not double them (a chat kept as a ticket that goes live again:
    // keyed by this start).
    bool live = out.status != core::ConversationStatus::ticket;
    std::string key = out.ticket_id.empty() || !out.reason.empty() ? "start" : "start:" + std::to_string(s.now);
    if (!s.text.empty()) {
      Db::TalkMessage words{out.conversation_id, key, "customer", s.visitor, s.visitor_name, s.text, "", "", s.now,
                            live ? "wait" : "first"};
      first_wait_deadline(words, s);
      auto seq = co_await db_.append_talk(std::move(words));
      if (!seq) co_return seq.failure();
    }
    if (!out.reason.empty()) {
      Db::TalkMessage notice{out.conversation_id, key + ":notice", "system", "system", "Exceed",
                             out.reason == "after_hours" ? s.after_hours_notice : s.offline_notice, "", "", s.now, ""};
      auto seq = co_await db_.append_talk(std::move(notice));
      if (!seq) co_return seq.failure();
    }
  }
  co_return out;
}

asio::awaitable<Result<Appended>> ConversationStore::append(Append const& a) {
  // Grouped with the other messages of this turn of the event loop: one
  // script call appends them all (see Db::grouped and lua/send.lua).
  // Split (a Redis Cluster): grouped per primary of the conversations' talk
  // sides, the response clock with them; the record hears what happens
  // once (clock.lua, below).
  auto const split = db_.keys().split();
  std::vector<std::string> args{a.conversation_id, std::string(a.by.role_name()), a.by.user_id, a.name,
                                a.by.teams_csv, a.client_msg_id, a.text, std::to_string(a.now), a.attachment};
  auto route = split ? db_.keys().talk_route(a.conversation_id) : std::string();  // (g++ 12: no ?: inside co_await)
  auto r = co_await db_.grouped(db_.scripts().send, args, std::move(route));
  if (!r && split && r.failure().kind == Failure::Kind::refused && r.failure().refusal == core::Refusal::not_found) {
    // The talk side may not have been copied yet (its process died between
    // the two steps): copy what is listed and ask once more.
    co_await db_.sync_copies();
    r = co_await db_.grouped(db_.scripts().send, std::move(args), db_.keys().talk_route(a.conversation_id));
  }
  if (!r) co_return r.failure();
  Row row(*r, "send");
  Appended out;
  out.seq = row.integer();
  out.ts = row.integer();
  out.duplicate = row.integer() != 0;
  out.visitor = row.text();
  out.agent = row.text();
  out.ticket = row.text();
  auto status = row.text();
  auto first = row.integer();
  out.breached = row.text();
  auto wait_metric = row.text();
  Appended::Wait wait;
  wait.team = row.text();
  wait.target = row.integer();
  wait.warning_ratio = row.real();
  auto first_customer = row.text();
  auto late = row.integer();
  if (!row.ok()) co_return row.failure();
  if (first >= 0) out.first_response = first;
  if (split && !out.duplicate && (!first_customer.empty() || first >= 0 || !out.breached.empty())) {
    // What happens once to the clock, told to the record (clock.lua): the
    // conversation's first two messages and its late replies.
    std::vector<std::string> facts{a.conversation_id, wait.team, a.by.user_id, std::to_string(out.ts), first_customer,
                                   std::to_string(first), out.breached, std::to_string(late)};
    auto told = co_await db_.grouped(db_.scripts().clock, std::move(facts));
    // The message is stored: a record that could not be told is logged,
    // not the sender's error (a retry would find the message a duplicate).
    if (!told) spdlog::warn("store: the record of {} missed its clock at seq {}: {}", a.conversation_id, out.seq,
                            told.failure().message);
  }
  if (!wait_metric.empty()) {
    if (wait_metric == "first_response") wait.metric = core::SlaMetric::first_response;
    else if (wait_metric == "next_response") wait.metric = core::SlaMetric::next_response;
    else co_return Failure::protocol("send: unknown wait '" + wait_metric + "'");
    out.wait = std::move(wait);
  }
  bool ok = true;
  out.status = status_or(status, core::ConversationStatus::queued, &ok);
  if (!ok) co_return Failure::protocol("send: unknown status '" + status + "'");
  co_return out;
}

asio::awaitable<Result<bool>> ConversationStore::rearm_wait(std::string const& id, Appended::Wait const& wait,
                                                             core::Millis from, core::SlaDeadline at) {
  std::vector<std::string> args{id, std::string(core::to_string(wait.metric)), std::to_string(from),
                                std::to_string(wait.target), std::to_string(at.warn_at), std::to_string(at.due_at)};
  // Split: a conversation's waits are on its talk side (sla_rearm.lua).
  Result<Reply> r = Failure::unavailable("not asked");
  if (db_.keys().split())
    r = co_await db_.run_at(db_.keys().talk_route(id), db_.scripts().sla_rearm, std::move(args));
  else
    r = co_await db_.run(db_.scripts().sla_rearm, std::move(args));
  if (!r) co_return r.failure();
  if (r->kind != Reply::Kind::integer) co_return Failure::protocol("sla_rearm: expected an integer");
  co_return r->integer == 1;
}

asio::awaitable<Result<std::vector<Message>>> ConversationStore::history(std::string const& id,
                                                                        core::Actor const& viewer,
                                                                        std::int64_t after_seq, int limit) {
  std::vector<std::string> args{id, std::string(viewer.role_name()), viewer.user_id, viewer.teams_csv,
                                std::to_string(after_seq), std::to_string(limit)};
  auto r = co_await db_.run_at(db_.keys().talk_route(id), db_.scripts().history, args);
  if (!r && db_.keys().split() && r.failure().kind == Failure::Kind::refused &&
      r.failure().refusal == core::Refusal::not_found) {
    co_await db_.sync_copies();  // as in append()
    r = co_await db_.run_at(db_.keys().talk_route(id), db_.scripts().history, std::move(args));
  }
  if (!r) co_return r.failure();
  Row row(*r, "history");
  row.text();  // the status
  auto const& entries = row.nested();
  if (!row.ok()) co_return row.failure();
  std::vector<Message> out;
  out.reserve(entries.elements.size());
  for (std::size_t i = 0; i < entries.elements.size(); ++i) {
    auto m = message_of(id, entries.elements[i], "history");
    if (!m) co_return m.failure();
    out.push_back(std::move(*m));
  }
  co_return out;
}

asio::awaitable<Result<Conversation>> ConversationStore::view(std::string const& id, core::Actor const& viewer) {
  auto r = co_await db_.call(db_.scripts().access, id, viewer.role_name(), viewer.user_id, viewer.teams_csv);
  if (!r) co_return r.failure();
  auto c = conversation_of(*r, "access");
  if (c && db_.keys().split()) {
    auto seq = co_await last_seq(id);
    if (!seq) co_return seq.failure();
    c->last_seq = *seq;
  }
  co_return c;
}

asio::awaitable<Result<std::vector<std::optional<Conversation>>>> ConversationStore::views(
    std::vector<std::string> ids, core::Actor const& viewer) {
  std::vector<std::vector<std::string>> calls;
  calls.reserve(ids.size());
  for (auto& id : ids) calls.push_back({std::move(id), viewer.role_name(), viewer.user_id, viewer.teams_csv});
  auto replies = co_await db_.run_all(db_.scripts().access, std::move(calls));
  std::vector<std::optional<Conversation>> out;
  out.reserve(replies.size());
  for (auto& r : replies) {
    if (!r) {
      if (r.failure().kind != Failure::Kind::refused) co_return r.failure();
      out.emplace_back();  // not this viewer's, or gone
      continue;
    }
    auto c = conversation_of(*r, "access");
    if (!c) co_return c.failure();
    if (db_.keys().split()) {
      auto seq = co_await last_seq(c->id);
      if (!seq) co_return seq.failure();
      c->last_seq = *seq;
    }
    out.emplace_back(std::move(*c));
  }
  co_return out;
}

asio::awaitable<Result<std::vector<ConversationStore::Listed>>> ConversationStore::newest(
    std::string const& visitor, std::string const& max_created, int count) {
  auto index = visitor.empty() ? db_.keys().conversations() : db_.keys().visitor_conversations(visitor);
  auto r = co_await db_.cmd("ZREVRANGEBYSCORE", index, max_created, "-inf", "WITHSCORES", "LIMIT", "0",
                            std::to_string(count));
  if (!r) co_return r.failure();
  if (!r->is_array() || r->elements.size() % 2 != 0)
    co_return Failure::protocol("conversations index: not id/score pairs");
  std::vector<Listed> out;
  out.reserve(r->elements.size() / 2);
  for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) {
    auto const& id = r->elements[i];
    auto const& score = r->elements[i + 1];
    if (id.kind != Reply::Kind::string || score.kind != Reply::Kind::string || !parse_real(score.str))
      co_return Failure::protocol("conversations index: not id/score pairs");
    out.push_back({id.str, score.str});
  }
  co_return out;
}

asio::awaitable<Result<std::optional<Conversation>>> ConversationStore::get(std::string const& id) {
  auto r = co_await db_.cmd("HGETALL", db_.keys().conversation(id));
  if (!r) co_return r.failure();
  if (r->is_array() && r->elements.empty()) co_return std::optional<Conversation>{};
  auto c = conversation_of(*r, "conversation");
  if (!c) co_return c.failure();
  if (db_.keys().split()) {
    auto seq = co_await last_seq(id);
    if (!seq) co_return seq.failure();
    c->last_seq = *seq;
  }
  co_return std::optional<Conversation>(std::move(*c));
}

asio::awaitable<Result<std::optional<Message>>> ConversationStore::message(std::string const& id, std::int64_t seq) {
  auto entry = "0-" + std::to_string(seq);
  auto r = co_await db_.cmd("XRANGE", db_.keys().messages(id), entry, entry);
  if (!r) co_return r.failure();
  if (!r->is_array() || r->elements.empty()) co_return std::optional<Message>{};
  auto m = message_of(id, r->elements[0], "message");
  if (!m) co_return m.failure();
  co_return std::optional<Message>(std::move(*m));
}

asio::awaitable<Result<std::optional<Message>>> ConversationStore::last_message(std::string const& id) {
  auto r = co_await db_.cmd("XREVRANGE", db_.keys().messages(id), "+", "-", "COUNT", "1");
  if (!r) co_return r.failure();
  if (!r->is_array() || r->elements.empty()) co_return std::optional<Message>{};
  auto m = message_of(id, r->elements[0], "last message");
  if (!m) co_return m.failure();
  co_return std::optional<Message>(std::move(*m));
}

asio::awaitable<Result<ConversationStore::ReadMark>> ConversationStore::read(std::string const& id,
                                                                            core::Actor const& by, std::int64_t seq) {
  // Grouped like the messages: the receipts of one turn in one script call.
  std::vector<std::string> args{id, std::string(by.role_name()), by.user_id, by.teams_csv, std::to_string(seq)};
  auto route = db_.keys().split() ? db_.keys().talk_route(id) : std::string();
  auto r = co_await db_.grouped(db_.scripts().read, std::move(args), std::move(route));
  if (!r) co_return r.failure();
  Row row(*r, "read");
  ReadMark out;
  out.visitor = row.text();
  out.agent = row.text();
  out.seq = row.integer();
  if (!row.ok()) co_return row.failure();
  co_return out;
}

asio::awaitable<Result<ConversationStore::Noted>> ConversationStore::note(std::string const& id, core::Actor const& by,
                                                                         std::string const& name,
                                                                         std::string const& text, core::Millis now) {
  auto r = co_await db_.call(db_.scripts().note, id, by.role_name(), by.user_id, name, by.teams_csv, text,
                             std::to_string(now));
  if (!r) co_return r.failure();
  Row row(*r, "note");
  Noted out;
  out.note_id = row.text();
  out.visitor = row.text();
  out.agent = row.text();
  if (!row.ok()) co_return row.failure();
  co_return out;
}

asio::awaitable<Result<Resolved>> ConversationStore::resolve(std::string const& id, core::Actor const& by,
                                                            core::Millis now, bool as_ticket) {
  std::string final_status = as_ticket ? "ticket" : "resolved";
  auto r = co_await db_.call(db_.scripts().resolve, id, by.role_name(), by.user_id, by.teams_csv, std::to_string(now),
                             final_status);
  if (!r) co_return r.failure();
  Row row(*r, "resolve");
  Resolved out;
  out.visitor = row.text();
  out.agent = row.text();
  out.team = row.text();
  auto previous = row.text();
  out.stage = row.text();
  if (!row.ok()) co_return row.failure();
  bool ok = true;
  out.previous = status_or(previous, core::ConversationStatus::active, &ok);
  if (!ok) co_return Failure::protocol("resolve: unknown status '" + previous + "'");
  co_return out;
}

asio::awaitable<Result<CsatParts>> ConversationStore::csat(CsatAnswer const& a) {
  std::string rating = a.rating ? std::to_string(*a.rating) : std::string();
  auto r = co_await db_.call(db_.scripts().csat, a.conversation_id, a.visitor, rating, a.expectation, a.comment,
                             std::to_string(a.now), std::to_string(a.window), a.solved);
  if (!r) co_return r.failure();
  Row row(*r, "csat");
  CsatParts out;
  auto stored_rating = row.maybe_text();
  out.expectation = row.text();
  out.comment = row.text();
  out.solved = row.text();
  if (!row.ok()) co_return row.failure();
  if (stored_rating && !stored_rating->empty()) {
    auto v = parse_integer(*stored_rating);
    if (!v) co_return Failure::protocol("csat: the stored rating is not a number");
    out.rating = static_cast<int>(*v);
  }
  co_return out;
}

asio::awaitable<Result<OutcomeRecorded>> ConversationStore::outcome(OutcomeRecord const& o) {
  auto r = co_await db_.call(db_.scripts().outcome, o.conversation_id, o.by.role_name(), o.by.user_id, o.by.teams_csv,
                             o.outcome, o.went_beyond, std::to_string(o.now));
  if (!r) co_return r.failure();
  Row row(*r, "outcome");
  OutcomeRecorded out;
  auto status = row.text();
  out.outcome = row.text();
  out.went_beyond = row.text();
  if (!row.ok()) co_return row.failure();
  bool ok = true;
  out.status = status_or(status, core::ConversationStatus::resolved, &ok);
  if (!ok) co_return Failure::protocol("outcome: unknown status '" + status + "'");
  co_return out;
}

asio::awaitable<Result<std::vector<std::string>>> ConversationStore::of_visitor(std::string const& visitor, int latest) {
  co_return strings_of(co_await db_.cmd("ZREVRANGE", db_.keys().visitor_conversations(visitor), "0",
                                    std::to_string(latest - 1)),
                   "visitor conversations");
}

asio::awaitable<Result<std::vector<std::string>>> ConversationStore::of_agent(std::string const& agent) {
  co_return strings_of(co_await db_.cmd("SMEMBERS", db_.keys().agent_conversations(agent)), "agent conversations");
}

asio::awaitable<Result<std::vector<std::string>>> ConversationStore::offered_to(std::string const& agent) {
  co_return strings_of(co_await db_.cmd("SMEMBERS", db_.keys().agent_offers(agent)), "agent offers");
}

asio::awaitable<Result<std::optional<ConversationStore::Standing>>> ConversationStore::standing(std::string const& id) {
  auto r = co_await db_.cmd("HMGET", db_.keys().conversation(id), "status", "seq", "team");
  if (!r) co_return r.failure();
  Row row(*r, "standing");
  auto status = row.maybe_text();
  auto seq = row.maybe_text();
  auto team = row.text();
  if (!row.ok()) co_return row.failure();
  if (!status || status->empty()) co_return std::optional<Standing>{};
  Standing out;
  bool ok = true;
  out.status = status_or(*status, core::ConversationStatus::queued, &ok);
  if (!ok) co_return Failure::protocol("standing: unknown status '" + *status + "'");
  out.last_seq = seq ? parse_integer(*seq).value_or(0) : 0;
  out.team = std::move(team);
  if (db_.keys().split()) {
    auto talk = co_await last_seq(id);
    if (!talk) co_return talk.failure();
    out.last_seq = *talk;
  }
  co_return std::optional<Standing>(std::move(out));
}

asio::awaitable<Result<std::int64_t>> ConversationStore::last_seq(std::string const& id) {
  auto r = co_await db_.cmd("HGET", db_.keys().talk(id), "seq");
  if (!r) co_return r.failure();
  if (r->is_nil()) co_return std::int64_t{0};
  auto seq = r->kind == Reply::Kind::string ? parse_integer(r->str) : std::nullopt;
  if (!seq) co_return Failure::protocol("last seq: not a number");
  co_return *seq;
}

asio::awaitable<Result<std::vector<Message>>> ConversationStore::transcript(std::string const& id, int max) {
  auto r = co_await db_.cmd("XRANGE", db_.keys().messages(id), "-", "+", "COUNT", std::to_string(max));
  if (!r) co_return r.failure();
  Row row(*r, "transcript");
  std::vector<Message> out;
  while (row.ok() && !row.at_end()) {
    auto m = message_of(id, row.nested(), "transcript");
    if (!m) co_return m.failure();
    out.push_back(std::move(*m));
  }
  if (!row.ok()) co_return row.failure();
  co_return out;
}

}  // namespace exceed::store
