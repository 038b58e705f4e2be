// The WebSocket requests of PROTOCOL.md: each decodes to a command, runs one
// store script (which checks access and state atomically), answers with an
// ack or an error, and publishes the events it causes.
#include "app/app.hpp"
#include "app/assessments.hpp"
#include "app/client.hpp"
#include "app/conversations.hpp"
#include "app/followups.hpp"
#include "app/metrics.hpp"
#include "app/tickets.hpp"
#include "core/hours.hpp"
#include "app/routing.hpp"
#include "store/scripts.hpp"
#include "app/wire.hpp"
#include "core/router.hpp"

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

namespace exceed::app {
namespace json = boost::json;
using protocol::error;
using namespace protocol;

namespace {

void reply_error(Client& c, json::value const& id, Outcome const& o) {
  c.send(encode_error(id, *o.error, o.message));
}

json::object person(std::string_view id, std::string_view name) {
  json::object p;
  p["id"] = id;
  p["name"] = name;
  return p;
}


Targets both_sides(std::string const& visitor, std::string const& agent) {
  Targets t{"u:" + visitor};
  if (!agent.empty()) t.push_back("u:" + agent);
  return t;
}

}  // namespace

// ---------------------------------------------------------------- hello

boost::asio::awaitable<void> App::hello(Client& client, Request const& req) {
  auto const& h = std::get<Hello>(req.command);
  TokenProblem why{};
  auto claims = tokens_.verify(h.token, now_ms(), &why);
  if (!claims) {
    std::string text = why == TokenProblem::expired ? "the token has expired" : "the token is not valid";
    client.send(encode_error(req.id, error::unauthorized, text));
    client.close(close_code::unauthorized, "unauthorized");
    co_return;
  }
  std::string name = claims->name;
  std::vector<std::string> teams;
  if (claims->role != core::Role::customer) {
    auto user = co_await db_->cmd("HGETALL", db_->key("user:" + claims->subject));
    if (!user) {
      client.send(encode_error(req.id, *user.error, user.message));
      client.close(1013, "try again later");
      co_return;
    }
    if (auto why = staff_token_refusal(*claims, field(user.reply, "role"), field(user.reply, "token_version"),
                                       field(user.reply, "disabled"))) {
      client.send(encode_error(req.id, error::unauthorized, *why));
      client.close(close_code::unauthorized, "unauthorized");
      co_return;
    }
    name = std::string(field(user.reply, "name"));
    std::string_view csv = field(user.reply, "teams");
    for (std::size_t start = 0; start < csv.size();) {
      auto comma = csv.find(',', start);
      auto end = comma == std::string_view::npos ? csv.size() : comma;
      if (end > start) teams.emplace_back(csv.substr(start, end - start));
      start = end + 1;
    }
  }
  co_await joined();  // no-op once this process has joined the others
  if (!client.open()) co_return;
  // One person keeps a few tabs and devices open, not thousands of sockets
  // on one token (counted in this process).
  if (hub_.sessions_of(claims->subject).size() >= static_cast<std::size_t>(config_.limits.sessions_per_user)) {
    metrics_->rate_limited("sessions");
    client.send(encode_error(req.id, error::rate_limited, "too many open sessions for this user"));
    client.close(close_code::flood, "too many sessions");
    co_return;
  }
  client.authenticate(claims->role, claims->subject, name, teams);
  hub_.add(client.shared_from_this());
  spdlog::debug("ws {}: hello as {} {}", client.id(), core::to_string(claims->role), claims->subject);

  if (claims->role == core::Role::agent) {
    auto p = co_await db_->call(db_->scripts().presence, client.user_id(), process_id_, "1", std::to_string(now_ms()),
                                std::to_string(config_.routing.agent_grace_s * 1000LL));
    if (!p) note_presence_debt(client.user_id(), 1);
    for (auto const& t : teams) routing_->dispatch(t);
  }

  // The user's open conversations, so a client can resume without a list call.
  json::array open;
  std::string index = claims->role == core::Role::customer ? "visitor:" + client.user_id() + ":convs"
                                                           : "agent:" + client.user_id() + ":convs";
  if (claims->role != core::Role::supervisor) {
    Outcome ids;
    if (claims->role == core::Role::customer)
      ids = co_await db_->cmd("ZREVRANGE", db_->key(index), "0", "19");
    else
      ids = co_await db_->cmd("SMEMBERS", db_->key(index));
    for (auto const& id : ids.reply.elements) {
      auto c = co_await db_->cmd("HMGET", db_->key("conv:" + id.str), "status", "seq", "team");
      if (!c || str_at(c.reply, 0).empty() || str_at(c.reply, 0) == "resolved") continue;
      json::object item;
      item["conversation_id"] = id.str;
      item["status"] = str_at(c.reply, 0);
      item["last_seq"] = int_at(c.reply, 1);
      item["team"] = str_at(c.reply, 2);
      if (str_at(c.reply, 0) == "queued") routing_->positions(str_at(c.reply, 2));
      open.push_back(std::move(item));
    }
  }
  json::object welcome;
  welcome["role"] = core::to_string(claims->role);
  welcome["user_id"] = client.user_id();
  welcome["session_id"] = process_id_ + "." + std::to_string(client.id());
  welcome["server_time"] = now_ms();
  welcome["name"] = name;
  welcome["conversations"] = std::move(open);
  client.send(encode_event("welcome", std::move(welcome)));

  // Offers still open for an agent who reconnected: shown again, with the
  // time left; and the follow-ups that fell due while they were away.
  if (claims->role == core::Role::agent) {
    co_await followups_->deliver_pending(client);
    auto offers = co_await db_->cmd("SMEMBERS", db_->key("agent:" + client.user_id() + ":offers"));
    for (auto const& id : offers.reply.elements) {
      auto c = co_await db_->cmd("HMGET", db_->key("conv:" + id.str), "status", "offered_to", "offer_expires", "team",
                                 "visitor", "visitor_name", "priority", "context", "preview");
      if (!c || str_at(c.reply, 0) != "offered" || str_at(c.reply, 1) != client.user_id()) continue;
      auto left = (int_at(c.reply, 2) - now_ms() + 999) / 1000;
      if (left <= 0) continue;
      client.send(offer_event({id.str, str_at(c.reply, 3), str_at(c.reply, 4), str_at(c.reply, 5),
                               str_at(c.reply, 6), str_at(c.reply, 7), str_at(c.reply, 8), left}));
    }
  }

  // Resume: everything after each after_seq, in order, as message events.
  static std::vector<store::Reply> const no_entries;
  for (auto const& r : h.resume) {
    std::int64_t after = r.after_seq;
    for (;;) {
      auto o = co_await db_->call(db_->scripts().history, r.conversation_id, std::string(core::to_string(client.role())), client.user_id(),
                                  client.teams_csv(), std::to_string(after), "200");
      if (!o) {
        client.send(encode_error(nullptr, *o.error, o.message + " (resume " + r.conversation_id + ")"));
        break;
      }
      auto const& entries = o.reply.elements.size() > 1 ? o.reply.elements[1].elements : no_entries;
      for (auto const& e : entries) {
        auto m = message_json(r.conversation_id, e);
        after = m["seq"].as_int64();
        client.send(encode_event("message", std::move(m)));
      }
      if (entries.size() < 200) break;
    }
  }
}

// ---------------------------------------------------------------- requests

namespace {

struct Handlers {
  App& app;
  Client& c;
  Request const& req;

