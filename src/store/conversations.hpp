// Conversations in Redis: the record, its messages (a stream whose ids are
// the seqs, so they have no gaps), the de-duplication of retried messages,
// and the steps of its life: start, write, read, note, resolve, the
// customer's answer and the agent's record of how it ended. Every step is
// one script that checks access and state atomically; the rules it applies
// are core's (core/domain.hpp: is_open, takes_messages).
#pragma once

#include "core/actor.hpp"
#include "core/domain.hpp"
#include "core/response_clock.hpp"
#include "store/db.hpp"
#include "store/decode.hpp"
#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace exceed::store {

// The customer's answer as stored, each part "" (or nullopt) when not given.
struct CsatParts {
  std::optional<int> rating;
  std::string expectation, comment, solved;
};

// What people said of how a conversation ended: the customer's answer and
// the agent's record ("" = not given).
struct Facts {
  CsatParts csat;
  std::string outcome, went_beyond;
};

// A conversation's record as stored: the typed fields every step needs, and
// all of them for the views that show the rest.
struct Conversation {
  std::string id;
  core::ConversationStatus status = core::ConversationStatus::queued;
  std::string visitor, visitor_name;
  std::string agent, agent_name;  // empty while nobody has it
  std::string offered_to;
  std::optional<core::Millis> offer_expires;  // while offered
  std::string team;
  std::string priority;
  std::string ticket;  // its ticket, when it is or was kept as one
  std::string stage;
  std::string context_json, preview;
  core::Millis created_at = 0;
  std::optional<core::Millis> assigned_at, resolved_at;
  int transfers = 0;
  std::int64_t last_seq = 0;
  Facts facts;
  Fields fields;  // every stored field
};

struct Message {
  std::string conversation_id;
  std::int64_t seq = 0;
  core::Millis ts = 0;
  std::string role;  // customer | agent | system
  std::string sender_id, sender_name;
  std::string text;
  std::string client_msg_id;
  std::string attachment;  // the file it carries, as JSON, or ""
};

struct StartChat {
  std::string id;          // a new conversation's id (unused when one is open)
  std::string visitor, visitor_name, team, priority, context_json;
  core::Millis now = 0;
  double score = 0;        // its place in the queue (core::queue_score)
  std::string text;        // the first message, may be empty
  std::string stage;
  bool team_open = true;   // within the team's business hours
  std::string ticket_id;   // the ticket's id, should it be kept as one
  std::string subject, offline_notice, after_hours_notice;
  bool ticket_when_offline = true;
  core::SlaPolicy sla;
  // When its targets warn and fall due if armed now, counted in the team's
  // business hours (core::sla_deadlines); unset: wall clock (now + target).
  std::optional<core::SlaDeadlines> deadlines;
};

struct Started {
  std::string conversation_id;
  core::ConversationStatus status = core::ConversationStatus::queued;
  int queue_position = 0;
  std::string team;
  bool created = false;  // new, or live again (false: the open one, unchanged)
  std::string ticket_id;
  std::string reason;    // after_hours | offline when kept as a ticket now
  std::string previous;  // when created: the customer's latest other conversation, or ''
};

struct Append {
  std::string conversation_id;
  core::Actor by;
  std::string name;
  std::string client_msg_id;
  std::string text;
  core::Millis now = 0;
  std::string attachment;  // the file it carries, as JSON, or ""
};

struct Appended {
  std::int64_t seq = 0;
  core::Millis ts = 0;
  bool duplicate = false;  // this client_msg_id was stored before: its seq
  std::string visitor, agent, ticket;
  core::ConversationStatus status = core::ConversationStatus::queued;
  std::optional<core::Millis> first_response;  // this was the first agent answer
  std::string breached;                        // the target this answer was late for
  // The response wait this customer message started, armed on the wall
  // clock (now + target): the caller moves it into the team's business
  // hours with rearm_wait when the team keeps hours.
  struct Wait {
    core::SlaMetric metric = core::SlaMetric::first_response;
    std::string team;
    core::Millis target = 0;
    double warning_ratio = 0.8;
  };
  std::optional<Wait> wait;
};

struct Resolved {
  std::string visitor, agent, team;
  core::ConversationStatus previous = core::ConversationStatus::active;
  std::string stage;
};

struct CsatAnswer {
  std::string conversation_id, visitor;
  std::optional<int> rating;
  std::string expectation, comment, solved;  // "" = not given
  core::Millis now = 0;
  core::Millis window = 0;
};

struct OutcomeRecord {
  std::string conversation_id;
  core::Actor by;
  std::string outcome, went_beyond;  // "" = not given
  core::Millis now = 0;
};

struct OutcomeRecorded {
  core::ConversationStatus status = core::ConversationStatus::resolved;
  std::string outcome, went_beyond;
};

class ConversationStore {
 public:
  explicit ConversationStore(Db& db) : db_(db) {}

