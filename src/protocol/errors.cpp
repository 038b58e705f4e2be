#include "protocol/errors.hpp"

#include <array>
#include <atomic>
#include <string>

namespace exceed::protocol {
namespace {

struct Category final : std::error_category {
  char const* name() const noexcept override { return "exceed"; }
  std::string message(int ev) const override { return std::string(code_name(static_cast<error>(ev))); }
};

std::array<std::atomic<std::uint64_t>, error_count + 1> counted{};

}  // namespace

void count_error(error e) noexcept {
  auto i = static_cast<std::size_t>(e);
  if (i < counted.size()) counted[i].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t errors_counted(error e) noexcept {
  auto i = static_cast<std::size_t>(e);
  return i < counted.size() ? counted[i].load(std::memory_order_relaxed) : 0;
}

std::error_category const& category() noexcept {
  static Category const c;
  return c;
}

std::string_view code_name(error e) noexcept {
  switch (e) {
    case error::bad_request: return "bad_request";
    case error::unauthorized: return "unauthorized";
    case error::forbidden: return "forbidden";
    case error::not_found: return "not_found";
    case error::conflict: return "conflict";
    case error::rate_limited: return "rate_limited";
    case error::too_large: return "too_large";
    case error::unavailable: return "unavailable";
    case error::internal: return "internal";
  }
  return "internal";
}

error code_of(core::Refusal r) noexcept {
  switch (r) {
    case core::Refusal::bad_request: return error::bad_request;
    case core::Refusal::unauthorized: return error::unauthorized;
    case core::Refusal::forbidden: return error::forbidden;
    case core::Refusal::not_found: return error::not_found;
    case core::Refusal::conflict: return error::conflict;
    case core::Refusal::rate_limited: return error::rate_limited;
    case core::Refusal::too_large: return error::too_large;
  }
  return error::internal;
}

unsigned http_status(error e) noexcept {
  switch (e) {
    case error::bad_request: return 400;
    case error::unauthorized: return 401;
    case error::forbidden: return 403;
    case error::not_found: return 404;
    case error::conflict: return 409;
    case error::rate_limited: return 429;
    case error::too_large: return 413;
    case error::unavailable: return 503;
    case error::internal: return 500;
  }
  return 500;
}

}  // namespace exceed::protocol
