// Why the domain refuses a step: the rules' answers, before any wire or
// store spells them. protocol/ maps each to its error code and HTTP status;
// the store's scripts name them in their error replies ("conflict ...").
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace exceed::core {

enum class Refusal : std::uint8_t {
  bad_request,   // the request itself is wrong (an unknown team, a bad value)
  unauthorized,  // who is asking cannot be established
  forbidden,     // the asker may not do this (not their conversation, wrong role)
  not_found,     // what it names does not exist
  conflict,      // the state does not allow it now (resolved, offer gone, full)
  rate_limited,  // too much, too fast
  too_large,     // over a size limit
};

std::string_view to_string(Refusal r) noexcept;
std::optional<Refusal> parse_refusal(std::string_view s) noexcept;

}  // namespace exceed::core
