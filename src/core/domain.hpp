// The nouns of the support domain and their spellings on the wire and in
// the store. Pure: no I/O, no clock (times are passed in as Millis).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace exceed::core {

// Milliseconds since the Unix epoch; every "now" is passed in, never read.
using Millis = std::int64_t;

enum class Role : std::uint8_t { customer, agent, supervisor };
enum class AgentStatus : std::uint8_t { online, away, offline };
enum class Priority : std::uint8_t { low, normal, high, urgent };

// queued -> offered -> active -> resolved; offered -> queued on decline or
// expiry; active -> queued on transfer to a team or when the agent is gone
// past the grace period; active -> active on transfer to an agent. Any live
// status -> ticket when the chat is kept as a ticket (nobody online, after
// hours, or an agent turned it into one); ticket -> queued when the customer
// starts again while someone can take it. Only resolved is final.
enum class ConversationStatus : std::uint8_t { queued, offered, active, resolved, ticket };


std::string_view to_string(Role r) noexcept;
std::string_view to_string(AgentStatus s) noexcept;
std::string_view to_string(Priority p) noexcept;
std::string_view to_string(ConversationStatus s) noexcept;

std::optional<Role> parse_role(std::string_view s) noexcept;
std::optional<AgentStatus> parse_agent_status(std::string_view s) noexcept;
std::optional<Priority> parse_priority(std::string_view s) noexcept;
std::optional<ConversationStatus> parse_conversation_status(std::string_view s) noexcept;

// True while the customer is still being served: the customer's one open
// conversation is any that is not resolved (a ticket too).
constexpr bool is_open(ConversationStatus s) noexcept { return s != ConversationStatus::resolved; }
// Messages may be written to any conversation that is not resolved (in a
// ticket they are also replies on it).
constexpr bool takes_messages(ConversationStatus s) noexcept { return s != ConversationStatus::resolved; }
constexpr bool in_queue(ConversationStatus s) noexcept { return s == ConversationStatus::queued; }
// Queued, offered or active: the chat part is going on.
constexpr bool chat_is_live(ConversationStatus s) noexcept {
  return s == ConversationStatus::queued || s == ConversationStatus::offered || s == ConversationStatus::active;
}

// A token bucket: `rate` tokens a second up to `burst`. take() spends one
// token if there is one. Used per connection against floods.
class TokenBucket {
 public:
  TokenBucket(double rate_per_s, double burst, Millis now) noexcept
      : rate_(rate_per_s), burst_(burst), tokens_(burst), last_(now) {}
  bool take(Millis now) noexcept;

 private:
  double rate_;
  double burst_;
  double tokens_;
  Millis last_;
};

// Decides when a client that keeps sending over its rate is a flood: after
// `max_rejections` refused frames within `window`, the connection is closed.
class FloodGuard {
 public:
  FloodGuard(int max_rejections, Millis window) noexcept
      : max_(max_rejections), window_(window) {}
  // Records one refused frame; true when the sender must be disconnected.
  bool reject(Millis now) noexcept;

 private:
  int max_;
  Millis window_;
  int count_ = 0;
  Millis window_start_ = 0;
};

}  // namespace exceed::core
