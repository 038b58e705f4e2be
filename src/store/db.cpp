#include "store/db.hpp"

#include "store/cluster.hpp"
#include "store/scripts.hpp"
#include "store/slots.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace exceed::store {
namespace asio = boost::asio;
namespace {

// The calls of one run_all: their results, how many are still out, and the
// timer run_all waits on until that count reaches zero.
struct Batch {
  Batch(asio::any_io_executor ex, std::size_t n) : out(n), left(n), done(std::move(ex)) {}
  std::vector<Result<Reply>> out;
  std::size_t left;
  asio::steady_timer done;
};

asio::awaitable<void> run_one(Db& db, Script const& script, std::vector<std::string> args, std::string route,
                              std::shared_ptr<Batch> batch, std::size_t i) {
  try {
    if (route.empty())
      batch->out[i] = co_await db.run(script, std::move(args));
    else
      batch->out[i] = co_await db.run_at(std::move(route), script, std::move(args));
  } catch (std::exception const& e) {
    spdlog::error("store: a batched call failed: {}", e.what());
    batch->out[i] = Failure::protocol(e.what());
  }
  if (--batch->left == 0) batch->done.cancel();
}

asio::awaitable<void> exec_one(Db& db, Args args, std::shared_ptr<Batch> batch, std::size_t i) {
  try {
    std::string key = args.size() > 1 ? args[1] : std::string();
    batch->out[i] = co_await db.exec_at(std::move(key), std::move(args));
  } catch (std::exception const& e) {
    spdlog::error("store: a batched command failed: {}", e.what());
    batch->out[i] = Failure::protocol(e.what());
  }
  if (--batch->left == 0) batch->done.cancel();
}

// Until every call of a run_all or exec_all has its answer.
asio::awaitable<void> all_answered(Batch& batch) {
  while (batch.left > 0) {
    batch.done.expires_at(asio::steady_timer::time_point::max());
    co_await batch.done.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// One caller of a grouped call: its answer, and the timer it waits on.
struct Waiter {
  explicit Waiter(asio::any_io_executor ex) : done(std::move(ex)) {}
  std::optional<Result<Reply>> answer;
  asio::steady_timer done;
  void give(Result<Reply> r) {
    answer = std::move(r);
    done.cancel();
  }
};

}  // namespace

// The calls waiting to be written as one (see Db::grouped).
struct Db::Group {
  explicit Group(asio::any_io_executor e) : ex(std::move(e)) {}
  asio::any_io_executor ex;
  Script const* script = nullptr;
  std::vector<std::string> route;  // its KEYS
  std::vector<std::string> args;  // the prefix, then every call's arguments
  std::vector<std::shared_ptr<Waiter>> waiters;
  bool flush_posted = false;
};

namespace {

// Writes one group (before its first suspension: co_spawn dispatches) and
// hands each caller its element of the reply.
asio::awaitable<void> deliver(std::shared_ptr<Connection> conn, Script const& script,
                              std::vector<std::string> route, std::vector<std::string> args,
                              std::vector<std::shared_ptr<Waiter>> waiters,
                              std::function<void(std::chrono::steady_clock::duration)> round_trip) {
  auto started = std::chrono::steady_clock::now();
  auto [ec, reply] = co_await script.run(*conn, route, args);
  if (round_trip) round_trip(std::chrono::steady_clock::now() - started);
  if (ec || reply.is_error()) {
    for (auto& w : waiters) w->give(to_result(ec, reply));
    co_return;
  }
  if (reply.elements.size() != waiters.size()) {
    spdlog::error("store: a grouped call answered {} replies for {} calls", reply.elements.size(), waiters.size());
    for (auto& w : waiters) w->give(Failure::protocol("a grouped call answered the wrong number of replies"));
    co_return;
  }
  for (std::size_t i = 0; i < waiters.size(); ++i) waiters[i]->give(to_result({}, std::move(reply.elements[i])));
}

// SCRIPT LOAD of every script, for a Redis without functions.
void load_each(Connection& conn, Scripts const& scripts) {
  for (auto const* script : scripts.all())
    conn.exec_cb({"SCRIPT", "LOAD", script->source()}, [](std::error_code ec, Reply const& r) {
      if (!ec && r.is_error()) spdlog::warn("store: SCRIPT LOAD failed: {}", r.str);
    });
}

}  // namespace

Db::Db(std::shared_ptr<Connection> conn, std::string prefix)
    : conn_(std::move(conn)),
      cluster_(std::dynamic_pointer_cast<Cluster>(conn_)),
      keys_(std::move(prefix)),
      route_{keys_.prefix()},
      scripts_(std::make_shared<Scripts const>()) {}
Db::~Db() = default;

// Called as the link comes up, before anything else is written on it: Redis
// executes it first, so no FCALL (or EVALSHA) after it misses its script.
// That matters for pipelined requests: one that missed it would be sent
// again (EVAL) after later ones of the same client had already run, and a
// burst of messages would get seqs out of typing order.
// The scripts go as one Functions library (Scripts::library); a Redis that
// has it already answers "already exists". A Redis without functions
// (before 7.0) refuses it: the connection's functions go off, the scripts
// are loaded for EVALSHA, and on every later link-up they go first too.
// On a cluster, every primary needs the library, and a primary that appears
// later (a failover, a new shard) too: the cluster client loads it on each
// link as it comes up (Cluster::preload).
void Db::load_scripts() {
  if (cluster_) {
    if (functions_) cluster_->preload({"FUNCTION", "LOAD", scripts_->library()});
    else
      for (auto const* script : scripts_->all()) cluster_->preload({"SCRIPT", "LOAD", script->source()});
    return;
  }
  flush_group();
  if (functions_)
    conn_->exec_cb({"FUNCTION", "LOAD", scripts_->library()},
                   [weak = std::weak_ptr<Connection>(conn_), scripts = scripts_](std::error_code ec, Reply r) {
                     auto conn = weak.lock();
                     if (ec || !conn) return;
                     if (!r.is_error() || r.str.find("already exists") != std::string::npos) {
                       conn->functions(true);
                       return;
                     }
                     // Redis still loading its data (after a restart) or busy: the calls
                     // tell (Script::run turns functions off if the library is missing).
                     for (std::string_view transient : {"LOADING", "BUSY", "MASTERDOWN"})
                       if (r.str.starts_with(transient)) return;
                     if (conn->functions()) {
                       spdlog::warn("store: Redis did not load the scripts' library ({}): they run by EVALSHA", r.str);
                       conn->functions(false);
                       load_each(*conn, *scripts);
                     }
                   });
  if (!conn_->functions()) load_each(*conn_, *scripts_);
}

Result<Reply> to_result(std::error_code ec, Reply reply) {
  if (ec) return Failure::unavailable("the message store is unavailable, try again");
  if (!reply.is_error()) return reply;
  // A cluster's answers that mean "not now": a slot moving or failing over
  // (what the cluster client did not follow or retry; see RedirectPolicy).
  // Nothing ran, so the request may be sent again.
  for (std::string_view code : {"ASK ", "MOVED ", "TRYAGAIN ", "CLUSTERDOWN ", "LOADING "})
    if (reply.str.starts_with(code)) return Failure::unavailable("the message store is moving, try again");
  // Redis at its maxmemory: a step that may write is refused before it
  // starts (nothing written); reads go on.
  if (reply.str.starts_with("OOM ")) return Failure::unavailable("the message store is full, try again later");
  // A group of messages for one primary (Db::grouped) that met a
  // conversation whose slot is no longer there: the script stopped at it.
  // The messages before it are stored; a retry finds them by their
  // client_msg_id, so the request may be sent again too.
  if (reply.str.find("non local key") != std::string::npos)
    return Failure::unavailable("the message store is moving, try again");
  // Script refusals read "<refusal> <text>"; Redis may prefix "ERR " to them.
  std::string_view text = reply.str;
  if (text.rfind("ERR ", 0) == 0) text.remove_prefix(4);
  auto space = text.find(' ');
  if (auto refusal = core::parse_refusal(text.substr(0, space)))
    return Failure::refused(*refusal, space == std::string_view::npos ? std::string() : std::string(text.substr(space + 1)));
  return Failure::protocol("unexpected error reply: " + reply.str);
}

asio::awaitable<Result<Reply>> Db::grouped(Script const& script, std::vector<std::string> args,
                                           std::string route_key) {
  auto ex = co_await asio::this_coro::executor;
  // The group this call joins: the one of the primary that runs it.
  std::string lane;
  if (cluster_ && !route_key.empty()) {
    auto node = cluster_->owner(key_slot(route_key));
    lane = node ? node->describe() : route_key;  // slot not mapped yet: alone
  }
  auto& slot = groups_[lane];
  if (!slot) slot = std::make_shared<Group>(ex);
  if (slot->script && slot->script != &script) flush_group();  // another script's groups go first
  auto group = slot;
  Group& g = *group;
  if (g.waiters.empty()) {
    g.script = &script;
    // (no braced list here: g++ 12 frees its copy twice in a coroutine)
    if (route_key.empty()) g.route = route_;
    else g.route.assign(1, std::move(route_key));
    g.args.clear();
    g.args.push_back(keys_.prefix());
  }
  for (auto& a : args) g.args.push_back(std::move(a));
  auto waiter = std::make_shared<Waiter>(ex);
  g.waiters.push_back(waiter);
  if (!grouping_ || g.waiters.size() >= max_group) {
    flush(g);
  } else if (!g.flush_posted) {
    // Runs after the handlers already queued: the rest of this turn's reads.
    g.flush_posted = true;
    asio::post(g.ex, [weak = std::weak_ptr<Group>(group), this] {
      auto alive = weak.lock();
      if (!alive) return;
      alive->flush_posted = false;
      flush(*alive);
    });
  }
  while (!waiter->answer) {
    waiter->done.expires_at(asio::steady_timer::time_point::max());
    co_await waiter->done.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return std::move(*waiter->answer);
}

void Db::flush_group() {
  for (auto& [lane, g] : groups_) flush(*g);
}

void Db::flush(Group& g) {
  if (g.waiters.empty()) return;
  auto args = std::move(g.args);
  auto waiters = std::move(g.waiters);
  auto route = std::move(g.route);
  Script const& script = *g.script;
  g.args = {};
  g.waiters = {};
  g.route = {};
  g.script = nullptr;
  asio::co_spawn(g.ex, deliver(conn_, script, std::move(route), std::move(args), std::move(waiters), round_trip_),
                 asio::detached);
}

asio::awaitable<Result<Reply>> Db::run(Script const& script, std::vector<std::string> args) {
  auto out = co_await run_routed(route_, script, std::move(args));
  if (out && keys_.split() && scripts_->changes_conversations(script)) co_await sync_copies();
  co_return out;
}

asio::awaitable<Result<Reply>> Db::run_at(std::string key, Script const& script, std::vector<std::string> args) {
  std::vector<std::string> route(1, std::move(key));
  co_return co_await run_routed(route, script, std::move(args));
}

asio::awaitable<Result<Reply>> Db::run_routed(std::vector<std::string> const& route, Script const& script,
                                              std::vector<std::string> args) {
  flush_group();
  args.insert(args.begin(), keys_.prefix());
  auto started = std::chrono::steady_clock::now();
  auto [ec, reply] = co_await script.run(*conn_, route, args);
  record(started);
  co_return to_result(ec, std::move(reply));
}

asio::awaitable<void> Db::sync_copies() {
  if (!keys_.split()) co_return;
  auto const mine = ++copies_asked_;
  auto ex = co_await asio::this_coro::executor;
  while (copies_done_ < mine) {
    if (!copying_) {
      // This pass begins after the caller's change was made: it covers it.
      copying_ = true;
      auto const upto = copies_asked_;
      try {
        co_await copy_pass();
      } catch (std::exception const& e) {
        spdlog::warn("store: copying conversation records failed: {}", e.what());
      }
      copies_done_ = std::max(copies_done_, upto);
      copying_ = false;
      for (auto& w : copy_waiters_) w->cancel();
      copy_waiters_.clear();
      continue;
    }
    auto timer = std::make_shared<asio::steady_timer>(ex, asio::steady_timer::time_point::max());
    copy_waiters_.push_back(timer);
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<Result<std::int64_t>> Db::append_talk(TalkMessage m) {
  auto key = keys_.talk_route(m.conversation);
  std::vector<std::string> args{std::move(m.conversation), std::move(m.key), std::move(m.role), std::move(m.uid),
                                std::move(m.name), std::move(m.text), std::move(m.client_msg_id),
                                std::to_string(m.now), std::move(m.attachment), std::move(m.clock),
                                std::to_string(m.warn_at), std::to_string(m.due_at)};
  auto r = co_await run_at(std::move(key), scripts_->append, std::move(args));
  if (!r) co_return r.failure();
  if (r->kind != Reply::Kind::integer) co_return Failure::protocol("append: expected a seq");
  co_return static_cast<std::int64_t>(r->integer);
}

asio::awaitable<void> Db::copy_pass() {
  constexpr std::size_t fields = 9;  // COPIED in lua/prelude.lua
  for (int round = 0; round < 64; ++round) {
    std::vector<std::string> count{"128"};
    auto taken = co_await run(scripts_->copy_take, std::move(count));
    if (!taken || !taken->is_array()) {
      if (!taken) spdlog::debug("store: copy_take: {}", taken.failure().message);
      co_return;  // Redis away: the next pass (at the latest the periodic one) goes on
    }
    auto const& e = taken->elements;
    if (e.empty() || e.size() % (2 + fields) != 0) co_return;
    std::vector<std::string> done;
    for (std::size_t i = 0; i < e.size(); i += 2 + fields) {
      std::vector<std::string> args;
      args.reserve(2 + fields);
      for (std::size_t j = 0; j < 2 + fields; ++j) args.push_back(e[i + j].str);
      auto const& conv = e[i].str;
      auto put = co_await run_at(keys_.talk_route(conv), scripts_->copy_put, std::move(args));
      if (!put) {
        spdlog::debug("store: copy_put {}: {}", conv, put.failure().message);
        continue;  // stays listed
      }
      done.push_back(conv);
      done.push_back(e[i + 1].str);
    }
    if (done.empty()) co_return;
    auto cleared = co_await run(scripts_->copy_done, std::move(done));
    if (!cleared) co_return;
  }
}

asio::awaitable<Result<Reply>> Db::run_keys(Script const& script, std::vector<std::string> keys,
                                           std::vector<std::string> args) {
  flush_group();
  auto started = std::chrono::steady_clock::now();
  auto [ec, reply] = co_await script.run(*conn_, keys, args);
  record(started);
  co_return to_result(ec, std::move(reply));
}

asio::awaitable<std::vector<Result<Reply>>> Db::run_all(Script const& script,
                                                        std::vector<std::vector<std::string>> calls,
                                                        std::vector<std::string> routes) {
  auto ex = co_await asio::this_coro::executor;
  auto batch = std::make_shared<Batch>(ex, calls.size());
  // co_spawn dispatches: each call runs up to its write before the next starts.
  for (std::size_t i = 0; i < calls.size(); ++i) {
    std::string route = i < routes.size() ? std::move(routes[i]) : std::string();
    asio::co_spawn(ex, run_one(*this, script, std::move(calls[i]), std::move(route), batch, i), asio::detached);
  }
  co_await all_answered(*batch);
  co_return std::move(batch->out);
}

asio::awaitable<std::vector<Result<Reply>>> Db::exec_all(std::vector<Args> commands) {
  auto ex = co_await asio::this_coro::executor;
  auto batch = std::make_shared<Batch>(ex, commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i)
    asio::co_spawn(ex, exec_one(*this, std::move(commands[i]), batch, i), asio::detached);
  co_await all_answered(*batch);
  co_return std::move(batch->out);
}

asio::awaitable<Result<Reply>> Db::exec(Args args) {
  flush_group();
  auto started = std::chrono::steady_clock::now();
  auto [ec, reply] = co_await conn_->exec(std::move(args));
  record(started);
  co_return to_result(ec, std::move(reply));
}

asio::awaitable<Result<Reply>> Db::exec_at(std::string key, Args args) {
  if (!cluster_) co_return co_await exec(std::move(args));
  flush_group();
  auto started = std::chrono::steady_clock::now();
  auto [ec, reply] = co_await cluster_->exec_at(std::move(key), std::move(args));
  record(started);
  co_return to_result(ec, std::move(reply));
}

Args Db::publish_command(std::string channel, std::string payload) const {
  return {cluster_ ? "SPUBLISH" : "PUBLISH", std::move(channel), std::move(payload)};
}

asio::awaitable<Result<Reply>> Db::subscribers(std::string channel) {
  // Sharded channels are counted by the primary of the channel's slot.
  Args args{"PUBSUB", cluster_ ? "SHARDNUMSUB" : "NUMSUB", channel};
  co_return co_await exec_at(std::move(channel), std::move(args));
}

void Db::record(std::chrono::steady_clock::time_point started) {
  if (round_trip_) round_trip_(std::chrono::steady_clock::now() - started);
}

void Db::post(Args const& args) {
  flush_group();
  conn_->exec_cb(args, [](std::error_code ec, Reply const& r) {
    if (ec) spdlog::debug("store: a background command failed: {}", ec.message());
    else if (r.is_error()) spdlog::warn("store: a background command failed: {}", r.str);
  });
}

}  // namespace exceed::store
