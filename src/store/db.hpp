// The store's own view of Redis: the key layout, the scripts, and replies
// turned into Result: a script's refusal ("<refusal> <text>", see
// core/refusal.hpp) into Failure::refused, a lost or slow link into
// Failure::unavailable. The typed modules (conversations.hpp, ...) are built
// on it; nothing outside src/store reads a Reply.
#pragma once

#include "store/keys.hpp"
#include "store/redis.hpp"
#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace exceed::store {

class Cluster;
struct Scripts;

class Db {
 public:
  Db(std::shared_ptr<Connection> conn, std::string prefix);
  ~Db();
  Db(Db const&) = delete;
  Db& operator=(Db const&) = delete;

  Keys const& keys() const noexcept { return keys_; }
  Scripts const& scripts() const noexcept { return *scripts_; }
  Connection& connection() noexcept { return *conn_; }
  bool connected() const noexcept { return conn_->connected(); }

  // The Redis Cluster this Db stores on, or null for one primary (plain or
  // found by Sentinel).
  Cluster* cluster() const noexcept { return cluster_.get(); }

  // Runs a script with ARGV = {prefix, args...} and KEYS = {prefix}: the
  // scripts build their keys from the prefix and read no KEYS, but the
  // declared one routes the call on a cluster (to the primary of the
  // prefix's hash tag, which every key shares; a node that lost that slot
  // answers MOVED, which the cluster client follows).
  // On a cluster with the talk sides split off (Keys::split), a script that
  // changes a conversation record (Scripts::changes_conversations) is
  // followed by sync_copies() before its answer is given: whoever learns of
  // an assignment can act on it on the talk side at once.
  boost::asio::awaitable<Result<Reply>> run(Script const& script, std::vector<std::string> args);
  // The same, routed by `key` (KEYS = {key}): for the scripts of a
  // conversation's talk side.
  boost::asio::awaitable<Result<Reply>> run_at(std::string key, Script const& script, std::vector<std::string> args);
  // Brings the talk side of every conversation listed in `copies` up to its
  // record (lua/copy_take.lua, copy_put.lua, copy_done.lua): after the steps
  // that change records, on a not_found from the talk side, and every
  // second (what a process that died between the two left behind). One pass
  // at a time; a caller waits for a pass that began after it called.
  // Nothing to do unless Keys::split.
  boost::asio::awaitable<void> sync_copies();
  // A message the server appends on a conversation's talk side when it is
  // split off (lua/append.lua): `key` makes a retry harmless. Its seq.
  struct TalkMessage {
    std::string conversation, key, role, uid, name, text, client_msg_id, attachment;
    std::int64_t now = 0;
    std::string clock;  // "wait", "first" or ""
    // "wait": the first response's deadline in the team's hours (0: the
    // wall clock from the conversation's target).
    std::int64_t warn_at = 0, due_at = 0;
  };
  boost::asio::awaitable<Result<std::int64_t>> append_talk(TalkMessage m);
  // Runs a script that names its keys (KEYS) and takes no prefix.
  boost::asio::awaitable<Result<Reply>> run_keys(Script const& script, std::vector<std::string> keys,
                                                 std::vector<std::string> args);
  // Runs `script` once per argument list, every call written before the
  // first reply is awaited (one round trip for the lot, executed by Redis in
  // list order); the results come back in the same order. `routes[i]`, when
  // given and not empty, routes call i as run_at does.
  boost::asio::awaitable<std::vector<Result<Reply>>> run_all(Script const& script,
                                                             std::vector<std::vector<std::string>> calls,
                                                             std::vector<std::string> routes = {});
  // Group commit: the calls of `script` made in one turn of the event loop
  // (from every connection) go to Redis as ONE call of it, whose ARGV is
  // the prefix and then each call's arguments one after another; the script
  // answers an array with one reply (or refusal) per call, and each caller
  // gets its own. The group is written when the turn ends, when `max_group`
  // calls wait, or before any other command of this Db is written, so the
  // order in which commands reach Redis is the order they were issued, as
  // without grouping (what pipelined requests rely on, see app/client.cpp).
  // Nothing is answered before Redis has answered the whole group.
  //
  // `route_key` (the talk side's key of the call's conversation, on a
  // cluster) makes one group per primary instead, each routed by its first
  // call's key: the calls of one group then touch keys of several slots,
  // all on the primary that runs it (allowed for scripts without flags).
  boost::asio::awaitable<Result<Reply>> grouped(Script const& script, std::vector<std::string> args,
                                                std::string route_key = {});
  static constexpr std::size_t max_group = 256;
  // Off: every grouped call is written at once, as a group of one.
  void set_grouping(bool on) noexcept { grouping_ = on; }
  // Whether the scripts are loaded and called as Redis Functions (on by
  // default; see load_scripts). Set before the link first comes up.
  void set_functions(bool on) noexcept {
    functions_ = on;
    conn_->functions(on);
  }
  // One plain command.
  boost::asio::awaitable<Result<Reply>> exec(Args args);
  // Plain commands, each routed by its first key, all written before the
  // first reply is awaited; the results in the same order.
  boost::asio::awaitable<std::vector<Result<Reply>>> exec_all(std::vector<Args> commands);
  // The same with the arguments listed (g++ 12 cannot compile a braced list
  // inside a co_await expression, so call sites use these instead).
  template <class... A>
  boost::asio::awaitable<Result<Reply>> cmd(A&&... a) {
    return exec(Args{std::string(std::forward<A>(a))...});
  }
  template <class... A>
  boost::asio::awaitable<Result<Reply>> call(Script const& script, A&&... a) {
    return run(script, std::vector<std::string>{std::string(std::forward<A>(a))...});
  }
  // A command without a key of its own, sent where `key` lives on a cluster
  // (the same as exec on one primary).
  boost::asio::awaitable<Result<Reply>> exec_at(std::string key, Args args);
  // Fire-and-forget (PUBLISH and the like): failures are only logged.
  void post(Args const& args);
  // Pub/sub that works in every mode: PUBLISH, or on a cluster SPUBLISH
  // (sharded: the message goes to the channel's shard only, which is where
  // the bus subscribes, Cluster::subscriber). publish() posts it;
  // subscribers() answers PUBSUB NUMSUB, or SHARDNUMSUB asked of the
  // channel's primary.
  Args publish_command(std::string channel, std::string payload) const;
  void publish(std::string channel, std::string payload) { post(publish_command(std::move(channel), std::move(payload))); }
  boost::asio::awaitable<Result<Reply>> subscribers(std::string channel);
  // Loads the scripts (their Functions library, or each for EVALSHA where
  // Redis has no functions): call as the link comes up.
  void load_scripts();
  // Told how long each round trip of run() and exec() took.
  void on_round_trip(std::function<void(std::chrono::steady_clock::duration)> f) { round_trip_ = std::move(f); }

