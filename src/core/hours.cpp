#include "core/hours.hpp"

#include <algorithm>
#include <cstdio>

namespace exceed::core {
namespace {

std::int64_t be(std::string_view b, std::size_t pos, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(b[pos + i]);
  if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  return static_cast<std::int64_t>(v);
}

// (civil_from_days, Howard Hinnant) days since 1970-01-01 -> y, m, d.
void civil_from_days(std::int64_t z, int& y, int& m, int& d) {
  z += 719468;
  std::int64_t const era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned const doe = static_cast<unsigned>(z - era * 146097);
  unsigned const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned const mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe + era * 400 + (m <= 2));
}

int weekday_index(std::string_view s) {
  static constexpr std::string_view names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  for (int i = 0; i < 7; ++i)
    if (names[i] == s) return i;
  return -1;
}

bool parse_clock(std::string_view s, int& minutes) {
  if (s.size() != 5 || s[2] != ':') return false;
  for (std::size_t i : {0u, 1u, 3u, 4u})
    if (s[i] < '0' || s[i] > '9') return false;
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m != 0)) return false;
  minutes = h * 60 + m;
  return true;
}

}  // namespace

std::optional<TimeZone> TimeZone::from_tzif(std::string_view b) {
  auto parse_block = [&](std::size_t pos, int time_size, TimeZone& tz, std::size_t& end) -> bool {
    if (b.size() < pos + 44 || b.substr(pos, 4) != "TZif") return false;
    auto isutcnt = be(b, pos + 20, 4), isstdcnt = be(b, pos + 24, 4), leapcnt = be(b, pos + 28, 4);
    auto timecnt = be(b, pos + 32, 4), typecnt = be(b, pos + 36, 4), charcnt = be(b, pos + 40, 4);
    if (timecnt < 0 || typecnt <= 0 || typecnt > 256 || timecnt > 100000) return false;
    std::size_t p = pos + 44;
    std::size_t need = static_cast<std::size_t>(timecnt * time_size + timecnt + typecnt * 6 + charcnt +
                                                leapcnt * (time_size + 4) + isstdcnt + isutcnt);
    if (b.size() < p + need) return false;
    std::vector<std::int64_t> times(static_cast<std::size_t>(timecnt));
    for (auto& t : times) {
      t = time_size == 8 ? be(b, p, 8) : be(b, p, 4);
      p += static_cast<std::size_t>(time_size);
    }
    std::vector<std::uint8_t> idx(static_cast<std::size_t>(timecnt));
    for (auto& i : idx) i = static_cast<std::uint8_t>(b[p++]);
    std::vector<std::int32_t> type_offsets(static_cast<std::size_t>(typecnt));
    std::vector<bool> type_dst(static_cast<std::size_t>(typecnt));
    for (std::size_t i = 0; i < type_offsets.size(); ++i) {
      type_offsets[i] = static_cast<std::int32_t>(be(b, p, 4));
      type_dst[i] = b[p + 4] != 0;
      p += 6;
    }
    for (auto i : idx)
      if (i >= type_offsets.size()) return false;
    tz.transitions_ = std::move(times);
    tz.offsets_.clear();
    for (auto i : idx) tz.offsets_.push_back(type_offsets[i]);
    // Before the first transition: the first standard-time type (RFC 8536 3.2).
    tz.initial_ = type_offsets[0];
    for (std::size_t i = 0; i < type_dst.size(); ++i)
      if (!type_dst[i]) {
        tz.initial_ = type_offsets[i];
        break;
      }
    end = p + static_cast<std::size_t>(charcnt + leapcnt * (time_size + 4) + isstdcnt + isutcnt);
    return true;
  };
  TimeZone tz;
  std::size_t end = 0;
  if (!parse_block(0, 4, tz, end)) return std::nullopt;
  // Version 2+ files repeat the data with 64-bit times: prefer those.
  if (b.size() > 4 && b[4] >= '2') {
    TimeZone tz64;
    std::size_t end64 = 0;
    if (parse_block(end, 8, tz64, end64)) return tz64;
  }
  return tz;
}

std::int32_t TimeZone::offset_at(Millis at) const {
  std::int64_t s = at >= 0 ? at / 1000 : (at - 999) / 1000;
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), s);
  if (it == transitions_.begin()) return initial_;
  return offsets_[static_cast<std::size_t>(it - transitions_.begin() - 1)];
}

bool BusinessHours::add_rule(std::string_view rule, std::string* why) {
  auto fail = [why, rule](std::string text) {
    if (why) *why = text + ": '" + std::string(rule) + "'";
    return false;
  };
  auto space = rule.find(' ');
  if (space == std::string_view::npos) return fail("expected 'days hh:mm-hh:mm'");
  auto days = rule.substr(0, space);
  auto when = rule.substr(space + 1);
  int first, last;
  if (auto dash = days.find('-'); dash != std::string_view::npos) {
    first = weekday_index(days.substr(0, dash));
    last = weekday_index(days.substr(dash + 1));
  } else {
    first = last = weekday_index(days);
  }
  if (first < 0 || last < 0) return fail("unknown day (use mon, tue, wed, thu, fri, sat, sun)");
  if (when == "closed") return true;
  auto dash = when.find('-');
  int open, close;
  if (dash == std::string_view::npos || !parse_clock(when.substr(0, dash), open) ||
      !parse_clock(when.substr(dash + 1), close) || close <= open)
    return fail("expected opening hours as hh:mm-hh:mm, closing after opening");
  for (int d = first;; d = (d + 1) % 7) {
    week[static_cast<std::size_t>(d)].push_back({open, close});
    if (d == last) break;
  }
  return true;
}

bool BusinessHours::empty() const noexcept {
  return std::all_of(week.begin(), week.end(), [](auto const& d) { return d.empty(); });
}

std::string LocalTime::date() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

LocalTime local_time(Millis at, TimeZone const& tz) {
  std::int64_t s = (at >= 0 ? at / 1000 : (at - 999) / 1000) + tz.offset_at(at);
  std::int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
  LocalTime lt{};
  civil_from_days(days, lt.year, lt.month, lt.day);
  lt.weekday = static_cast<int>(((days % 7) + 7 + 3) % 7);  // 1970-01-01 was a Thursday
  lt.minute_of_day = static_cast<int>((s - days * 86400) / 60);
  lt.second = static_cast<int>((s - days * 86400) % 60);
  return lt;
}

bool is_open(BusinessHours const& hours, TimeZone const& tz, Millis at) {
  if (hours.empty()) return true;
  auto lt = local_time(at, tz);
  if (std::find(hours.days_off.begin(), hours.days_off.end(), lt.date()) != hours.days_off.end()) return false;
  for (auto const& span : hours.week[static_cast<std::size_t>(lt.weekday)])
    if (lt.minute_of_day >= span.open_min && lt.minute_of_day < span.close_min) return true;
  return false;
}

std::optional<Millis> next_opening(BusinessHours const& hours, TimeZone const& tz, Millis at) {
  if (is_open(hours, tz, at)) return at;
  // Step minute by minute to the next minute boundary, then by minutes:
  // at most 14 days = 20160 steps, cheap and exact across DST changes.
  Millis t = at - (at % 60'000) + 60'000;
  for (int i = 0; i < 14 * 24 * 60; ++i, t += 60'000)
    if (is_open(hours, tz, t)) return t;
  return std::nullopt;
}

}  // namespace exceed::core
