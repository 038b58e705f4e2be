// Tickets: what a chat cannot finish. Made three ways (a chat nobody can
// take, an agent turning a conversation into one, the REST API), with
// public replies that reach the customer in their conversation, private
// notes, a timeline of every change, status rules from core/ticket.hpp,
// and solved tickets closing by themselves after a configured time. The
// REST API of /api/v1/tickets is in app/tickets_http.cpp.
#pragma once

#include "app/config.hpp"
#include "app/http_util.hpp"
#include "app/periodic.hpp"
#include "app/services.hpp"
#include "app/throttle.hpp"
#include "core/clock.hpp"
#include "store/conversations.hpp"
#include "store/tickets.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace exceed::app {

class Tickets {
 public:
  // What other features do when a ticket moves.
  struct Hooks {
    std::function<void(std::string const& team)> dispatch;   // a chat left its agent's hands: plan the team
    std::function<void(std::string const& team)> positions;  // a chat left a queue
    std::function<boost::asio::awaitable<void>(std::string ticket, std::string trigger)> assess;  // solved
    // May this customer open one more ticket now (limits.tickets_per_customer_per_hour)?
    std::function<boost::asio::awaitable<Verdict>(std::string customer)> new_ticket_allowed;
    std::function<void(std::string_view what)> rate_limited;  // figures for operators
    // The file a comment carries (one its author uploaded to that ticket),
    // as the JSON the comment keeps; or why not (app/attachments.hpp).
    std::function<boost::asio::awaitable<store::Result<std::string>>(Actor actor, std::string attachment_id,
                                                                     std::string ticket)>
        attachment;
    // An agent's public reply, mailed to the customer when they left an
    // address (app/mail.hpp). Optional.
    std::function<boost::asio::awaitable<void>(std::string ticket, std::string author_name, std::string text)>
        reply_mailed;
  };
  struct Deps {
    store::TicketStore& store;
    store::ConversationStore& conversations;  // a conversation turned into a ticket ends as one
    Publisher& publisher;
    core::Clock const& clock;
    Config const& config;
    boost::asio::any_io_executor executor;
    std::function<bool()> store_up;
    Hooks hooks;
  };
  explicit Tickets(Deps deps);
  void start();
  void stop();

  // /api/v1/tickets[/...]: `rest` is what follows /api/v1/tickets.
  boost::asio::awaitable<net::HttpResponse> http(Actor actor, std::string method, std::string rest, Query query,
                                                 boost::json::object body);

  // A customer wrote in a conversation kept as a ticket: the message is the
  // customer's reply on the ticket (reopening it, or opening a follow-up
  // ticket when it was closed).
  // With `mirror` (an e-mail reply), the reply is also put in the ticket's
  // conversation as the customer's message. The ticket it landed on, or "".
  boost::asio::awaitable<std::string> customer_message(std::string ticket_id, std::string conversation_id,
                                                       std::string visitor_id, std::string visitor_name,
                                                       std::string text, bool mirror = false);
  // Reads a ticket just made and announces it (ticket.created).
  boost::asio::awaitable<void> announce_created(std::string ticket_id);

  // The ticket if `actor` may see it; refused not_found or forbidden.
  boost::asio::awaitable<store::Result<store::Ticket>> visible(Actor const& actor, std::string const& id);

  static boost::json::object to_json(store::Ticket const& t);

 private:
  // The REST requests (app/tickets_http.cpp).
  boost::asio::awaitable<net::HttpResponse> create(Actor const& actor, boost::json::object const& body);
  boost::asio::awaitable<net::HttpResponse> list(Actor const& actor, Query const& query);
  boost::asio::awaitable<net::HttpResponse> read_stream(Actor const& actor, std::string const& id,
                                                        std::string const& which);
  boost::asio::awaitable<net::HttpResponse> update(Actor const& actor, std::string const& id,
                                                   boost::json::object const& body);
  boost::asio::awaitable<net::HttpResponse> comment(Actor const& actor, std::string const& id,
                                                    boost::json::object const& body);
  // A customer's new ticket within their hourly allowance; nullopt: go ahead.
  boost::asio::awaitable<std::optional<net::HttpResponse>> customer_ticket_allowance(std::string const& customer);

  // The steps (app/tickets.cpp).
  boost::asio::awaitable<void> close_solved();
  // Creates a ticket with the SLA policy of its team and priority.
  boost::asio::awaitable<store::Result<store::Ticket>> insert(store::NewTicket t);
  // A closed ticket takes no more replies: the customer's reply opens a
  // follow-up ticket (announced), which it then goes on.
  boost::asio::awaitable<store::Result<store::Ticket>> follow_up(store::Ticket const& closed, std::string customer,
                                                                 std::string customer_name, std::string via);
  // Appends a comment, publishing what it causes (the customer's message, the
  // ticket's news).
  boost::asio::awaitable<store::Result<store::Commented>> add_comment(store::TicketComment c);
  // Tells the agents of the ticket's team, its assignee and the supervisors.
  void announce(std::string_view event, store::Ticket const& ticket, boost::json::object extra = {});
  // A conversation turned into a ticket by an agent: the customer hears of
  // it, the chat leaves its agent's hands or its queue.
  void announce_ticketed(std::string const& conversation_id, std::string const& ticket_id,
                         store::Resolved const& ended);

  Deps d_;
  Periodic periodic_;
};

}  // namespace exceed::app
