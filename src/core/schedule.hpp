// Times given by people: RFC 3339 timestamps, and when a due time is
// acceptable. Pure: "now" is always passed in.
#pragma once

#include "core/domain.hpp"

#include <optional>
#include <string_view>

namespace exceed::core {

// "2026-11-23T10:00:00Z", "2026-11-23T11:00:00.250+01:00", ... -> ms since
// the epoch; nullopt for anything else (including impossible dates).
std::optional<Millis> parse_rfc3339(std::string_view text);

enum class DueProblem { none, in_the_past, too_far };

// A due time may lie a little in the past (clocks differ: `skew`), then it
// fires at once; further back is a mistake, as is more than `horizon` ahead.
DueProblem check_due(Millis due, Millis now, Millis skew = 60'000, Millis horizon = 3 * 366LL * 86'400'000);

}  // namespace exceed::core