 private:
  void record(std::chrono::steady_clock::time_point started);
  struct Group;
  // Writes the waiting groups, if any (see grouped()).
  void flush_group();
  void flush(Group& g);
  boost::asio::awaitable<void> copy_pass();
  // run() and run_at(): KEYS = route, ARGV = {prefix, args...}.
  boost::asio::awaitable<Result<Reply>> run_routed(std::vector<std::string> const& route, Script const& script,
                                                   std::vector<std::string> args);

  std::shared_ptr<Connection> conn_;
  std::shared_ptr<Cluster> cluster_;
  Keys keys_;
  std::vector<std::string> route_;  // KEYS of run() and grouped(): the prefix
  std::shared_ptr<Scripts const> scripts_;
  std::function<void(std::chrono::steady_clock::duration)> round_trip_;
  std::map<std::string, std::shared_ptr<Group>> groups_;  // by primary ("" without a cluster)
  bool grouping_ = true;  // shared with the end-of-turn flush posted for it
  bool functions_ = true;  // set_functions
  // sync_copies(): passes asked for and finished, one running, its waiters.
  std::uint64_t copies_asked_ = 0, copies_done_ = 0;
  bool copying_ = false;
  std::vector<std::shared_ptr<boost::asio::steady_timer>> copy_waiters_;
};

// A finished command as a Result (exposed for the tests of the decoding).
Result<Reply> to_result(std::error_code ec, Reply reply);

}  // namespace exceed::store
