#include "app/db.hpp"

#include "app/lua_scripts.hpp"  // generated from src/app/lua
#include "app/scripts.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <charconv>

namespace exceed::app {
namespace {

store::Script with_prelude(std::string_view body) {
  return store::Script(std::string(lua::prelude) + "\n" + std::string(body));
}

std::optional<protocol::error> code_from(std::string_view word) {
  using protocol::error;
  static constexpr std::pair<std::string_view, error> codes[] = {
      {"bad_request", error::bad_request}, {"unauthorized", error::unauthorized},
      {"forbidden", error::forbidden},     {"not_found", error::not_found},
      {"conflict", error::conflict},       {"rate_limited", error::rate_limited},
      {"too_large", error::too_large},     {"unavailable", error::unavailable}};
  for (auto const& [name, code] : codes)
    if (name == word) return code;
  return std::nullopt;
}

// The calls of one run_all: their outcomes, how many are still out, and the
// timer run_all waits on until that count reaches zero.
struct Batch {
  explicit Batch(boost::asio::any_io_executor ex, std::size_t n) : out(n), left(n), done(std::move(ex)) {}
  std::vector<Outcome> out;
  std::size_t left;
  boost::asio::steady_timer done;
};

boost::asio::awaitable<void> run_one(Db& db, store::Script const& script, std::vector<std::string> args,
                                     std::shared_ptr<Batch> batch, std::size_t i) {
  try {
    batch->out[i] = co_await db.run(script, std::move(args));
  } catch (std::exception const& e) {
    spdlog::error("store: a batched call failed: {}", e.what());
    batch->out[i].error = protocol::error::internal;
    batch->out[i].message = "internal error";
  }
  if (--batch->left == 0) batch->done.cancel();
}

}  // namespace

Scripts::Scripts()
    : start(with_prelude(lua::start)), send(with_prelude(lua::send)), history(with_prelude(lua::history)),
      access(with_prelude(lua::access)), snapshot(with_prelude(lua::snapshot)), offer(with_prelude(lua::offer)),
      accept(with_prelude(lua::accept)), decline(with_prelude(lua::decline)),
      expire_offers(with_prelude(lua::expire_offers)), resolve(with_prelude(lua::resolve)),
      requeue(with_prelude(lua::requeue)), assign(with_prelude(lua::assign)), presence(with_prelude(lua::presence)),
      reap_procs(with_prelude(lua::reap_procs)), grace_due(with_prelude(lua::grace_due)),
      grace_done(with_prelude(lua::grace_done)), agent_status(with_prelude(lua::agent_status)),
      csat(with_prelude(lua::csat)), positions(with_prelude(lua::positions)), note(with_prelude(lua::note)),
      read(with_prelude(lua::read)), followup_create(with_prelude(lua::followup_create)),
      followup_update(with_prelude(lua::followup_update)), followup_finish(with_prelude(lua::followup_finish)),
      followup_fire(with_prelude(lua::followup_fire)), ticket_create(with_prelude(lua::ticket_create)),
      ticket_update(with_prelude(lua::ticket_update)), ticket_comment(with_prelude(lua::ticket_comment)),
      ticket_close_due(with_prelude(lua::ticket_close_due)), sla_due(with_prelude(lua::sla_due)),
      metrics_live(with_prelude(lua::metrics_live)), report_facts(with_prelude(lua::report_facts)),
      count(with_prelude(lua::count)), visitor_save(with_prelude(lua::visitor_save)),
      outcome(with_prelude(lua::outcome)) {}

std::vector<store::Script const*> Scripts::all() const {
  return {&start, &send, &history, &access, &snapshot, &offer, &accept, &decline, &expire_offers, &resolve,
          &requeue, &assign, &presence, &reap_procs, &grace_due, &grace_done, &agent_status, &csat, &positions,
          &note, &read, &followup_create, &followup_update, &followup_finish, &followup_fire, &ticket_create,
          &ticket_update, &ticket_comment, &ticket_close_due, &sla_due, &metrics_live, &report_facts, &count,
          &visitor_save, &outcome};
}

// Called as the link comes up, before anything else is written on it: Redis
// executes these first, so no EVALSHA after them meets NOSCRIPT. That
// matters for pipelined requests: one that met NOSCRIPT would be sent again
// (EVAL) after later ones of the same client had already run, and a burst
// of messages would get seqs out of typing order.
void Db::load_scripts() {
  for (auto const* script : scripts_->all()) post({"SCRIPT", "LOAD", script->source()});
}

Db::Db(std::shared_ptr<store::Connection> conn, std::string prefix)
    : conn_(std::move(conn)), prefix_(std::move(prefix)), scripts_(std::make_unique<Scripts>()) {}
Db::~Db() = default;

Outcome to_outcome(std::error_code ec, store::Reply reply) {
  Outcome out;
  if (ec) {
    out.error = protocol::error::unavailable;
    out.message = "the message store is unavailable, try again";
    return out;
  }
  if (reply.is_error()) {
    // Script errors read "<code> <text>"; Redis may prefix "ERR " to them.
    std::string_view text = reply.str;
    if (text.rfind("ERR ", 0) == 0) text.remove_prefix(4);
    auto space = text.find(' ');
    auto code = code_from(text.substr(0, space));
    if (code) {
      out.error = *code;
      out.message = space == std::string_view::npos ? std::string(text) : std::string(text.substr(space + 1));
    } else {
      spdlog::error("store: unexpected error reply: {}", reply.str);
      out.error = protocol::error::internal;
      out.message = "internal error";
    }
    return out;
  }
  out.reply = std::move(reply);
  return out;
}

boost::asio::awaitable<Outcome> Db::run(store::Script const& script, std::vector<std::string> args) {
  args.insert(args.begin(), prefix_);
  static std::vector<std::string> const no_keys;
  auto started = std::chrono::steady_clock::now();
  auto [ec, reply] = co_await script.run(*conn_, no_keys, args);
  record(started);
  co_return to_outcome(ec, std::move(reply));
}

boost::asio::awaitable<std::vector<Outcome>> Db::run_all(store::Script const& script,
                                                         std::vector<std::vector<std::string>> calls) {
  namespace asio = boost::asio;
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

boost::asio::awaitable<Outcome> Db::exec(store::Args args) {
  auto started = std::chrono::steady_clock::now();
  auto [ec, reply] = co_await conn_->exec(std::move(args));
  record(started);
  co_return to_outcome(ec, std::move(reply));
}

void Db::record(std::chrono::steady_clock::time_point started) {
  if (!latency_) return;
  latency_->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

void Db::post(store::Args const& args) {
  conn_->exec_cb(args, [](std::error_code ec, store::Reply const& r) {
    if (ec) spdlog::debug("store: a background command failed: {}", ec.message());
    else if (r.is_error()) spdlog::warn("store: a background command failed: {}", r.str);
  });
}

std::string const& str_at(store::Reply const& r, std::size_t i) {
  static std::string const empty;
  if (!r.is_array() || i >= r.elements.size()) return empty;
  return r.elements[i].str;
}

long long int_at(store::Reply const& r, std::size_t i) {
  if (!r.is_array() || i >= r.elements.size()) return 0;
  auto const& e = r.elements[i];
  if (e.kind == store::Reply::Kind::integer) return e.integer;
  try {
    return e.str.empty() ? 0 : std::stoll(e.str);
  } catch (std::exception const&) {
    return 0;
  }
}

std::int64_t to_int(std::string_view s) {
  std::int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::string_view field(store::Reply const& flat, std::string_view name) {
  for (std::size_t i = 0; i + 1 < flat.elements.size(); i += 2)
    if (flat.elements[i].str == name) return flat.elements[i + 1].str;
  return {};
}

}  // namespace exceed::app
