// What a feature of the app needs from the rest of the process, as narrow
// interfaces: the features are handed these (and their store module, the
// clock and their part of the config) instead of the whole App, so none
// knows another and each can be tested with fakes.
#pragma once

#include "app/hub.hpp"
#include "core/actor.hpp"
#include "protocol/json_out.hpp"
#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace exceed::app {

// Delivers an event to its targets in this process and, over the bus, in
// every other (App implements it).
class Publisher {
 public:
  virtual ~Publisher() = default;
  virtual void publish(Targets targets, std::string frame) = 0;
};

// May this actor see this conversation, this ticket? (The store's access
// rules: a customer their own, an agent their team's or theirs, a
// supervisor all.) Refused with not_found or forbidden.
class Visibility {
 public:
  virtual ~Visibility() = default;
  virtual boost::asio::awaitable<store::Result<store::Done>> conversation(core::Actor const& actor, std::string id) = 0;
  virtual boost::asio::awaitable<store::Result<store::Done>> ticket(core::Actor const& actor, std::string id) = 0;
};

// Hears the events of this process as they happen (the webhooks' outbox).
// App::publish hands it every event it publishes; the few events no session
// is sent (a conversation started, a CSAT answer) and those whose published
// copies are re-deliveries (a follow-up falling due, sent again at the
// owner's next hello) are handed to happened() by the feature, once.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // `frame` is the event encoded as sessions get it ({"type":...,...}).
  virtual void published(std::string_view frame) = 0;
  virtual void happened(std::string_view frame) = 0;
};

// Who sends a request: the actor, as others see them by name.
struct Sender {
  core::Actor actor;
  std::string name;
  std::vector<std::string> teams;
};

// Where a request's answer goes. A step that succeeds acks (the fields of
// its ack) before it sends the events it causes, so the sender hears of its
// own request first; one that fails returns why and acks nothing.
class Reply {
 public:
  virtual ~Reply() = default;
  virtual void ack(boost::json::object fields) = 0;
  // The same, written without a DOM (the hot path: a message's ack).
  virtual void ack(protocol::JsonOut const& fields) = 0;
};

// Done, or why not (then nothing was stored and no event went out).
using Answer = store::Result<store::Done>;

}  // namespace exceed::app
