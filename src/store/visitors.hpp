// Visitors browsing the shop, in Redis: each visitor's current visit (a
// hash kept visitors.retention_s, no longer), the live list (a sorted set
// by when each visit leaves it), and the stream of changed visits that
// every process reads on to keep its own copy of the list. A visit is
// written whole, as the app decided it with core/visitors, by a
// compare-and-set on its revision; the invitations made, answered and
// turned into chats are counted per day as they are written.
#pragma once

#include "core/visitors.hpp"
#include "store/db.hpp"
#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace exceed::store {

// How a write is kept and counted.
struct VisitWrite {
  core::Millis retention = 0;  // the visit is dropped this long after its last write
  core::Millis stream_keep = 120'000;  // stream entries older than this (Redis's clock) are trimmed
  std::string day;      // "2026-11-22": the day the count below falls on
  std::string counted;  // "<rule>:<event>" to count, or ""
};

// One entry of the stream: a visit as written, or a visit gone from the list.
struct VisitChange {
  std::optional<core::Visit> visit;
  std::string gone;  // its visitor id, when gone
};

struct VisitChanges {
  std::vector<VisitChange> changes;  // in the order they happened
  std::string last_id;               // read on from here next time
};

class VisitorStore {
 public:
  explicit VisitorStore(Db& db) : db_(db) {}

  // The visitor's latest visit (nullopt: none within the retention).
  boost::asio::awaitable<Result<std::optional<core::Visit>>> get(std::string const& visitor_id);
  // Writes `next` (with its expires_at) if the stored visit is still at
  // `expected_rev` (0: none); refused conflict when it changed meanwhile.
  // Returns the visit as stored, its revision one higher.
  boost::asio::awaitable<Result<core::Visit>> write(core::Visit const& next, std::int64_t expected_rev,
                                                    VisitWrite const& how);
  // Claims the visits whose time on the live list ended by `now` (at most
  // `max`, each once across processes); returns their visitor ids.
  boost::asio::awaitable<Result<std::vector<std::string>>> expire(core::Millis now, int max, core::Millis stream_keep);
  // Every live visit (at most `max`) and the stream position they are as of.
  boost::asio::awaitable<Result<VisitChanges>> live(int max);
  // The changes after `after_id`, at most `max`.
  boost::asio::awaitable<Result<VisitChanges>> changes(std::string const& after_id, int max);
  // Keeps visits with an open tab on the list until the given times (a
  // process that dies stops doing this, and its visitors leave the list).
  // Never shortens a time, never brings back a visit that left.
  boost::asio::awaitable<Result<Done>> keep_live(std::vector<std::pair<std::string, core::Millis>> const& until);
  // Did the shop vouch for this visitor's identity (a verified user_id)?
  boost::asio::awaitable<Result<bool>> verified(std::string const& visitor_id);
  // Is someone of the team online with a live session?
  boost::asio::awaitable<Result<bool>> team_online(std::string const& team);
  // The invitations counted on a day: "<rule>:<event>" -> count.
  boost::asio::awaitable<Result<std::map<std::string, std::int64_t>>> invitation_counts(std::string const& day);

 private:
  Db& db_;
};

// A visit's stored fields (for the tests).
std::vector<std::string> visit_fields(core::Visit const& v);

}  // namespace exceed::store
