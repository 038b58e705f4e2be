// Business hours of a team in its own time zone, and the time zone rules
// themselves (read from the system's TZif files by the app, parsed here).
// Pure: the instant to judge is passed in.
#pragma once

#include "core/domain.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::core {

// UTC offsets of one zone over time, from a TZif file (RFC 8536).
class TimeZone {
 public:
  static TimeZone utc() { return TimeZone{}; }
  // Parses TZif v1/v2/v3 bytes; nullopt when they are not TZif. Instants
  // after the last transition keep its offset (the POSIX footer rule is not
  // applied: Debian's files list transitions to 2037).
  static std::optional<TimeZone> from_tzif(std::string_view bytes);

  // Seconds east of UTC in force at `at`.
  std::int32_t offset_at(Millis at) const;

 private:
  std::vector<std::int64_t> transitions_;  // seconds since the epoch, ascending
  std::vector<std::int32_t> offsets_;      // offset from each transition on
  std::int32_t initial_ = 0;               // before the first transition
};

// Opening hours per weekday in minutes since local midnight, and whole days
// off ("2026-12-25"). Empty days are closed.
struct BusinessHours {
  struct Span {
    int open_min;   // inclusive
    int close_min;  // exclusive
  };
  std::array<std::vector<Span>, 7> week;  // 0 = Monday
  std::vector<std::string> days_off;      // YYYY-MM-DD, local dates

  // "mon-fri 09:00-17:00", "sat 10:00-14:00", "sun closed": adds to `week`;
  // false (with why) when the rule is not of that form.
  bool add_rule(std::string_view rule, std::string* why = nullptr);
  bool empty() const noexcept;
};

// A local calendar reading of an instant.
struct LocalTime {
  int year, month, day;  // 1-based month and day
  int weekday;           // 0 = Monday
  int minute_of_day;
  int second;            // of the minute
  std::string date() const;  // YYYY-MM-DD
};
LocalTime local_time(Millis at, TimeZone const& tz);

// Is the team open at `at`? Always true when no hours are set.
bool is_open(BusinessHours const& hours, TimeZone const& tz, Millis at);

// The next instant at or after `at` when the team opens (searched up to 14
// days ahead), for telling a customer when they will be answered.
std::optional<Millis> next_opening(BusinessHours const& hours, TimeZone const& tz, Millis at);

}  // namespace exceed::core