  Db& db() { return app.db(); }
  store::Scripts const& s() { return app.db().scripts(); }
  std::string role() { return std::string(core::to_string(c.role())); }
  std::string now() { return std::to_string(now_ms()); }
  void ack(json::object result = {}) { c.send(encode_ack(req.id, std::move(result))); }
  void fail(Outcome const& o) { reply_error(c, req.id, o); }
  void fail(error code, std::string_view text) { c.send(encode_error(req.id, code, text)); }
  // A script that assigned a chat for the first time answers its queue wait
  // at `index` (-1 otherwise).
  void observe_wait(Outcome const& o, std::size_t index) {
    if (auto ms = int_at(o.reply, index); ms >= 0) app.metrics().queue_wait(ms);
  }

  boost::asio::awaitable<void> operator()(Hello const&) { co_return; }

  Actor actor() const { return Actor{c.role(), c.user_id(), c.teams_csv()}; }

  boost::asio::awaitable<void> operator()(FollowupCreate const& f) {
    NewFollowup n;
    n.conversation_id = f.conversation_id.value_or("");
    n.ticket_id = f.ticket_id.value_or("");
    n.due_at = f.due_at;
    n.note = f.note;
    n.kind = f.kind;
    n.owner_id = f.owner_id.value_or("");
    auto o = co_await app.followups().create(actor(), std::move(n));
    if (!o) co_return fail(to_outcome(o.failure()));
    json::object result;
    result["followup_id"] = o->id;
    result["due_at"] = f.due_at;
    ack(std::move(result));
  }

