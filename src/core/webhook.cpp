#include "core/webhook.hpp"

#include "core/hours.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace exceed::core::webhook {
namespace {

// "2026-11-23T10:00:00Z" (UTC, whole seconds).
std::string utc_text(Millis t) {
  auto u = local_time(t, TimeZone::utc());
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", u.year, u.month, u.day, u.minute_of_day / 60,
                u.minute_of_day % 60, u.second);
  return buf;
}

}  // namespace

std::vector<std::string_view> const& event_types() {
  static std::vector<std::string_view> const types{
      "conversation.started", "conversation.assigned", "conversation.resolved", "message",
      "ticket.created",       "ticket.updated",        "ticket.assigned",       "ticket.commented",
      "assessment",           "csat",                  "followup.due"};
  return types;
}

bool known_event_type(std::string_view type) noexcept {
  auto const& all = event_types();
  return std::find(all.begin(), all.end(), type) != all.end();
}

bool wants(std::vector<std::string> const& subscribed, std::string_view type) noexcept {
  return std::any_of(subscribed.begin(), subscribed.end(), [&](auto const& s) { return s == "*" || s == type; });
}

Millis retry_delay(Backoff const& b, int failures, double spread) noexcept {
  if (failures < 1) failures = 1;
  double base = static_cast<double>(b.first);
  double cap = static_cast<double>(b.max);
  // 2^(failures-1) without overflow: past 62 doublings it is the cap anyway.
  double delay = failures > 62 ? cap : std::min(cap, base * std::ldexp(1.0, failures - 1));
  spread = std::clamp(spread, 0.0, 1.0);
  delay *= 1.0 + b.jitter * (2.0 * spread - 1.0);
  return std::max<Millis>(1, static_cast<Millis>(std::min(delay, cap)));
}

bool give_up(Millis failing_since, Millis now, Millis disable_after) noexcept {
  return failing_since > 0 && now - failing_since >= disable_after;
}

std::string signed_text(std::int64_t unix_seconds, std::string_view body) {
  std::string out = std::to_string(unix_seconds);
  out += '.';
  out += body;
  return out;
}

std::string signature_header(std::int64_t unix_seconds, std::string_view hex_mac) {
  return "t=" + std::to_string(unix_seconds) + ",v1=" + std::string(hex_mac);
}

std::optional<SignatureParts> parse_signature_header(std::string_view header) {
  SignatureParts out;
  bool have_t = false;
  while (!header.empty()) {
    auto comma = header.find(',');
    auto item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    auto key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "t") {
      if (value.empty() || value.size() > 12) return std::nullopt;
      std::int64_t t = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        t = t * 10 + (c - '0');
      }
      out.unix_seconds = t;
      have_t = true;
    } else if (key == "v1") {
      if (value.size() != 64) return std::nullopt;
      out.macs.emplace_back(value);
    }  // other schemes: ignored, as receivers of a newer sender would
  }
  if (!have_t || out.macs.empty()) return std::nullopt;
  return out;
}

bool fresh(std::int64_t unix_seconds, Millis now, std::int64_t tolerance_s) noexcept {
  auto diff = now / 1000 - unix_seconds;
  return diff <= tolerance_s && diff >= -tolerance_s;
}

std::string disabled_reason(Millis failing_since, Millis now, std::string_view last_error) {
  auto hours = (now - failing_since) / 3'600'000;
  std::string out = "every delivery failed since " + utc_text(failing_since) + " (" + std::to_string(hours) +
                    " h)";
  if (!last_error.empty()) out += "; last error: " + std::string(last_error);
  return out;
}

}  // namespace exceed::core::webhook
