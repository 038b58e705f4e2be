#include "store/routing.hpp"

#include "store/decode.hpp"
#include "store/scripts.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace exceed::store {
namespace asio = boost::asio;
namespace {

// -1 (nothing measured) or the customer's wait in the queue.
std::optional<core::Millis> wait_of(std::int64_t ms) {
  if (ms < 0) return std::nullopt;
  return ms;
}

Result<core::ConversationStatus> status_of(std::string const& s, std::string_view what) {
  auto st = core::parse_conversation_status(s);
  if (!st) return Failure::protocol(std::string(what) + ": unknown status '" + s + "'");
  return *st;
}

// A chat of a snapshot: {id, score, {agent, declined_at, ...}}.
Result<core::QueuedChat> queued_chat_of(Reply const& reply) {
  Row row(reply, "snapshot chat");
  core::QueuedChat chat;
  chat.id = row.text();
  chat.score = row.real();
  Row declines(row.nested(), "snapshot declines");
  if (!row.ok()) return row.failure();
  while (declines.ok() && !declines.at_end()) {
    core::QueuedChat::Decline d;
    d.agent_id = declines.text();
    d.at = static_cast<core::Millis>(declines.real());
    chat.declines.push_back(std::move(d));
  }
  if (!declines.ok()) return declines.failure();
  return chat;
}

// An agent of a snapshot: {id, status, capacity, active, offered, conns, last_assigned_at}.
Result<core::AgentSlot> agent_slot_of(Reply const& reply) {
  Row row(reply, "snapshot agent");
  core::AgentSlot a;
  a.id = row.text();
  a.status = core::parse_agent_status(row.text()).value_or(core::AgentStatus::offline);
  a.capacity = static_cast<int>(row.integer());
  a.active = static_cast<int>(row.integer());
  a.offered = static_cast<int>(row.integer());
  a.connections = static_cast<int>(row.integer());
  a.last_assigned_at = row.integer();
  if (!row.ok()) return row.failure();
  return a;
}

Result<OfferMade> offer_made_of(Result<Reply> r) {
  if (!r) return r.failure();
  Row row(*r, "offer");
  OfferMade out;
  out.made = row.integer() == 1;
  if (!out.made) {
    out.lost_on = row.text();
  } else {
    out.team = row.text();
    out.visitor = row.text();
    out.visitor_name = row.text();
    out.priority = row.text();
    out.context_json = row.text();
    out.preview = row.text();
  }
  if (!row.ok()) return row.failure();
  return out;
}

Result<std::int64_t> integer_of(Result<Reply> r, std::string_view what) {
  if (!r) return r.failure();
  if (r->kind != Reply::Kind::integer) return Failure::protocol(std::string(what) + ": expected an integer");
  return static_cast<std::int64_t>(r->integer);
}

Result<std::vector<std::string>> members(Result<Reply> r, std::string_view what) {
  if (!r) return r.failure();
  Row row(*r, what);
  std::vector<std::string> out;
  while (row.ok() && !row.at_end()) out.push_back(row.text());
  if (!row.ok()) return row.failure();
  return out;
}

}  // namespace

asio::awaitable<Result<TeamSnapshot>> RoutingStore::snapshot(std::string const& team, int max_chats) {
  auto r = co_await db_.call(db_.scripts().snapshot, team, std::to_string(max_chats));
  if (!r) co_return r.failure();
  Row top(*r, "snapshot");
  auto const& chats = top.nested();
  auto const& agents = top.nested();
  if (!top.ok()) co_return top.failure();
  TeamSnapshot out;
  for (std::size_t i = 0; i < chats.elements.size(); ++i) {
    auto chat = queued_chat_of(chats.elements[i]);
    if (!chat) co_return chat.failure();
    out.queue.push_back(std::move(*chat));
  }
  for (std::size_t i = 0; i < agents.elements.size(); ++i) {
    auto agent = agent_slot_of(agents.elements[i]);
    if (!agent) co_return agent.failure();
    out.agents.push_back(std::move(*agent));
  }
  co_return out;
}