  // The customer's one open conversation, or a new one: queued, or kept as
  // a ticket when nobody can take it (see lua/start.lua).
  boost::asio::awaitable<Result<Started>> start(StartChat const& s);
  // Stores a message with the next seq (or finds the one this client_msg_id
  // stored before); refused when the writer may not, or it is resolved.
  boost::asio::awaitable<Result<Appended>> append(Append const& a);
  // Moves the wait `append` started at `from` (Appended::wait) to core's
  // deadline for it; false when that wait already ended or changed.
  boost::asio::awaitable<Result<bool>> rearm_wait(std::string const& id, Appended::Wait const& wait, core::Millis from,
                                                  core::SlaDeadline at);
  // Messages after `after_seq`, at most `limit`, if the viewer may see them.
  boost::asio::awaitable<Result<std::vector<Message>>> history(std::string const& id, core::Actor const& viewer,
                                                               std::int64_t after_seq, int limit);
  // The record, if the viewer may see it.
  boost::asio::awaitable<Result<Conversation>> view(std::string const& id, core::Actor const& viewer);
  // The records of many, in one round trip: nullopt for each the viewer may
  // not see or that is gone; a failure only when Redis could not answer.
  boost::asio::awaitable<Result<std::vector<std::optional<Conversation>>>> views(std::vector<std::string> ids,
                                                                                 core::Actor const& viewer);
  // One step of paging the conversations newest first (every one, or one
  // visitor's with `visitor` set): up to `count` ids with their creation
  // time, from `max_created` down (inclusive; "+inf" from the newest).
  struct Listed {
    std::string id;
    std::string created;  // the index's score, as Redis wrote it
  };
  boost::asio::awaitable<Result<std::vector<Listed>>> newest(std::string const& visitor, std::string const& max_created,
                                                             int count);
  // One stored message (for an event sent again), nullopt when absent.
  boost::asio::awaitable<Result<std::optional<Message>>> message(std::string const& id, std::int64_t seq);
  // The last message stored.
  boost::asio::awaitable<Result<std::optional<Message>>> last_message(std::string const& id);
  // How far one side read; the answer names the two sides ({visitor, agent})
  // and the seq recorded (never past the last one).
  struct ReadMark {
    std::string visitor, agent;
    std::int64_t seq = 0;
  };
  boost::asio::awaitable<Result<ReadMark>> read(std::string const& id, core::Actor const& by, std::int64_t seq);
  struct Noted {
    std::string note_id, visitor, agent;
  };
  boost::asio::awaitable<Result<Noted>> note(std::string const& id, core::Actor const& by, std::string const& name,
                                             std::string const& text, core::Millis now);
  // Ends the chat part: resolved, or (`as_ticket`) kept as a ticket.
  boost::asio::awaitable<Result<Resolved>> resolve(std::string const& id, core::Actor const& by, core::Millis now,
                                                   bool as_ticket = false);
  boost::asio::awaitable<Result<CsatParts>> csat(CsatAnswer const& a);
  boost::asio::awaitable<Result<OutcomeRecorded>> outcome(OutcomeRecord const& r);

  // The ids a person's hello lists: a customer's latest conversations, an
  // agent's current ones.
  boost::asio::awaitable<Result<std::vector<std::string>>> of_visitor(std::string const& visitor, int latest);
  boost::asio::awaitable<Result<std::vector<std::string>>> of_agent(std::string const& agent);
  // The chats offered to an agent and not yet taken or lapsed (shown again
  // at their hello).
  boost::asio::awaitable<Result<std::vector<std::string>>> offered_to(std::string const& agent);
  // Where a conversation stands, for a hello's list (three fields, not the
  // whole record); nullopt when there is no such conversation.
  struct Standing {
    core::ConversationStatus status = core::ConversationStatus::queued;
    std::int64_t last_seq = 0;
    std::string team;
  };
  boost::asio::awaitable<Result<std::optional<Standing>>> standing(std::string const& id);
  // The seq of the last message, from the talk side (where it is kept when
  // that is split off on a cluster; the record's copy is not kept up).
  boost::asio::awaitable<Result<std::int64_t>> last_seq(std::string const& id);
  // The stored record without an access check (for steps that already did).
  boost::asio::awaitable<Result<std::optional<Conversation>>> get(std::string const& id);
  // Every message, in order, at most `max` (the assessment reads the whole
  // chat), without an access check.
  boost::asio::awaitable<Result<std::vector<Message>>> transcript(std::string const& id, int max);

 private:
  Db& db_;
};

// Decoders shared with the tests and the other modules reading the record:
// a record, what people said of its end, a stream entry.
Result<Conversation> conversation_of(Reply const& flat, std::string_view what);
Facts facts_of(Fields const& record);
Result<Message> message_of(std::string const& conversation_id, Reply const& entry, std::string_view what);

}  // namespace exceed::store
