// Tickets in Redis: the record, its comments and its timeline (streams),
// the indexes a list pages through (by creation, by last update, a
// customer's), and the steps that change one atomically: create, update
// (a compare-and-set on the status the caller checked), comment (a public
// reply mirrored into the ticket's conversation), and the closing of solved
// tickets once their time is up. Which status may follow which is core's
// (core/ticket.hpp).
#pragma once

#include "core/domain.hpp"
#include "core/response_clock.hpp"
#include "core/ticket.hpp"
#include "store/db.hpp"
#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace exceed::store {

struct Ticket {
  std::string id;
  std::string subject;
  core::TicketStatus status = core::TicketStatus::fresh;
  std::string priority;
  std::string team;
  std::string requester, requester_name;  // the customer ("" for none)
  std::string assignee, assignee_name;    // the agent ("" for none)
  std::vector<std::string> tags;
  std::string via;                        // chat | web | agent
  std::string conversation;               // the chat it came from, if any
  std::string follow_up_of;               // the closed ticket it follows
  core::Millis created_at = 0, updated_at = 0;
  std::optional<core::Millis> solved_at, closed_at;
  std::string assessment_json, times_json, sla_policy;  // "" until assessed
};

struct NewTicket {
  std::string id;
  std::string subject;
  std::string requester, requester_name;  // a name "" is looked up
  core::TicketStatus status = core::TicketStatus::fresh;
  std::string priority, team;
  std::string assignee;
  std::string tags_csv;
  std::string via;
  std::string conversation, follow_up_of;
  std::string actor;  // "<role>:<id>", for the timeline
  core::Millis now = 0;
  core::SlaPolicy sla;  // its team's and priority's, its resolution clock starts now
  // When those targets warn and fall due, counted in the team's business
  // hours (core::sla_deadlines); unset: wall clock (now + target).
  std::optional<core::SlaDeadlines> deadlines;
};

// Changes to a ticket, applied only while its status is still `expected`.
struct TicketChange {
  std::string id;
  std::string actor;  // "<role>:<id>", for the timeline
  core::TicketStatus expected = core::TicketStatus::fresh;
  core::Millis now = 0;
  std::optional<core::TicketStatus> status;
  std::optional<std::string> priority, team, subject;
  std::optional<std::string> assignee;  // "" unassigns
  std::optional<std::string> tags_csv;
  bool empty() const noexcept { return !status && !priority && !team && !subject && !assignee && !tags_csv; }
};

struct TicketUpdated {
  Ticket ticket;
  struct Change {
    std::string field, from, to;
  };
  std::vector<Change> changes;  // in the order they were applied; none when nothing differed
};

struct TicketComment {
  std::string ticket_id;
  bool by_customer = false;    // else an agent or a supervisor
  std::string author;
  std::string author_name;     // "" is looked up (a staff user's, a visitor's name)
  bool is_public = true;       // else a private note
  std::string text;
  core::Millis now = 0;
  bool mirror = true;          // a public one becomes a message in the ticket's conversation
  std::string attachment;      // the attached file, as JSON, or ""
  // The ticket's policy and when its targets fall due from `now` in its
  // team's hours (core::sla_deadlines), for a customer's reply that starts
  // a wait; unset: wall clock (now + target).
  core::SlaPolicy sla;
  std::optional<core::SlaDeadlines> deadlines;
};

struct Commented {
  std::string comment_id;
  std::int64_t seq = 0;        // its message in the conversation (0: not mirrored)
  std::string visitor;         // the ticket's customer
  std::string conversation;
  std::string author_name;
  core::TicketStatus status = core::TicketStatus::open;    // after the comment
  core::TicketStatus previous = core::TicketStatus::open;  // before it (a customer's reply reopens)
};

struct TicketCommentEntry {
  std::string id;
  core::Millis ts = 0;
  std::string role;  // customer | agent
  std::string author_id, author_name;
  bool is_public = true;
  std::string text;
  std::string attachment;  // the attached file, as JSON, or ""
};

struct TimelineEntry {
  std::string id;
  core::Millis ts = 0;
  std::string actor, what, from, to;
};

// A page of an index, newest first: ids with their scores (a time in ms),
// from `max_score` down to `min_score`.
struct TicketIndexPage {
  enum class Index : std::uint8_t { created, updated, of_customer };
  Index index = Index::created;
  std::string customer;             // of_customer
  std::string max_score = "+inf";   // a score, or +inf
  std::string min_score = "-inf";
  int limit = 100;
};
struct Indexed {
  std::string id;
  std::string score;  // as stored, for a cursor
};

class TicketStore {
 public:
  explicit TicketStore(Db& db) : db_(db) {}

  // Refused: an unknown team, an assignee who is not an agent, an unknown
  // requester (bad_request); a conversation that does not exist (not_found).
  boost::asio::awaitable<Result<Ticket>> create(NewTicket const& t);
  // Refused: no such ticket (not_found), its status moved on (conflict), an
  // unknown team or an assignee who is not an agent (bad_request).
  boost::asio::awaitable<Result<TicketUpdated>> update(TicketChange const& c);
  // Refused: no such ticket (not_found), a closed one (conflict).
  boost::asio::awaitable<Result<Commented>> comment(TicketComment const& c);
  // Closes the tickets solved before `solved_before` (each once, whichever
  // process asks first), at most `max`; their ids.
  boost::asio::awaitable<Result<std::vector<std::string>>> close_due(core::Millis now, core::Millis solved_before,
                                                                    int max);
  // nullopt when there is no such ticket.
  boost::asio::awaitable<Result<std::optional<Ticket>>> get(std::string const& id);
  // The first `max` comments, the first `max` timeline entries, oldest first.
  boost::asio::awaitable<Result<std::vector<TicketCommentEntry>>> comments(std::string const& id, int max);
  boost::asio::awaitable<Result<std::vector<TimelineEntry>>> timeline(std::string const& id, int max);
  boost::asio::awaitable<Result<std::vector<Indexed>>> page(TicketIndexPage const& p);

 private:
  Db& db_;
};

// The decoder of a record (HGETALL), shared with the tests.
Result<Ticket> ticket_of(Reply const& flat, std::string_view what);

}  // namespace exceed::store