asio::awaitable<std::vector<Result<OfferMade>>> RoutingStore::offer(std::vector<core::Offer> const& offers,
                                                                    core::Millis now) {
  std::vector<std::vector<std::string>> calls;
  calls.reserve(offers.size());
  for (std::size_t i = 0; i < offers.size(); ++i)
    calls.push_back({offers[i].conversation_id, offers[i].agent_id, std::to_string(offers[i].expires_at),
                     std::to_string(now)});
  auto replies = co_await db_.run_all(db_.scripts().offer, std::move(calls));
  std::vector<Result<OfferMade>> out;
  out.reserve(replies.size());
  for (std::size_t i = 0; i < replies.size(); ++i) out.push_back(offer_made_of(std::move(replies[i])));
  co_return out;
}

asio::awaitable<Result<Accepted>> RoutingStore::accept(std::string const& conversation_id, std::string const& agent,
                                                       std::string const& agent_name, core::Millis now) {
  auto r = co_await db_.call(db_.scripts().accept, conversation_id, agent, agent_name, std::to_string(now));
  if (!r) co_return r.failure();
  Row row(*r, "accept");
  Accepted out;
  out.team = row.text();
  out.visitor = row.text();
  out.visitor_name = row.text();
  out.queue_wait = wait_of(row.integer());
  if (!row.ok()) co_return row.failure();
  co_return out;
}

asio::awaitable<Result<std::string>> RoutingStore::decline(std::string const& conversation_id,
                                                           std::string const& agent, core::Millis now) {
  auto r = co_await db_.call(db_.scripts().decline, conversation_id, agent, std::to_string(now));
  if (!r) co_return r.failure();
  Row row(*r, "decline");
  auto team = row.text();
  if (!row.ok()) co_return row.failure();
  co_return team;
}

asio::awaitable<Result<std::vector<ExpiredOffer>>> RoutingStore::expire_offers(core::Millis now, int max) {
  auto r = co_await db_.call(db_.scripts().expire_offers, std::to_string(now), std::to_string(max));
  if (!r) co_return r.failure();
  Row row(*r, "expire_offers");
  std::vector<ExpiredOffer> out;
  while (row.ok() && !row.at_end()) {
    ExpiredOffer e;
    e.conversation_id = row.text();
    e.agent = row.text();
    e.team = row.text();
    out.push_back(std::move(e));
  }
  if (!row.ok()) co_return row.failure();
  co_return out;
}

asio::awaitable<Result<Assigned>> RoutingStore::assign(Assignment const& a) {
  std::string mode = a.force ? "force" : "transfer";
  auto r = co_await db_.call(db_.scripts().assign, a.conversation_id, a.to_agent, std::to_string(a.now), mode,
                             a.expected_agent);
  if (!r) co_return r.failure();
  Row row(*r, "assign");
  auto previous = row.text();
  Assigned out;
  out.previous_agent = row.text();
  out.visitor = row.text();
  out.team = row.text();
  out.agent_name = row.text();
  out.queue_wait = wait_of(row.integer());
  if (!row.ok()) co_return row.failure();
  auto status = status_of(previous, "assign");
  if (!status) co_return status.failure();
  out.previous = *status;
  co_return out;
}

asio::awaitable<Result<std::string>> RoutingStore::requeue(Requeue const& q) {
  auto r = co_await db_.call(db_.scripts().requeue, q.conversation_id, q.from_agent, q.to_team,
                             text_of_number(q.score), std::to_string(q.now));
  if (!r) co_return r.failure();
  Row row(*r, "requeue");
  auto visitor = row.text();
  row.text();  // the team, as asked
  if (!row.ok()) co_return row.failure();
  co_return visitor;
}

asio::awaitable<Result<std::vector<OpenOffer>>> RoutingStore::open_offers(std::string const& agent) {
  auto ids = members(co_await db_.cmd("SMEMBERS", db_.keys().agent_offers(agent)), "agent offers");
  if (!ids) co_return ids.failure();
  std::vector<OpenOffer> out;
  for (std::size_t i = 0; i < ids->size(); ++i) {
    auto const& id = (*ids)[i];
    auto r = co_await db_.cmd("HMGET", db_.keys().conversation(id), "status", "offered_to", "offer_expires", "team",
                              "visitor", "visitor_name", "priority", "context", "preview");
    if (!r) co_return r.failure();
    Row row(*r, "open offer");
    auto status = row.text();
    auto offered_to = row.text();
    auto expires = row.maybe_text();
    OpenOffer o;
    o.conversation_id = id;
    o.team = row.text();
    o.visitor = row.text();
    o.visitor_name = row.text();
    o.priority = row.text();
    o.context_json = row.text();
    o.preview = row.text();
    if (!row.ok()) co_return row.failure();
    if (status != "offered" || offered_to != agent) continue;  // taken or lapsed meanwhile
    o.expires_at = expires ? parse_integer(*expires).value_or(0) : 0;
    out.push_back(std::move(o));
  }
  co_return out;
}

