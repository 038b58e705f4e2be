// The error codes of the wire contract (PROTOCOL.md), with their HTTP
// statuses, as an error_code category so they travel as values.
#pragma once

#include "core/refusal.hpp"

#include <cstdint>
#include <string_view>
#include <system_error>

namespace exceed::protocol {

enum class error {
  bad_request = 1,
  unauthorized,
  forbidden,
  not_found,
  conflict,
  rate_limited,
  too_large,
  unavailable,
  internal,
};

std::error_category const& category() noexcept;
inline std::error_code make_error_code(error e) noexcept { return {static_cast<int>(e), category()}; }

std::string_view code_name(error e) noexcept;  // "bad_request", ...
error code_of(core::Refusal r) noexcept;       // the domain's refusal as the contract spells it
unsigned http_status(error e) noexcept;        // 400, 401, ...
inline constexpr int error_count = 9;          // codes are 1..error_count

// How many answers of each code this process gave (WebSocket error frames
// and HTTP error bodies), for exceed_errors_total. encode_error() counts.
void count_error(error e) noexcept;
std::uint64_t errors_counted(error e) noexcept;

// WebSocket close codes of the contract.
namespace close_code {
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t protocol_violation = 4400;
inline constexpr std::uint16_t unauthorized = 4401;
inline constexpr std::uint16_t flood = 4429;
}  // namespace close_code

}  // namespace exceed::protocol

template <>
struct std::is_error_code_enum<exceed::protocol::error> : std::true_type {};
