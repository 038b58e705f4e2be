// Webhooks in Redis: the subscriptions, the durable outbox every process
// reads through one consumer group, and the delivery lanes that keep each
// conversation's events in order per subscription while other
// conversations go on. Each function is one atomic step or one read; the
// rules (which events, when to retry, when to give up) are core::webhook's
// and the app's.
//
// An event's way: enqueue() (XADD to the outbox) -> read_new()/reclaim()
// by any process's consumer -> fan_out() (into each wanting subscription's
// lane for its order key, and XACK, atomically) -> claim() (the lanes whose
// head is due, leased) -> the HTTP attempt -> finish() (delivered: the head
// goes; failed: the lane and its subscription wait).
#pragma once

#include "core/domain.hpp"
#include "store/db.hpp"
#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace exceed::store {

struct Webhook {
  std::string id;
  std::string url;
  std::string secret;
  std::vector<std::string> events;  // event types, or "*"
  std::string description;
  std::string status;  // active | disabled
  std::string created_by;
  core::Millis created_at = 0;
  std::int64_t failures = 0;  // consecutive failed rounds
  std::optional<core::Millis> failing_since;
  std::optional<core::Millis> retry_at;
  std::optional<core::Millis> last_success_at;
  std::optional<core::Millis> last_failure_at;
  std::string last_error;
  std::optional<core::Millis> disabled_at;
  std::string disabled_reason;
};

// One event read from the outbox.
struct OutboxEvent {
  std::string entry_id;  // the stream entry
  std::string event_id;
  std::string type;
  std::string lane;  // the order key: "c:<conversation>", "t:<ticket>", ...
  std::string body;  // the JSON that is POSTed
};

// A lane's head, leased to this process for one attempt.
struct Claimed {
  std::string webhook_id;
  std::string lane;
  std::string event_id;
  std::string type;
  std::string body;
  std::int64_t attempt = 0;  // 1 for the first try of this event
  std::string url;
  std::string secret;
  std::int64_t failures = 0;  // the subscription's consecutive failed rounds
};

// What one attempt came to.
struct Attempt {
  std::string webhook_id;
  std::string lane;
  std::string event_id;
  std::string type;
  std::int64_t attempt = 0;
  bool delivered = false;
  int status = 0;  // the receiver's HTTP status (0: none)
  std::string error;
  std::int64_t ms = 0;
  core::Millis now = 0;
  core::Millis next_try = 0;  // when failed
};

struct DeliveryLogEntry {
  core::Millis ts = 0;
  std::string event_id;
  std::string type;
  std::string lane;
  std::int64_t attempt = 0;
  std::string result;  // delivered | failed
  int status = 0;
  std::string error;
  std::int64_t ms = 0;
};

class WebhookStore {
 public:
  explicit WebhookStore(Db& db) : db_(db) {}

  // Refused: conflict when the id is taken.
  boost::asio::awaitable<Result<Webhook>> create(Webhook const& w);
  // Sets the given fields; turning it active again re-arms its waiting
  // deliveries. Refused: not_found.
  boost::asio::awaitable<Result<Webhook>> update(std::string const& id,
                                                 std::vector<std::pair<std::string, std::string>> const& fields,
                                                 core::Millis now);
  boost::asio::awaitable<Result<std::optional<Webhook>>> get(std::string const& id);
  boost::asio::awaitable<Result<std::vector<Webhook>>> list();
  // With its waiting deliveries and its log. Refused: not_found.
  boost::asio::awaitable<Result<Done>> remove(std::string const& id);

  // The consumer group, made once (a second call finds it there).
  boost::asio::awaitable<Result<Done>> ensure_group();
  boost::asio::awaitable<Result<Done>> enqueue(std::string const& event_id, std::string const& type,
                                               std::string const& lane, std::string const& body);
  // Entries no consumer has read yet, now owned by `consumer`.
  boost::asio::awaitable<Result<std::vector<OutboxEvent>>> read_new(std::string const& consumer, int count);
  // Entries another consumer read and did not acknowledge within `idle_ms`
  // (its process died): now `consumer`'s.
  boost::asio::awaitable<Result<std::vector<OutboxEvent>>> reclaim(std::string const& consumer, std::int64_t idle_ms,
                                                                   int count);
  // How many lanes took it (-1: it was handled already).
  boost::asio::awaitable<Result<std::int64_t>> fan_out(OutboxEvent const& e, core::Millis now);
  boost::asio::awaitable<Result<std::vector<Claimed>>> claim(core::Millis now, core::Millis lease, int max);
  // For a failed attempt, since when the subscription has been failing.
  boost::asio::awaitable<Result<std::optional<core::Millis>>> finish(Attempt const& a);
  // The latest attempts, newest first.
  boost::asio::awaitable<Result<std::vector<DeliveryLogEntry>>> deliveries(std::string const& id, int limit);
  // Events waiting in the outbox and in lanes (for /metrics).
  struct Backlog {
    std::int64_t outbox = 0;
    std::int64_t lanes_due = 0;
  };
  boost::asio::awaitable<Result<Backlog>> backlog();

  static constexpr char const* group = "deliver";

 private:
  Db& db_;
};

}  // namespace exceed::store
