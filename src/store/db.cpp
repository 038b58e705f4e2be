#include "store/db.hpp"

#include "store/scripts.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
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

asio::awaitable<void> run_one(Db& db, Script const& script, std::vector<std::string> args,
                              std::shared_ptr<Batch> batch, std::size_t i) {
  try {
    batch->out[i] = co_await db.run(script, std::move(args));
  } catch (std::exception const& e) {
    spdlog::error("store: a batched call failed: {}", e.what());
    batch->out[i] = Failure::protocol(e.what());
  }
  if (--batch->left == 0) batch->done.cancel();
}

}  // namespace

Db::Db(std::shared_ptr<Connection> conn, std::string prefix)
    : conn_(std::move(conn)), keys_(std::move(prefix)), scripts_(std::make_unique<Scripts>()) {}
Db::~Db() = default;

// Called as the link comes up, before anything else is written on it: Redis
// executes these first, so no EVALSHA after them meets NOSCRIPT. That
// matters for pipelined requests: one that met NOSCRIPT would be sent again
// (EVAL) after later ones of the same client had already run, and a burst
// of messages would get seqs out of typing order.
void Db::load_scripts() {
  for (auto const* script : scripts_->all()) post({"SCRIPT", "LOAD", script->source()});
}

Result<Reply> to_result(std::error_code ec, Reply reply) {
  if (ec) return Failure::unavailable("the message store is unavailable, try again");
  if (!reply.is_error()) return reply;
  // Script refusals read "<refusal> <text>"; Redis may prefix "ERR " to them.
  std::string_view text = reply.str;
  if (text.rfind("ERR ", 0) == 0) text.remove_prefix(4);
  auto space = text.find(' ');
  if (auto refusal = core::parse_refusal(text.substr(0, space)))
    return Failure::refused(*refusal, space == std::string_view::npos ? std::string() : std::string(text.substr(space + 1)));
  return Failure::protocol("unexpected error reply: " + reply.str);
}

asio::awaitable<Result<Reply>> Db::run(Script const& script, std::vector<std::string> args) {
  args.insert(args.begin(), keys_.prefix());
  static std::vector<std::string> const no_keys;
  auto started = std::chrono::steady_clock::now();
  auto [ec, reply] = co_await script.run(*conn_, no_keys, args);
  record(started);
  co_return to_result(ec, std::move(reply));
}

asio::awaitable<Result<Reply>> Db::run_keys(Script const& script, std::vector<std::string> keys,
                                           std::vector<std::string> args) {
  auto started = std::chrono::steady_clock::now();
  auto [ec, reply] = co_await script.run(*conn_, keys, args);
  record(started);
  co_return to_result(ec, std::move(reply));
}

asio::awaitable<std::vector<Result<Reply>>> Db::run_all(Script const& script,
                                                        std::vector<std::vector<std::string>> calls) {
  auto ex = co_await asio::this_coro::executor;
  auto batch = std::make_shared<Batch>(ex, calls.size());
  // co_spawn dispatches: each call runs up to its write before the next starts.
  for (std::size_t i = 0; i < calls.size(); ++i)
    asio::co_spawn(ex, run_one(*this, script, std::move(calls[i]), batch, i), asio::detached);
  while (batch->left > 0) {
    batch->done.expires_at(asio::steady_timer::time_point::max());
    co_await batch->done.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return std::move(batch->out);
}

asio::awaitable<Result<Reply>> Db::exec(Args args) {
  auto started = std::chrono::steady_clock::now();
  auto [ec, reply] = co_await conn_->exec(std::move(args));
  record(started);
  co_return to_result(ec, std::move(reply));
}

void Db::record(std::chrono::steady_clock::time_point started) {
  if (round_trip_) round_trip_(std::chrono::steady_clock::now() - started);
}

void Db::post(Args const& args) {
  conn_->exec_cb(args, [](std::error_code ec, Reply const& r) {
    if (ec) spdlog::debug("store: a background command failed: {}", ec.message());
    else if (r.is_error()) spdlog::warn("store: a background command failed: {}", r.str);
  });
}

}  // namespace exceed::store
