// The conversation requests of PROTOCOL.md: start, message.send, typing,
// read, history.get, note.add, conversation.resolve, conversation.outcome.
// Each runs one store step (which checks access and state atomically),
// answers with the fields of its ack or why not, and publishes the events it
// causes. What other features do when a conversation moves (routing offers
// it, the assessment looks again, a ticket takes the customer's reply) they
// are told through Hooks, set when the process is wired.
#pragma once

#include "app/config.hpp"
#include "app/http_util.hpp"
#include "app/services.hpp"
#include "core/clock.hpp"
#include "protocol/codec.hpp"
#include "store/conversations.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace exceed::app {

class Conversations {
 public:
  struct Hooks {
    std::function<void(std::string const& team)> dispatch;   // offer a team's waiting chats
    std::function<void(std::string const& team)> positions;  // tell a team's queue its places
    std::function<boost::asio::awaitable<void>(std::string conversation, std::string trigger)> assess;
    // A customer started a new chat; previous: their latest other conversation.
    std::function<boost::asio::awaitable<void>(std::string conversation, std::string previous)> customer_returned;
    std::function<boost::asio::awaitable<void>(std::string conversation, std::string agent, std::string stage)>
        after_resolve;
    // The customer wrote in a conversation kept as a ticket: a reply on it.
    std::function<boost::asio::awaitable<void>(std::string ticket, std::string conversation, std::string visitor,
                                               std::string visitor_name, std::string text)>
        ticket_reply;
    std::function<boost::asio::awaitable<void>(std::string ticket)> ticket_created;
    // The file a message carries (one its sender uploaded to that
    // conversation), as the JSON the message keeps; or why not.
    std::function<boost::asio::awaitable<store::Result<std::string>>(core::Actor actor, std::string attachment_id,
                                                                     std::string conversation)>
        attachment;
    // An event no session is sent (conversation.started), for the webhooks.
    std::function<void(std::string frame)> happened;
    // A resolved conversation's CSAT link, mailed to a customer who left an address.
    std::function<boost::asio::awaitable<void>(std::string conversation, std::string link)> csat_mail;
    // A chat a visitor starts takes their visit's page, cart and stage and
    // the invitation it answers (enrich); once made, the visit knows it.
    std::function<boost::asio::awaitable<protocol::ConversationStart>(std::string visitor,
                                                                      protocol::ConversationStart start)>
        enrich;
    std::function<boost::asio::awaitable<void>(std::string visitor, std::string conversation,
                                               std::optional<std::string> invitation)>
        visit_started;
    // Figures for operators.
    std::function<void()> message_received;
    std::function<void(core::Millis)> first_response;
    std::function<void(std::string const& metric)> sla_breach;
  };
  struct Deps {
    store::ConversationStore& store;
    Publisher& publisher;
    core::Clock const& clock;
    Config const& config;
    Hooks hooks;
  };
  explicit Conversations(Deps deps) : d_(std::move(deps)) {}

  boost::asio::awaitable<Answer> start(Sender const& s, protocol::ConversationStart const& st, Reply& reply);
  boost::asio::awaitable<Answer> send(Sender const& s, protocol::MessageSend const& m, Reply& reply);
  // No ack (PROTOCOL.md): done, or why not.
  boost::asio::awaitable<Answer> typing(Sender const& s, protocol::Typing const& t);
  boost::asio::awaitable<Answer> read(Sender const& s, protocol::Read const& r);
  boost::asio::awaitable<Answer> history(Sender const& s, protocol::HistoryGet const& h, Reply& reply);
  boost::asio::awaitable<Answer> note(Sender const& s, protocol::NoteAdd const& n, Reply& reply);
  boost::asio::awaitable<Answer> resolve(Sender const& s, protocol::ConversationResolve const& r, Reply& reply);
  boost::asio::awaitable<Answer> outcome(Sender const& s, protocol::ConversationOutcome const& r, Reply& reply);

  // A message event as the wire carries it.
  static boost::json::object message_json(store::Message const& m);

  // GET /api/v1/conversations[/{id}[/messages]] (app/conversations_http.cpp):
  // `rest` is what follows /api/v1/conversations.
  boost::asio::awaitable<net::HttpResponse> http(Actor actor, std::string method, std::string rest, Query query);

 private:
  boost::asio::awaitable<net::HttpResponse> list(Actor const& actor, Query const& query);
  boost::asio::awaitable<net::HttpResponse> messages(Actor const& actor, std::string const& id, Query const& query);
  boost::asio::awaitable<void> repeat_event(std::string conversation, std::int64_t seq, Targets targets);
  boost::asio::awaitable<void> announce_ticket(std::string conversation, std::string visitor, std::string ticket,
                                               std::string reason);

  // Who is in a conversation (its customer and its agent) as the store last
  // told this process: each message.send answers it, and a typing frame
  // that finds no fresh entry reads it. Only the typing indicator uses it,
  // so a customer and their agent typing never reach Redis; an entry is
  // believed for members_ttl_ms, so after a transfer or a release the old
  // agent's "typing" can still reach the customer (and the customer's the
  // old agent) for at most that long. Anyone else (an offered agent, a
  // supervisor) is checked by the store as before.
  struct Members {
    std::string visitor, agent;
    core::Millis until = 0;
  };
  static constexpr core::Millis members_ttl_ms = 1000;
  void remember_members(std::string const& conversation, std::string visitor, std::string agent);
  std::unordered_map<std::string, Members> members_;
  std::size_t members_sweep_at_ = 4096;  // size at which expired entries are dropped

  Deps d_;
};

}  // namespace exceed::app
