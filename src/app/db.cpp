#include "app/db.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

namespace exceed::app {

Db::Db(std::shared_ptr<store::Connection> conn, std::string prefix) : store_(std::move(conn), std::move(prefix)) {}
Db::~Db() = default;

Outcome to_outcome(store::Result<store::Reply> r) {
  if (!r) return to_outcome(r.failure());
  Outcome out;
  out.reply = std::move(*r);
  return out;
}

Outcome to_outcome(store::Failure const& f) {
  Outcome out;
  switch (f.kind) {
    case store::Failure::Kind::refused:
      out.error = protocol::code_of(f.refusal);
      out.message = f.message;
      break;
    case store::Failure::Kind::unavailable:
      out.error = protocol::error::unavailable;
      out.message = f.message;
      break;
    case store::Failure::Kind::protocol:
      spdlog::error("store: {}", f.message);
      out.error = protocol::error::internal;
      out.message = "internal error";
      break;
  }
  return out;
}

store::Failure to_failure(Outcome const& o) {
  using protocol::error;
  switch (o.error.value_or(error::internal)) {
    case error::bad_request: return store::Failure::refused(core::Refusal::bad_request, o.message);
    case error::unauthorized: return store::Failure::refused(core::Refusal::unauthorized, o.message);
    case error::forbidden: return store::Failure::refused(core::Refusal::forbidden, o.message);
    case error::not_found: return store::Failure::refused(core::Refusal::not_found, o.message);
    case error::conflict: return store::Failure::refused(core::Refusal::conflict, o.message);
    case error::rate_limited: return store::Failure::refused(core::Refusal::rate_limited, o.message);
    case error::too_large: return store::Failure::refused(core::Refusal::too_large, o.message);
    case error::unavailable: return store::Failure::unavailable(o.message);
    case error::internal: break;
  }
  return store::Failure::protocol(o.message);
}

boost::asio::awaitable<Outcome> Db::run(store::Script const& script, std::vector<std::string> args) {
  co_return to_outcome(co_await store_.run(script, std::move(args)));
}

boost::asio::awaitable<Outcome> Db::exec(store::Args args) { co_return to_outcome(co_await store_.exec(std::move(args))); }

boost::asio::awaitable<std::vector<Outcome>> Db::run_all(store::Script const& script,
                                                         std::vector<std::vector<std::string>> calls) {
  auto results = co_await store_.run_all(script, std::move(calls));
  std::vector<Outcome> out;
  out.reserve(results.size());
  for (auto& r : results) out.push_back(to_outcome(std::move(r)));
  co_return out;
}

void Db::time_commands(core::prom::Histogram* h) {
  if (!h) return;
  store_.on_round_trip([h](std::chrono::steady_clock::duration d) { h->observe(std::chrono::duration<double>(d).count()); });
}

std::int64_t to_int(std::string_view s) {
  std::int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace exceed::app
