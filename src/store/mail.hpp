// E-mail in Redis: the durable queue of outgoing mail (a record per mail,
// a sorted set by due time, claims leased like the webhooks' lanes), each
// mail's attempt log, the index the supervisors' list reads (finished
// mails and their logs expire after mail.retention_s), the index from the
// Message-IDs sent to their ticket, and the few facts of a ticket or
// conversation a mail needs (who to write to, the thread so far).
#pragma once

#include "core/domain.hpp"
#include "store/db.hpp"
#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

namespace exceed::store {

struct Mail {
  std::string id;
  std::string kind;  // ticket_reply | transcript | csat
  std::string to;
  std::string to_name;
  std::string subject;
  std::string body;
  std::string message_id;
  std::string in_reply_to;
  std::string references;  // space separated
  std::string reply_to;
  std::string ticket_id;
  std::string conversation_id;
  std::string status;  // queued | sent | failed
  std::int64_t attempts = 0;
  std::string last_error;
  core::Millis created_at = 0;
  std::optional<core::Millis> sent_at;
  std::optional<core::Millis> failed_at;
  // A supervisor queued it again after it failed: when, who, and how many
  // attempts it had by then (its give-up time and backoff count from the retry).
  std::optional<core::Millis> retried_at;
  std::string retried_by;
  std::int64_t retried_after = 0;
  // A queued mail's due time (the end of the lease while it is being sent);
  // filled by list() and due_at().
  std::optional<core::Millis> next_try_at;
};

// What one sending came to, for finish().
struct MailOutcome {
  std::string id;
  std::int64_t attempt = 0;  // 1 for the first
  bool sent = false;
  bool give_up = false;  // not sent, and not to be tried again
  core::Millis now = 0;
  core::Millis next_try = 0;  // when neither sent nor given up
  long code = 0;              // the SMTP server's last reply code, 0 when none came
  std::string error;
  core::Millis retention = 0;  // how long a finished mail and its log are kept
};

// One entry of a mail's attempt log.
struct MailAttempt {
  core::Millis ts = 0;
  std::int64_t attempt = 0;
  std::string result;  // sent | retry | failed
  long code = 0;
  std::string error;
  std::optional<core::Millis> next_try;  // for a retry
};

// A page of the mail index, newest first: `before` and `after_id` come
// from the previous page's cursor ("<score>:<id>"), `status` "" for any.
struct MailQuery {
  std::string status;
  std::string before = "+inf";
  std::string after_id;
  int limit = 50;
};
struct MailPage {
  std::vector<Mail> items;  // without their bodies
  std::optional<std::string> next_cursor;
};

// Who a ticket's mail goes to, and its thread so far.
struct TicketContact {
  std::string subject;
  std::string requester;  // the visitor
  std::string email;      // "" when they left none
  std::string name;
  std::string conversation_id;
  std::string thread;      // the last Message-ID of the ticket's mail ("" before the first)
  std::string references;  // the thread's Message-IDs, space separated, at most 10
};

struct ConversationContact {
  std::string visitor;
  std::string email;
  std::string name;
  std::string ticket_id;
};

struct TranscriptLine {
  core::Millis ts = 0;
  std::string role;
  std::string name;
  std::string text;
};

class MailStore {
 public:
  explicit MailStore(Db& db) : db_(db) {}

  // Index entries queued before `trim_before` (their records are gone by
  // then) are dropped on the way; 0 drops none.
  boost::asio::awaitable<Result<Done>> enqueue(Mail const& m, core::Millis now, core::Millis trim_before);
  // {id, attempt} of the mails due, leased for `lease`.
  boost::asio::awaitable<Result<std::vector<std::pair<std::string, std::int64_t>>>> claim(core::Millis now,
                                                                                          core::Millis lease, int max);
  boost::asio::awaitable<Result<std::optional<Mail>>> get(std::string const& id);
  // Records the outcome and logs the attempt (at most `attempt_log_max`
  // kept per mail), atomically; a finished mail and its log expire after
  // o.retention. Nothing happens to a mail no longer queued.
  boost::asio::awaitable<Result<Done>> finish(MailOutcome const& o);
  static constexpr int attempt_log_max = 20;

  // The supervisors' view of the queue. Expired entries met are dropped
  // from the index; at most `scan_budget` entries are read per page.
  boost::asio::awaitable<Result<MailPage>> list(MailQuery const& q);
  static constexpr int scan_budget = 1000;
  // The attempts logged for a mail, newest first.
  boost::asio::awaitable<Result<std::vector<MailAttempt>>> attempts(std::string const& id);
  // When a queued mail is next tried (nullopt when it is not queued).
  boost::asio::awaitable<Result<std::optional<core::Millis>>> due_at(std::string const& id);
  // A failed mail queued again, due at `now`. Refused: not_found (unknown
  // or expired), conflict (not failed).
  boost::asio::awaitable<Result<Done>> retry(std::string const& id, core::Millis now, std::string const& who);
  // How many mails are queued (every process's), for /metrics.
  boost::asio::awaitable<Result<std::int64_t>> waiting();

  boost::asio::awaitable<Result<std::optional<TicketContact>>> ticket_contact(std::string const& ticket_id);
  boost::asio::awaitable<Result<std::optional<ConversationContact>>> conversation_contact(std::string const& id);
  // The ticket's thread after a mail was sent for it.
  boost::asio::awaitable<Result<Done>> thread_on(std::string const& ticket_id, std::string const& message_id,
                                                 std::string const& references);
  // The ticket a Message-ID sent by Exceed belongs to.
  boost::asio::awaitable<Result<std::optional<std::string>>> ticket_of(std::string const& message_id);
  boost::asio::awaitable<Result<std::vector<TranscriptLine>>> transcript(std::string const& conversation_id);
  // Marks a key once for `ttl_s` (an inbound Message-ID seen, a transcript
  // sent lately): false when it was marked already.
  boost::asio::awaitable<Result<bool>> mark_once(std::string const& key, int ttl_s);
  boost::asio::awaitable<Result<Done>> unmark(std::string const& key);
  Keys const& keys() const { return db_.keys(); }

 private:
  Db& db_;
};

}  // namespace exceed::store
