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
#include "app/visitors.hpp"
#include "core/hours.hpp"
#include "app/routing.hpp"
#include "store/accounts.hpp"
#include "store/conversations.hpp"
#include "store/scripts.hpp"
#include "app/wire.hpp"

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

}  // namespace

// ---------------------------------------------------------------- hello

boost::asio::awaitable<void> App::hello(Client& client, Request const& req) {
  auto const& h = std::get<Hello>(req.command);
  TokenProblem why{};
  auto claims = tokens_.verify(h.token, clock_.now(), &why);
  if (!claims) {
    std::string text = why == TokenProblem::expired ? "the token has expired" : "the token is not valid";
    client.send(encode_error(req.id, error::unauthorized, text));
    client.close(close_code::unauthorized, "unauthorized");
    co_return;
  }
  std::string name = claims->name;
  std::vector<std::string> teams;
  if (claims->role != core::Role::customer) {
    auto account = co_await account_store_->account(claims->subject);
    if (!account) {
      auto o = to_outcome(account.failure());
      client.send(encode_error(req.id, *o.error, o.message));
      client.close(1013, "try again later");
      co_return;
    }
    auto const* stored = account->has_value() ? &**account : nullptr;
    if (auto why = staff_token_refusal(*claims, stored)) {
      client.send(encode_error(req.id, error::unauthorized, *why));
      client.close(close_code::unauthorized, "unauthorized");
      co_return;
    }
    name = stored->name;
    teams = stored->teams;
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

  if (claims->role == core::Role::agent) co_await routing_->agent_connected(client.user_id(), teams);

  // The user's open conversations, so a client can resume without a list call.
  auto open = co_await open_conversations(client);
  json::object welcome;
  welcome["role"] = core::to_string(claims->role);
  welcome["user_id"] = client.user_id();
  welcome["session_id"] = process_id_ + "." + std::to_string(client.id());
  welcome["server_time"] = clock_.now();
  welcome["name"] = name;
  welcome["conversations"] = std::move(open);
  client.send(encode_event("welcome", std::move(welcome)));

  // Offers still open for an agent who reconnected: shown again, with the
  // time left; and the follow-ups that fell due while they were away.
  if (claims->role == core::Role::agent) {
    co_await followups_->deliver_pending(client);
    auto offers = co_await routing_->open_offers(client.user_id());
    for (std::size_t i = 0; i < offers.size(); ++i) client.send(std::move(offers[i]));
  }

  co_await resume(client, h.resume);
}

// The conversations a hello lists: a customer's open ones among their
// latest 20, an agent's current ones (none for a supervisor); a queued one
// has its team's queue positions told again.
boost::asio::awaitable<json::array> App::open_conversations(Client& client) {
  json::array open;
  if (client.role() == core::Role::supervisor) co_return open;
  store::Result<std::vector<std::string>> ids;
  if (client.role() == core::Role::customer) ids = co_await conversation_store_->of_visitor(client.user_id(), 20);
  else ids = co_await conversation_store_->of_agent(client.user_id());
  for (std::size_t i = 0; ids && i < ids->size(); ++i) {
    auto const& id = (*ids)[i];
    auto c = co_await conversation_store_->standing(id);
    if (!c || !*c || !core::is_open((*c)->status)) continue;
    json::object item;
    item["conversation_id"] = id;
    item["status"] = core::to_string((*c)->status);
    item["last_seq"] = (*c)->last_seq;
    item["team"] = (*c)->team;
    if ((*c)->status == core::ConversationStatus::queued) routing_->positions((*c)->team);
    open.push_back(std::move(item));
  }
  co_return open;
}

// Resume: everything after each after_seq, in order, as message events.
boost::asio::awaitable<void> App::resume(Client& client, std::vector<protocol::Resume> points) {
  core::Actor reader{client.role(), client.user_id(), client.teams_csv()};
  for (std::size_t i = 0; i < points.size(); ++i) {
    auto const& r = points[i];
    std::int64_t after = r.after_seq;
    for (;;) {
      auto page = co_await conversation_store_->history(r.conversation_id, reader, after, 200);
      if (!page) {
        auto o = to_outcome(page.failure());
        client.send(encode_error(nullptr, *o.error, o.message + " (resume " + r.conversation_id + ")"));
        break;
      }
      for (std::size_t m = 0; m < page->size(); ++m) {
        after = (*page)[m].seq;
        client.send(encode_event("message", Conversations::message_json((*page)[m])));
      }
      if (page->size() < 200) break;
    }
  }
}

// ---------------------------------------------------------------- requests

namespace {

struct Handlers {
  App& app;
  Client& c;
  Request const& req;

  void ack(json::object result = {}) { c.send(encode_ack(req.id, std::move(result))); }
  void fail(Outcome const& o) { reply_error(c, req.id, o); }

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
    void ack(protocol::JsonOut const& fields) override { c.send(encode_ack(id, fields)); }
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

  boost::asio::awaitable<void> operator()(ReviewList const& r) {
    auto listed = co_await app.assessments().review_list(r);
    if (!listed) co_return fail(to_outcome(listed.failure()));
    ack(std::move(*listed));
  }

  // Visitors browsing (app/visitors.hpp answers these itself).
  boost::asio::awaitable<void> operator()(VisitorPage const& p) { co_await app.visitors().page(c, req, p); }
  boost::asio::awaitable<void> operator()(VisitorTrack const& t) { co_await app.visitors().track(c, req, t); }
  boost::asio::awaitable<void> operator()(InvitationAnswer const& a) { co_await app.visitors().answer(c, req, a); }
  boost::asio::awaitable<void> operator()(VisitorInvite const& i) { co_await app.visitors().invite(c, req, i); }
  boost::asio::awaitable<void> operator()(VisitorsSubscribe const& s) {
    app.visitors().subscribe(c, req, s);
    co_return;
  }
  boost::asio::awaitable<void> operator()(VisitorsUnsubscribe const&) {
    app.visitors().unsubscribe(c, req);
    co_return;
  }

  boost::asio::awaitable<void> operator()(MetricsSubscribe const&) {
    ack();
    app.metrics().subscribe(c.shared_from_this());
    co_return;
  }

  boost::asio::awaitable<void> operator()(CsatSubmit const& cs) {
    auto o = co_await app.assessments().answer_csat(c.user_id(), cs);
    if (!o) co_return fail(to_outcome(o.failure()));
    ack(Assessments::csat_json(cs.conversation_id, *o));
  }

  // The routing requests (app/routing_requests.cpp).
  boost::asio::awaitable<void> operator()(AgentStatusSet const& a) {
    ToClient to{c, req.id};
    answered(co_await app.routing().set_status(sender(), a, to));
  }
  boost::asio::awaitable<void> operator()(ConversationAccept const& a) {
    ToClient to{c, req.id};
    answered(co_await app.routing().accept(sender(), a, to));
  }
  boost::asio::awaitable<void> operator()(ConversationDecline const& d) {
    ToClient to{c, req.id};
    answered(co_await app.routing().decline(sender(), d, to));
  }
  boost::asio::awaitable<void> operator()(ConversationTransfer const& t) {
    ToClient to{c, req.id};
    answered(co_await app.routing().transfer(sender(), t, to));
  }
  boost::asio::awaitable<void> operator()(ConversationAssign const& a) {
    ToClient to{c, req.id};
    answered(co_await app.routing().assign(sender(), a, to));
  }
};

}  // namespace

boost::asio::awaitable<void> App::handle(Client& client, Request const& req) {
  Handlers h{*this, client, req};
  co_await std::visit([&h](auto const& cmd) { return h(cmd); }, req.command);
}

}  // namespace exceed::app
