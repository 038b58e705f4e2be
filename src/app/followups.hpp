// Follow-up tasks: service that goes on after the chat. Each has an owner
// (an agent), a due time and a durable timer in Redis that fires exactly
// once across every server process, also for a time that passed while no
// server ran. The owner gets `followup.due` at once if connected anywhere,
// else on their next hello.
#pragma once

#include "app/config.hpp"
#include "app/http_util.hpp"
#include "app/periodic.hpp"
#include "app/services.hpp"
#include "core/clock.hpp"
#include "store/followups.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <string>

namespace exceed::app {

class Client;

struct NewFollowup {
  std::string conversation_id;  // exactly one of these two
  std::string ticket_id;
  core::Millis due_at = 0;
  std::string note;
  std::string kind = "reminder";
  std::string owner_id;  // empty: the creator
};

class Followups {
 public:
  struct Deps {
    store::FollowupStore& store;
    Visibility& visibility;
    Publisher& publisher;
    core::Clock const& clock;
    Config::Followups const& config;
    boost::asio::any_io_executor executor;
    std::function<bool()> store_up;
    // A follow-up on a conversation was done (the assessment looks again).
    std::function<boost::asio::awaitable<void>(std::string conversation_id)> done_on_conversation;
    EventSink* events = nullptr;  // told each follow-up as it falls due (webhooks)
  };
  explicit Followups(Deps deps);
  void start();
  void stop();

  // Creates a follow-up after checking the actor may see its conversation
  // or ticket and that the due time makes sense.
  boost::asio::awaitable<store::Result<store::Followup>> create(Actor const& actor, NewFollowup f);
  // done | cancelled (the caller tells done_on_conversation, after its answer).
  boost::asio::awaitable<store::Result<store::Followup>> finish(Actor const& actor, std::string id, std::string status);
  // Sends an agent the follow-ups that fell due while they were away.
  boost::asio::awaitable<void> deliver_pending(Client& client);
  // The proactive check-in after a resolved conversation, when configured
  // for its stage: owned by the agent who had the chat.
  boost::asio::awaitable<void> after_resolve(std::string conversation_id, std::string agent_id, std::string stage);

  // The assessment had nothing to go on (the customer said nothing after the
  // answer, no CSAT): a check-in follow-up asks them, "am I exceeding your
  // needs?", unless one is already on the conversation.
  boost::asio::awaitable<void> check_in(std::string conversation_id, std::string agent_id);

  // /api/v1/followups[/...]: `rest` is what follows /api/v1/followups.
  boost::asio::awaitable<net::HttpResponse> http(Actor actor, std::string method, std::string rest, Query query,
                                                 boost::json::object body);

  static boost::json::object to_json(store::Followup const& f, core::Millis now);

 private:
  boost::asio::awaitable<void> fire();
  boost::asio::awaitable<void> send_due(std::string id, std::string owner);
  boost::asio::awaitable<std::optional<std::string>> due_event(std::string id);
  boost::asio::awaitable<void> make_check_in(std::string conversation_id, std::string agent_id, std::string note);
  boost::asio::awaitable<net::HttpResponse> list(Actor const& actor, Query const& query);
  boost::asio::awaitable<net::HttpResponse> change(Actor const& actor, std::string id, boost::json::object body);

  Deps d_;
  Periodic periodic_;
};

}  // namespace exceed::app