  boost::asio::awaitable<void> operator()(FollowupComplete const& f) {
    auto o = co_await app.followups().finish(actor(), f.followup_id, "done");
    if (!o) co_return fail(to_outcome(o.failure()));
    json::object result;
    result["followup_id"] = f.followup_id;
    ack(std::move(result));
    if (!o->conversation_id.empty()) co_await app.assessments().assess(o->conversation_id, "followup_done");
  }

  // The conversation requests (app/conversations.cpp).
  Sender sender() const { return Sender{actor(), c.name(), c.teams()}; }
  struct ToClient final : Reply {
    Client& c;
    json::value const& id;
    ToClient(Client& client, json::value const& request_id) : c(client), id(request_id) {}
    void ack(json::object fields) override { c.send(encode_ack(id, std::move(fields))); }
  };
  void answered(Answer const& a) {
    if (!a) fail(to_outcome(a.failure()));
  }
  boost::asio::awaitable<void> operator()(ConversationStart const& st) {
    ToClient to{c, req.id};
    answered(co_await app.conversations().start(sender(), st, to));
  }
  boost::asio::awaitable<void> operator()(MessageSend const& m) {
    ToClient to{c, req.id};
    answered(co_await app.conversations().send(sender(), m, to));
  }
  boost::asio::awaitable<void> operator()(Typing const& t) { answered(co_await app.conversations().typing(sender(), t)); }
  boost::asio::awaitable<void> operator()(Read const& r) { answered(co_await app.conversations().read(sender(), r)); }
  boost::asio::awaitable<void> operator()(HistoryGet const& h) {
    ToClient to{c, req.id};
    answered(co_await app.conversations().history(sender(), h, to));
  }
  boost::asio::awaitable<void> operator()(NoteAdd const& n) {
    ToClient to{c, req.id};
    answered(co_await app.conversations().note(sender(), n, to));
  }
  boost::asio::awaitable<void> operator()(ConversationResolve const& r) {
    ToClient to{c, req.id};
    answered(co_await app.conversations().resolve(sender(), r, to));
  }
  boost::asio::awaitable<void> operator()(ConversationOutcome const& r) {
    ToClient to{c, req.id};
    answered(co_await app.conversations().outcome(sender(), r, to));
  }

  boost::asio::awaitable<void> operator()(ReviewList const& r) { co_await app.assessments().review_list(c, req, r); }

  boost::asio::awaitable<void> operator()(MetricsSubscribe const&) {
    ack();
    app.metrics().subscribe(c.shared_from_this());
    co_return;
  }

  boost::asio::awaitable<void> operator()(CsatSubmit const& cs) {
    auto o = co_await app.assessments().answer_csat(c.user_id(), cs);
    if (!o) co_return fail(o);
    ack(Assessments::csat_json(cs.conversation_id, o.reply));
  }

  boost::asio::awaitable<void> operator()(AgentStatusSet const& a) {
    std::string capacity = a.capacity ? std::to_string(*a.capacity) : std::string();
    auto o = co_await db().call(s().agent_status, c.user_id(), std::string(core::to_string(a.status)), capacity);
    if (!o) co_return fail(o);
    json::object result;
    result["status"] = str_at(o.reply, 0);
    result["capacity"] = int_at(o.reply, 1);
    ack(std::move(result));
    if (a.status == core::AgentStatus::online)
      for (auto const& t : c.teams()) app.routing().dispatch(t);
  }

  boost::asio::awaitable<void> operator()(ConversationAccept const& a) {
    auto o = co_await db().call(s().accept, a.conversation_id, c.user_id(), c.name(), now());
    if (!o) co_return fail(o);
    observe_wait(o, 3);
    auto const& team = str_at(o.reply, 0);
    auto const& visitor = str_at(o.reply, 1);
    json::object result;
    result["conversation_id"] = a.conversation_id;
    result["status"] = "active";
    result["team"] = team;
    result["visitor"] = person(visitor, str_at(o.reply, 2));
    ack(std::move(result));
    json::object ev;
    ev["conversation_id"] = a.conversation_id;
    ev["agent"] = person(c.user_id(), c.name());
    ev["team"] = team;
    app.publish(both_sides(visitor, c.user_id()), encode_event("conversation.assigned", std::move(ev)));
  }

