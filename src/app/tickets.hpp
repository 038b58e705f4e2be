// Tickets: what a chat cannot finish. Made three ways (a chat nobody can
// take, an agent turning a conversation into one, the REST API), with
// public replies that reach the customer in their conversation, private
// notes, a timeline of every change, status rules from core/ticket.hpp,
// and solved tickets closing by themselves after a configured time.
#pragma once

#include "app/http_util.hpp"
#include "app/periodic.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <vector>

namespace exceed::app {

class App;

class Tickets {
 public:
  explicit Tickets(App& app);
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

  // Tells the agents of the ticket's team, its assignee and the supervisors.
  void announce(std::string_view event, store::Reply const& ticket, boost::json::object extra = {});
  // Reads a ticket just made and announces it (ticket.created).
  boost::asio::awaitable<void> announce_created(std::string ticket_id);

  static boost::json::object to_json(store::Reply const& flat);

  boost::asio::awaitable<Outcome> insert(std::vector<std::string> args, std::string const& team,
                                         std::string const& priority);

  // The ticket if `actor` may see it; else the error to answer.
  boost::asio::awaitable<Outcome> visible(Actor const& actor, std::string const& id);

 private:
  boost::asio::awaitable<void> close_solved();
  boost::asio::awaitable<net::HttpResponse> create(Actor const& actor, boost::json::object const& body);
  boost::asio::awaitable<std::optional<net::HttpResponse>> customer_ticket_allowance(std::string const& customer);
  boost::asio::awaitable<net::HttpResponse> list(Actor const& actor, Query const& query);
  boost::asio::awaitable<net::HttpResponse> update(Actor const& actor, std::string const& id,
                                                   boost::json::object const& body);
  boost::asio::awaitable<net::HttpResponse> comment(Actor const& actor, std::string const& id,
                                                    boost::json::object const& body);
  // Appends a comment, publishing what it causes; the outcome of the script.
  boost::asio::awaitable<Outcome> add_comment(std::string const& id, core::Role role, std::string const& author,
                                              std::string const& author_name, bool is_public, std::string const& text,
                                              bool mirror, std::string const& attachment = {});

  App& app_;
  Periodic periodic_;
};

}  // namespace exceed::app
