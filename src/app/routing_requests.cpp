// The routing requests of PROTOCOL.md: an agent's status, accepting and
// declining an offer, transfers and a supervisor's assignment. Each runs one
// store step (a compare-and-set that re-checks the chat and the agent),
// answers with the fields of its ack or why not, publishes the events it
// causes and plans again the queues it changed.
#include "app/routing.hpp"

#include "app/wire.hpp"

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;
using protocol::encode_event;

namespace {

json::object assigned_event(std::string const& conversation_id, std::string const& agent, std::string const& agent_name,
                            std::string const& team) {
  json::object ev;
  ev["conversation_id"] = conversation_id;
  ev["agent"] = person(agent, agent_name);
  ev["team"] = team;
  return ev;
}

}  // namespace

asio::awaitable<Answer> Routing::set_status(Sender const& s, protocol::AgentStatusSet const& a, Reply& reply) {
  auto set = co_await d_.store.set_status(s.actor.user_id, a.status, a.capacity);
  if (!set) co_return set.failure();
  json::object result;
  result["status"] = core::to_string(set->status);
  result["capacity"] = set->capacity;
  reply.ack(std::move(result));
  if (a.status == core::AgentStatus::online)
    for (std::size_t i = 0; i < s.teams.size(); ++i) dispatch(s.teams[i]);
  co_return store::Done{};
}

asio::awaitable<Answer> Routing::accept(Sender const& s, protocol::ConversationAccept const& a, Reply& reply) {
  auto accepted = co_await d_.store.accept(a.conversation_id, s.actor.user_id, s.name, d_.clock.now());
  if (!accepted) co_return accepted.failure();
  if (accepted->queue_wait && d_.hooks.queue_wait) d_.hooks.queue_wait(*accepted->queue_wait);
  json::object result;
  result["conversation_id"] = a.conversation_id;
  result["status"] = "active";
  result["team"] = accepted->team;
  result["visitor"] = person(accepted->visitor, accepted->visitor_name);
  reply.ack(std::move(result));
  d_.publisher.publish({"u:" + accepted->visitor, "u:" + s.actor.user_id},
                       encode_event("conversation.assigned",
                                    assigned_event(a.conversation_id, s.actor.user_id, s.name, accepted->team)));
  co_return store::Done{};
}

asio::awaitable<Answer> Routing::decline(Sender const& s, protocol::ConversationDecline const& d, Reply& reply) {
  auto team = co_await d_.store.decline(d.conversation_id, s.actor.user_id, d_.clock.now());
  if (!team) co_return team.failure();
  json::object result;
  result["conversation_id"] = d.conversation_id;
  reply.ack(std::move(result));
  dispatch(*team);
  co_return store::Done{};
}

asio::awaitable<Answer> Routing::transfer(Sender const& s, protocol::ConversationTransfer const& t, Reply& reply) {
  if (!t.to_agent_id) co_return co_await transfer_to_team(s, t, reply);
  store::Assignment give;
  give.conversation_id = t.conversation_id;
  give.to_agent = *t.to_agent_id;
  // A supervisor moves it whatever its state; an agent only their own active chat.
  give.force = s.actor.role == core::Role::supervisor;
  give.expected_agent = s.actor.user_id;
  give.now = d_.clock.now();
  auto assigned = co_await d_.store.assign(give);
  if (!assigned) co_return assigned.failure();
  if (assigned->queue_wait && d_.hooks.queue_wait) d_.hooks.queue_wait(*assigned->queue_wait);
  json::object result;
  result["conversation_id"] = t.conversation_id;
  result["status"] = "active";
  reply.ack(std::move(result));
  announce_assignment(s, t.conversation_id, *assigned, *t.to_agent_id);
  co_return store::Done{};
}

// Back to a team's queue, at the place the customer's original wait earned them.
asio::awaitable<Answer> Routing::transfer_to_team(Sender const& s, protocol::ConversationTransfer const& t,
                                                  Reply& reply) {
  auto const& to_team = *t.to_team;
  auto chat = co_await d_.conversations.view(t.conversation_id, s.actor);
  if (!chat) co_return chat.failure();
  if (auto denied = core::transfer_to_team_denied(chat->status, chat->agent, s.actor))
    co_return store::Failure::refused(denied->refusal, std::string(denied->reason));
  auto priority = core::parse_priority(chat->priority).value_or(core::Priority::normal);
  store::Requeue back{t.conversation_id, chat->agent, to_team, core::queue_score(priority, chat->created_at),
                      d_.clock.now()};
  auto requeued = co_await d_.store.requeue(back);
  if (!requeued) co_return requeued.failure();
  json::object result;
  result["conversation_id"] = t.conversation_id;
  result["status"] = "queued";
  reply.ack(std::move(result));
  json::object ev;
  ev["conversation_id"] = t.conversation_id;
  ev["reason"] = "transferred";
  d_.publisher.publish({"u:" + chat->agent}, encode_event("conversation.unassigned", std::move(ev)));
  dispatch(to_team);
  positions(to_team);
  if (chat->team != to_team) dispatch(chat->team);
  co_return store::Done{};
}

asio::awaitable<Answer> Routing::assign(Sender const& s, protocol::ConversationAssign const& a, Reply& reply) {
  store::Assignment give;
  give.conversation_id = a.conversation_id;
  give.to_agent = a.agent_id;
  give.force = true;
  give.now = d_.clock.now();
  auto assigned = co_await d_.store.assign(give);
  if (!assigned) co_return assigned.failure();
  if (assigned->queue_wait && d_.hooks.queue_wait) d_.hooks.queue_wait(*assigned->queue_wait);
  json::object result;
  result["conversation_id"] = a.conversation_id;
  result["agent_id"] = a.agent_id;
  reply.ack(std::move(result));
  announce_assignment(s, a.conversation_id, *assigned, a.agent_id);
  co_return store::Done{};
}

void Routing::announce_assignment(Sender const& s, std::string const& conversation_id, store::Assigned const& a,
                                  std::string const& to_agent) {
  auto h = core::handover(a.previous, a.previous_agent, to_agent, s.actor.role == core::Role::supervisor);
  if (h.notice != core::Handover::Notice::none) {
    json::object ev;
    ev["conversation_id"] = conversation_id;
    if (h.notice == core::Handover::Notice::offer_withdrawn) {
      d_.publisher.publish({"u:" + a.previous_agent}, encode_event("conversation.offer_expired", std::move(ev)));
    } else {
      ev["reason"] = h.reason;
      d_.publisher.publish({"u:" + a.previous_agent}, encode_event("conversation.unassigned", std::move(ev)));
    }
  }
  d_.publisher.publish({"u:" + a.visitor, "u:" + to_agent},
                       encode_event("conversation.assigned", assigned_event(conversation_id, to_agent, a.agent_name, a.team)));
  if (h.queue_moved) positions(a.team);
  dispatch(a.team);
}

asio::awaitable<std::vector<std::string>> Routing::open_offers(std::string agent) {
  std::vector<std::string> frames;
  auto offers = co_await d_.store.open_offers(agent);
  if (!offers) co_return frames;
  auto now = d_.clock.now();
  for (std::size_t i = 0; i < offers->size(); ++i) {
    auto const& o = (*offers)[i];
    auto left = core::offer_seconds_left(o.expires_at, now);
    if (left <= 0) continue;
    frames.push_back(
        offer_event({o.conversation_id, o.team, o.visitor, o.visitor_name, o.priority, o.context_json, o.preview, left}));
  }
  co_return frames;
}

}  // namespace exceed::app