asio::awaitable<Result<std::int64_t>> RoutingStore::presence(std::string const& agent, std::string const& process,
                                                             int delta, core::Millis now, core::Millis grace_ms) {
  co_return integer_of(co_await db_.call(db_.scripts().presence, agent, process, std::to_string(delta),
                                         std::to_string(now), std::to_string(grace_ms)),
                       "presence");
}

asio::awaitable<Result<std::vector<GraceDue>>> RoutingStore::grace_due(core::Millis now, int max) {
  auto r = co_await db_.call(db_.scripts().grace_due, std::to_string(now), std::to_string(max));
  if (!r) co_return r.failure();
  Row row(*r, "grace_due");
  std::vector<GraceDue> out;
  while (row.ok() && !row.at_end()) {
    GraceDue g;
    g.agent = row.text();
    Row chats(row.nested(), "grace_due chats");
    while (chats.ok() && !chats.at_end()) {
      GraceDue::Chat c;
      c.conversation_id = chats.text();
      c.priority = core::parse_priority(chats.text()).value_or(core::Priority::normal);
      c.created_at = static_cast<core::Millis>(chats.real());
      c.team = chats.text();
      g.chats.push_back(std::move(c));
    }
    if (!chats.ok()) co_return chats.failure();
    out.push_back(std::move(g));
  }
  if (!row.ok()) co_return row.failure();
  co_return out;
}

asio::awaitable<Result<bool>> RoutingStore::grace_done(std::string const& agent) {
  auto n = integer_of(co_await db_.call(db_.scripts().grace_done, agent), "grace_done");
  if (!n) co_return n.failure();
  co_return *n == 1;
}

asio::awaitable<Result<AgentStatusSet>> RoutingStore::set_status(std::string const& agent, core::AgentStatus status,
                                                                 std::optional<int> capacity) {
  std::string cap = capacity ? std::to_string(*capacity) : std::string();
  auto r = co_await db_.call(db_.scripts().agent_status, agent, std::string(core::to_string(status)), cap);
  if (!r) co_return r.failure();
  Row row(*r, "agent_status");
  auto stored = row.text();
  AgentStatusSet out;
  out.capacity = static_cast<int>(row.integer());
  row.text();  // the agent's teams
  if (!row.ok()) co_return row.failure();
  auto st = core::parse_agent_status(stored);
  if (!st) co_return Failure::protocol("agent_status: unknown status '" + stored + "'");
  out.status = *st;
  co_return out;
}

asio::awaitable<Result<std::vector<Waiting>>> RoutingStore::waiting(std::string const& team, int max) {
  auto r = co_await db_.call(db_.scripts().positions, team, std::to_string(max));
  if (!r) co_return r.failure();
  Row row(*r, "positions");
  std::vector<Waiting> out;
  while (row.ok() && !row.at_end()) {
    Waiting w;
    w.conversation_id = row.text();
    w.visitor = row.text();
    out.push_back(std::move(w));
  }
  if (!row.ok()) co_return row.failure();
  co_return out;
}

namespace {
Result<Done> read_due(Reply const& reply, std::vector<SlaDue>& out) {
  Row row(reply, "sla_due");
  while (row.ok() && !row.at_end()) {
    SlaDue d;
    d.id = row.text();
    d.ticket = d.id.rfind("t_", 0) == 0;  // the scripts' rule too (record_key in lua/prelude.lua)
    d.metric = row.text();
    d.breach = row.text() == "breach";
    d.due_at = row.integer();
    d.agent = row.text();
    d.team = row.text();
    out.push_back(std::move(d));
  }
  if (!row.ok()) return row.failure();
  return Done{};
}
}  // namespace

