// The service assessment in Redis: what it keeps on a conversation (the
// judgement with its history, the assessed list the reports read, the
// supervisors' review list, the customer coming back) and on a solved
// ticket, and what it reads of a ticket. The judging is core::assess's;
// these functions only store and read. A conversation's own record, CSAT
// answer and messages are the conversation store's (conversations.hpp).
#pragma once

#include "core/actor.hpp"
#include "core/assessment.hpp"
#include "core/domain.hpp"
#include "store/conversations.hpp"
#include "store/db.hpp"
#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace exceed::store {

// One (re)assessment of a conversation, as stored.
struct Judgement {
  std::string conversation_id, team, agent;
  std::string assessment_json;  // what the API and the `assessment` event show
  std::string times_json;       // the measured response times
  std::string sla_policy;
  core::Level level = core::Level::met;
  core::Confidence confidence = core::Confidence::medium;
  double score = 0;
  std::string trigger;          // resolved | csat | outcome | followup_done | reopened
  core::Millis resolved_at = 0;  // its place in the assessed and review lists
  core::Millis now = 0;
};

// The same for a solved ticket.
struct TicketJudgement {
  std::string ticket_id;
  std::string assessment_json, times_json, sla_policy;
  core::Level level = core::Level::met;
  std::string trigger;
  core::Millis now = 0;
};

// A conversation with what the assessment keeps on it.
struct AssessedRecord {
  Conversation conversation;
  std::string assessment_json;      // the latest judgement ("" = none yet)
  std::optional<core::Level> level;
  bool returned = false;            // the customer came back with the same need
  std::optional<core::Millis> reviewed_at;
  std::string reviewed_by, review_note;
};

// One line of the consistency report's reading.
struct AssessedLine {
  std::string conversation_id;
  std::optional<core::Level> level;  // nullopt: not (or no longer) readable
  std::string team, agent;
  core::Millis resolved_at = 0;
  std::string times_json;
  std::string stage;  // "" when it started without one
};

// A ticket as its assessment reads it: the record, its comments and its
// changes (assignee, status), each in stored order.
struct TicketStory {
  std::string id, status, team, priority, via, conversation_id;
  core::Millis created_at = 0;
  struct Comment {
    core::Millis ts = 0;
    bool customer = false;
    bool is_public = false;  // notes are not answers
    std::string author_id, text;
  };
  struct Change {
    core::Millis ts = 0;
    std::string what, from, to;
  };
  std::vector<Comment> comments;
  std::vector<Change> changes;
};

class AssessmentStore {
 public:
  explicit AssessmentStore(Db& db) : db_(db) {}

  // Stores a judgement (lua/assessment_save.lua). The answer: whether the
  // conversation is on the review list now.
  boost::asio::awaitable<Result<bool>> save(Judgement const& j);
  boost::asio::awaitable<Result<Done>> save_ticket(TicketJudgement const& j);

  // The record with the assessment's fields; nullopt when there is none.
  boost::asio::awaitable<Result<std::optional<AssessedRecord>>> record(std::string const& id);
  // The customer came back (with `with`): the conversation did not help in
  // one contact.
  boost::asio::awaitable<Result<Done>> mark_returned(std::string const& id, std::string const& with, core::Millis now);

  // Conversations on the review list (or, `reviewed`, marked reviewed)
  // resolved within [from, to] (scores, "-inf" / "+inf" for open ends),
  // newest first, at most `max`.
  struct ReviewRange {
    bool reviewed = false;
    std::string from = "-inf", to = "+inf";
    int max = 1000;
  };
  boost::asio::awaitable<Result<std::vector<std::string>>> reviews(ReviewRange const& range);
  // Marks one reviewed (lua/review_mark.lua); refused with not_found when it
  // is not waiting for review.
  boost::asio::awaitable<Result<Done>> mark_reviewed(std::string const& id, std::string const& by,
                                                     std::string const& note, core::Millis now);

  // Conversations assessed that were resolved within [from, to], at most `max`.
  boost::asio::awaitable<Result<std::vector<AssessedLine>>> assessed(core::Millis from, core::Millis to, int max);

  // A ticket's record and history (at most `max` comments and changes);
  // nullopt when there is no such ticket.
  boost::asio::awaitable<Result<std::optional<TicketStory>>> ticket_story(std::string const& id, int max);

 private:
  Db& db_;
};

}  // namespace exceed::store
