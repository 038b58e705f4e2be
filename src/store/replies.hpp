// Saved replies in Redis: the record, the set of each scope (a team's
// shared replies, an agent's own) and each scope's shortcuts, one reply per
// shortcut. Who may do what is core/replies' (the app asks it first); the
// scripts keep a shortcut unique within its scope.
#pragma once

#include "core/replies.hpp"
#include "store/db.hpp"
#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace exceed::store {

struct ReplyRecord {
  core::SavedReply reply;
  core::Millis created_at = 0;
  core::Millis updated_at = 0;
  std::string created_by;
};

// The facts a reply's placeholders are filled from.
struct ReplyContext {
  std::string customer_name;
  std::string agent_name;
  std::string context_json;  // the conversation's context as the widget and the visit gave it
};

class ReplyStore {
 public:
  explicit ReplyStore(Db& db) : db_(db) {}

  // Creates (`creating`) or changes a reply; refused conflict when its
  // shortcut is another's in the same scope, not_found when the reply to
  // change is gone.
  boost::asio::awaitable<Result<ReplyRecord>> save(core::SavedReply const& r, std::string const& by, core::Millis now,
                                                   bool creating);
  boost::asio::awaitable<Result<std::optional<ReplyRecord>>> get(std::string const& id);
  boost::asio::awaitable<Result<Done>> remove(core::SavedReply const& r);
  // Counts a use; returns the reply as stored.
  boost::asio::awaitable<Result<ReplyRecord>> use(std::string const& id);
  // Every reply of these teams' shared sets and of this agent's own.
  boost::asio::awaitable<Result<std::vector<ReplyRecord>>> list(std::vector<std::string> const& teams,
                                                                std::string const& agent);
  // Every team that has shared replies is listed by its set; a supervisor
  // sees all of them.
  boost::asio::awaitable<Result<std::vector<std::string>>> teams();
  // The agent's name and (for a conversation id) the customer's name and
  // the conversation's context.
  boost::asio::awaitable<Result<ReplyContext>> context(std::string const& conversation_id, std::string const& agent_id);

 private:
  std::string scope_set(core::SavedReply const& r) const;
  Db& db_;
};

}  // namespace exceed::store