asio::awaitable<Result<std::vector<SlaDue>>> RoutingStore::sla_due(core::Millis now, int max) {
  auto r = co_await db_.call(db_.scripts().sla_due, std::to_string(now), std::to_string(max), std::string());
  if (!r) co_return r.failure();
  std::vector<SlaDue> out;
  auto read = read_due(*r, out);
  if (!read) co_return read.failure();
  if (!db_.keys().split()) co_return out;
  // The talk buckets' timers (conversations' response waits), a quarter
  // per call, all of them pipelined.
  constexpr int share = Keys::talk_buckets / 4;
  std::vector<std::vector<std::string>> calls;
  std::vector<std::string> routes;
  for (int i = 0; i < share; ++i) {
    int k = next_bucket_;
    next_bucket_ = (next_bucket_ + 1) % Keys::talk_buckets;
    calls.push_back({std::to_string(now), std::to_string(max), std::to_string(k)});
    routes.push_back(db_.keys().bucket_route(k));
  }
  auto replies = co_await db_.run_all(db_.scripts().sla_due, std::move(calls), std::move(routes));
  auto const first_of_buckets = out.size();
  for (auto const& reply : replies) {
    if (!reply) {
      spdlog::debug("store: sla_due in a talk bucket: {}", reply.failure().message);
      continue;  // that bucket's timers stay for the next sweep
    }
    auto more = read_due(*reply, out);
    if (!more) spdlog::warn("store: sla_due in a talk bucket: {}", more.failure().message);
  }
  // Their breaches, on the conversations' records (the team's and agent's
  // breach counts, the record's, the live sample).
  for (std::size_t i = first_of_buckets; i < out.size(); ++i) {
    auto const& d = out[i];
    if (!d.breach) continue;
    std::vector<std::string> facts{d.id, d.team, d.agent, std::to_string(now), "", "-1", d.metric,
                                   std::to_string(now - d.due_at)};
    auto told = co_await db_.grouped(db_.scripts().clock, std::move(facts));
    if (!told) spdlog::warn("store: the breach of {} was not recorded: {}", d.id, told.failure().message);
  }
  co_return out;
}

asio::awaitable<Result<std::vector<std::string>>> RoutingStore::teams() {
  co_return members(co_await db_.cmd("SMEMBERS", db_.keys().teams()), "teams");
}

asio::awaitable<Result<Done>> RoutingStore::beat(std::string const& process, core::Millis now) {
  auto r = co_await db_.cmd("ZADD", db_.keys().processes(), std::to_string(now), process);
  if (!r) co_return r.failure();
  co_return Done{};
}

asio::awaitable<Result<std::int64_t>> RoutingStore::reap(core::Millis now, core::Millis dead_before,
                                                         core::Millis grace_ms) {
  co_return integer_of(co_await db_.call(db_.scripts().reap_procs, std::to_string(now), std::to_string(dead_before),
                                         std::to_string(grace_ms)),
                       "reap_procs");
}

asio::awaitable<Result<std::int64_t>> RoutingStore::live_processes(core::Millis since) {
  co_return integer_of(co_await db_.cmd("ZCOUNT", db_.keys().processes(), std::to_string(since), "+inf"),
                       "live processes");
}

asio::awaitable<Result<std::int64_t>> RoutingStore::bus_subscribers() {
  auto r = co_await db_.subscribers(db_.keys().bus());
  if (!r) co_return r.failure();
  co_return subscribers_of(*r, db_.keys().bus());
}

void RoutingStore::publish_bus(std::string payload) { db_.publish(db_.keys().bus(), std::move(payload)); }

Result<std::int64_t> subscribers_of(Reply const& reply, std::string_view channel) {
  Row row(reply, "PUBSUB NUMSUB");
  auto named = row.text();
  auto count = row.integer();
  if (!row.ok()) return row.failure();
  if (!row.at_end() || named != channel)
    return Failure::protocol("PUBSUB NUMSUB: not the count of " + std::string(channel) + " alone");
  return count;
}

asio::awaitable<Result<Done>> RoutingStore::leave(std::string const& process) {
  auto r = co_await db_.cmd("ZREM", db_.keys().processes(), process);
  if (!r) co_return r.failure();
  co_return Done{};
}

void RoutingStore::arrive(std::string const& process, std::string const& default_team, core::Millis now) {
  db_.post({"SADD", db_.keys().teams(), default_team});
  db_.post({"ZADD", db_.keys().processes(), std::to_string(now), process});
}

}  // namespace exceed::store
