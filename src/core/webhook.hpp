// The rules of webhook delivery, sans-io: which events a subscription may
// ask for, when a failed delivery is tried again, when a receiver that keeps
// failing is given up on, and what is signed. The app does the HTTP and the
// HMAC; the store keeps the outbox; the times are passed in.
#pragma once

#include "core/domain.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::core::webhook {

// The event types a subscription can name ("*": all of them).
std::vector<std::string_view> const& event_types();
bool known_event_type(std::string_view type) noexcept;

// Does a subscription to `subscribed` (event types, or "*") want `type`?
bool wants(std::vector<std::string> const& subscribed, std::string_view type) noexcept;

struct Backoff {
  Millis first = 1'000;          // the wait after the first failure
  Millis max = 3'600'000;        // never longer than this between tries
  double jitter = 0.2;           // +- this share, so receivers are not hit in step
};

// How long to wait after the `failures`-th consecutive failure (1, 2, ...):
// first, doubled each time, capped at max; `spread` in [0, 1) picks the
// point in the jitter band (0.5: none), so tests pass a fixed one.
Millis retry_delay(Backoff const& b, int failures, double spread) noexcept;

// A receiver failing since `failing_since` (no delivery succeeded in
// between) is disabled once that is `disable_after` old.
bool give_up(Millis failing_since, Millis now, Millis disable_after) noexcept;

// What the signature covers: "<unix seconds>.<body>". The signature header
// is "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, signed_text)>"; the
// seconds are those of the attempt (each try is signed anew), so a receiver
// refuses any signature older than its tolerance (replay protection).
std::string signed_text(std::int64_t unix_seconds, std::string_view body);
std::string signature_header(std::int64_t unix_seconds, std::string_view hex_mac);

struct SignatureParts {
  std::int64_t unix_seconds = 0;
  std::vector<std::string> macs;  // every v1= (a receiver may see two during a secret's rotation)
};
std::optional<SignatureParts> parse_signature_header(std::string_view header);

// A receiver's check of the timestamp: within `tolerance_s` of its clock.
bool fresh(std::int64_t unix_seconds, Millis now, std::int64_t tolerance_s = 300) noexcept;

// Why a disabled subscription was disabled, in words for its owner.
std::string disabled_reason(Millis failing_since, Millis now, std::string_view last_error);

}  // namespace exceed::core::webhook
