// Store records to the contract's JSON shapes (PROTOCOL.md, proto/).
#pragma once

#include "core/domain.hpp"
#include "store/conversations.hpp"
#include "store/redis.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace exceed::app {

// {id, name}: a person as the wire names them (a message's or an event's `from`).
boost::json::object person(std::string_view id, std::string_view name);

// A message of a conversation -> a message object (without "type"), as
// `message` events, history.get and the HTTP history carry it.
boost::json::object message_json(store::Message const& m);

// A conversation record -> the conversation object of the HTTP API.
boost::json::object conversation_json(store::Conversation const& record);

// What people said of a conversation's outcome:
// {customer_solved, outcome, went_beyond}, null where not given.
boost::json::object facts_json(store::Facts const& facts);

// The customer's CSAT answer as stored ->
// {rating, expectation, comment, solved}, null for a part not given.
boost::json::object csat_json(store::CsatParts const& csat);

// The conversation.offer event an agent gets (at the offer, and again when
// they reconnect while it is still open).
struct OfferFields {
  std::string conversation_id, team, visitor_id, visitor_name, priority, context_json, preview;
  long long expires_in_s = 0;
};
std::string offer_event(OfferFields const& f);

// At most `max_bytes` of UTF-8 text, never cutting a character in two.
std::string utf8_prefix(std::string_view text, std::size_t max_bytes);

// A duration in ms as seconds, or null; a ratio or average, or null.
boost::json::value seconds_or_null(std::optional<core::Millis> ms);
boost::json::value number_or_null(std::optional<double> v);
// A text, null when empty; a time in ms, null when not set.
boost::json::value text_or_null(std::string const& s);
boost::json::value time_or_null(std::optional<core::Millis> t);

// Parses JSON text stored by the server itself; {} when it is not an object.
boost::json::object parse_object(std::string_view text);

}  // namespace exceed::app
