// The service assessment of resolved conversations, as the server runs it:
// the signals are read from the conversation (its record, its messages,
// its follow-ups, the customer's CSAT answer), judged by core::assess under
// config/assessment.toml, stored with the conversation with their history,
// and conversations that only met (or fell below) the customer's needs go
// to the supervisors' review list. A late signal (a CSAT answer, a
// follow-up done) assesses again. What other features do about a judgement
// (a check-in follow-up, the operators' counter) they are told through Hooks.
#pragma once

#include "app/config.hpp"
#include "app/http_util.hpp"
#include "app/services.hpp"
#include "core/clock.hpp"
#include "protocol/codec.hpp"
#include "store/assessments.hpp"
#include "store/conversations.hpp"
#include "store/followups.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace exceed::app {

class Assessments {
 public:
  struct Hooks {
    // Nothing to go on: ask the customer through the agent (Followups::check_in).
    std::function<boost::asio::awaitable<void>(std::string conversation, std::string agent)> check_in;
    // A conversation was (re)assessed at this level (the operators' counter).
    std::function<void(std::string_view level)> assessed;
    // A CSAT answer was stored: the event no session is sent, for the
    // webhooks (EventSink::happened). Optional.
    std::function<void(std::string frame)> happened;
  };
  struct Deps {
    store::AssessmentStore& store;
    store::ConversationStore& conversations;
    store::FollowupStore& followups;
    Publisher& publisher;
    core::Clock const& clock;
    Config const& config;
    Hooks hooks;
  };
  explicit Assessments(Deps deps) : d_(std::move(deps)) {}

  // (Re)assesses a resolved conversation; `trigger` says why ("resolved",
  // "csat", "followup_done"). Does nothing for one not resolved.
  boost::asio::awaitable<void> assess(std::string conversation_id, std::string trigger);

  // The customer's CSAT answer, any part of it (WebSocket csat.submit and
  // the signed link): each part stored once within the window, then the
  // conversation re-assessed. The answer holds the parts now stored.
  boost::asio::awaitable<store::Result<store::CsatParts>> answer_csat(std::string visitor_id,
                                                                      protocol::CsatSubmit const& answer);
  // {conversation_id, rating, expectation, comment, solved}: the ack of an answer.
  static boost::json::object csat_json(std::string const& conversation_id, store::CsatParts const& stored);

  // A customer started a new chat: if their last conversation (previous,
  // the latest other one, which the start names) was resolved within
  // assessment.reopen_days, it did not help in one contact.
  boost::asio::awaitable<void> customer_returned(std::string new_conversation_id, std::string previous_id);

  // (Re)assesses a solved ticket; does nothing for one not solved.
  boost::asio::awaitable<void> assess_ticket(std::string ticket_id, std::string trigger);

  // review.list over WebSocket (supervisors): the ack's fields.
  boost::asio::awaitable<store::Result<boost::json::object>> review_list(protocol::ReviewList const& cmd);

  // GET /api/v1/reports/consistency: exceeded / met / below shares of a team
  // or an agent over a window, their spread over days or weeks, and first
  // response p50/p90.
  boost::asio::awaitable<net::HttpResponse> consistency_report(Actor const& actor, Query const& query);

  // /api/v1/reviews[/{conversation_id}]: `rest` is what follows /api/v1/reviews.
  boost::asio::awaitable<net::HttpResponse> http(Actor actor, std::string method, std::string rest, Query query,
                                                 boost::json::object body);

 private:
  // Review items newest first, filtered; `reviewed` picks the done list.
  boost::asio::awaitable<store::Result<boost::json::array>> items(Query const& filters, bool reviewed,
                                                                  std::size_t limit);
  boost::asio::awaitable<net::HttpResponse> mark_reviewed(Actor const& actor, std::string id,
                                                          boost::json::object const& body);

  Deps d_;
};

}  // namespace exceed::app
