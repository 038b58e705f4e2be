// E-mail in Redis: the durable queue of outgoing mail (a record per mail,
// a sorted set by due time, claims leased like the webhooks' lanes), the
// index from the Message-IDs sent to their ticket, and the few facts of a
// ticket or conversation a mail needs (who to write to, the thread so far).
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

  boost::asio::awaitable<Result<Done>> enqueue(Mail const& m, core::Millis now);
  // {id, attempt} of the mails due, leased for `lease`.
  boost::asio::awaitable<Result<std::vector<std::pair<std::string, std::int64_t>>>> claim(core::Millis now,
                                                                                          core::Millis lease, int max);
  boost::asio::awaitable<Result<std::optional<Mail>>> get(std::string const& id);
  boost::asio::awaitable<Result<Done>> finish(std::string const& id, bool sent, core::Millis now,
                                              core::Millis next_try, bool give_up, std::string const& error);

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