  boost::asio::awaitable<void> operator()(ConversationDecline const& d) {
    auto o = co_await db().call(s().decline, d.conversation_id, c.user_id(), now());
    if (!o) co_return fail(o);
    json::object result;
    result["conversation_id"] = d.conversation_id;
    ack(std::move(result));
    app.routing().dispatch(str_at(o.reply, 0));
  }

  // Announces that `conv` now belongs to `agent` (transfer or force-assign).
  void announce_assignment(std::string const& conv, std::string const& previous_status,
                           std::string const& previous_agent, std::string const& visitor, std::string const& team,
                           std::string const& agent, std::string const& agent_name) {
    if (!previous_agent.empty() && previous_agent != agent) {
      json::object ev;
      ev["conversation_id"] = conv;
      if (previous_status == "offered") {
        app.publish({"u:" + previous_agent}, encode_event("conversation.offer_expired", std::move(ev)));
      } else {
        ev["reason"] = c.role() == core::Role::supervisor ? "reassigned" : "transferred";
        app.publish({"u:" + previous_agent}, encode_event("conversation.unassigned", std::move(ev)));
      }
    }
    json::object ev;
    ev["conversation_id"] = conv;
    ev["agent"] = person(agent, agent_name);
    ev["team"] = team;
    app.publish(both_sides(visitor, agent), encode_event("conversation.assigned", std::move(ev)));
    if (previous_status == "queued") app.routing().positions(team);
    app.routing().dispatch(team);
  }

  boost::asio::awaitable<void> operator()(ConversationTransfer const& t) {
    bool supervisor = c.role() == core::Role::supervisor;
    if (t.to_agent_id) {
      std::string mode = supervisor ? "force" : "transfer";
      auto o = co_await db().call(s().assign, t.conversation_id, *t.to_agent_id, now(), mode, c.user_id());
      if (!o) co_return fail(o);
      observe_wait(o, 5);
      json::object result;
      result["conversation_id"] = t.conversation_id;
      result["status"] = "active";
      ack(std::move(result));
      announce_assignment(t.conversation_id, str_at(o.reply, 0), str_at(o.reply, 1), str_at(o.reply, 2),
                          str_at(o.reply, 3), *t.to_agent_id, str_at(o.reply, 4));
      co_return;
    }
    auto rec = co_await db().call(s().access, t.conversation_id, role(), c.user_id(), c.teams_csv());
    if (!rec) co_return fail(rec);
    std::string agent(field(rec.reply, "agent"));
    if (field(rec.reply, "status") != "active") co_return fail(error::conflict, "only an active conversation can be transferred");
    if (!supervisor && agent != c.user_id()) co_return fail(error::forbidden, "the conversation is not assigned to you");
    auto priority = core::parse_priority(field(rec.reply, "priority")).value_or(core::Priority::normal);
    core::Millis created = 0;
    try {
      created = std::stoll(std::string(field(rec.reply, "created_at")));
    } catch (std::exception const&) {
    }
    auto old_team = std::string(field(rec.reply, "team"));
    // The customer keeps the place their original wait earned them.
    auto score = json::serialize(json::value(core::queue_score(priority, created)));
    auto o = co_await db().call(s().requeue, t.conversation_id, agent, *t.to_team, score, now());
    if (!o) co_return fail(o);
    json::object result;
    result["conversation_id"] = t.conversation_id;
    result["status"] = "queued";
    ack(std::move(result));
    json::object ev;
    ev["conversation_id"] = t.conversation_id;
    ev["reason"] = "transferred";
    app.publish({"u:" + agent}, encode_event("conversation.unassigned", std::move(ev)));
    app.routing().dispatch(*t.to_team);
    app.routing().positions(*t.to_team);
    if (old_team != *t.to_team) app.routing().dispatch(old_team);
  }

  boost::asio::awaitable<void> operator()(ConversationAssign const& a) {
    auto o = co_await db().call(s().assign, a.conversation_id, a.agent_id, now(), "force", "");
    if (!o) co_return fail(o);
    observe_wait(o, 5);
    json::object result;
    result["conversation_id"] = a.conversation_id;
    result["agent_id"] = a.agent_id;
    ack(std::move(result));
    announce_assignment(a.conversation_id, str_at(o.reply, 0), str_at(o.reply, 1), str_at(o.reply, 2),
                        str_at(o.reply, 3), a.agent_id, str_at(o.reply, 4));
  }

};

}  // namespace

boost::asio::awaitable<void> App::handle(Client& client, Request const& req) {
  Handlers h{*this, client, req};
  co_await std::visit([&h](auto const& cmd) { return h(cmd); }, req.command);
}

}  // namespace exceed::app
