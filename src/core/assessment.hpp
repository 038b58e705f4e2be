// The service assessment: from the customer's point of view, were their
// needs exceeded, only met, or not met (below)? The customer's own verdict
// outranks everything inferred ("in the end there is no truth, only
// perception"); without it, signals of the conversation add up to a score
// under configurable rules. Every judgement comes with its reasons, and a
// `met` one with what would have exceeded. Pure: no clock, no I/O.
#pragma once

#include "core/domain.hpp"

#include <optional>
#include <string>
#include <vector>

namespace exceed::core {

enum class Level : std::uint8_t { below, met, exceeded };
std::string_view to_string(Level l) noexcept;
std::optional<Level> parse_level(std::string_view s) noexcept;

// What the customer lived through in one conversation.
struct Signals {
  std::optional<Millis> first_response;      // ms
  Millis first_response_target = 0;          // the SLA target (0: none)
  int next_response_breaches = 0;
  std::optional<Millis> queue_wait;          // ms
  int customer_messages_before_reply = 0;    // messages sent before anyone answered
  int repeated_questions = 0;                // the same question asked again
  int transfers = 0;
  int agents_seen = 0;
  bool reopened = false;                     // reopened within the configured days
  bool followup_done = false;                // a proactive follow-up done after resolution
  std::string closing_words;                 // the customer's last message
  std::optional<int> rating;                 // CSAT 1..5
  std::optional<Level> expectation;          // the customer's own verdict
};

// Weights (points) and thresholds, from config/assessment.toml. The
// defaults make a correct, fast, one-contact chat "met": what customers
// expect anyway. Exceeding takes more: delight in their words, a 5, a
// proactive follow-up, or their own "exceeded".
struct AssessmentRules {
  double fast_first_response_ratio = 0.5;  // within this share of the target counts as fast
  double w_fast_first_response = 2;
  double w_first_response_breach = -2;
  double w_next_response_breach = -2;      // each
  double w_no_next_response_breach = 0.5;
  double w_one_contact = 0.5;
  double w_reopened = -3;
  double w_no_transfer = 0.5;
  double w_transfer = -1;                  // each
  Millis short_queue_wait = 60'000;
  Millis long_queue_wait = 300'000;
  double w_short_queue_wait = 0.5;
  double w_long_queue_wait = -2;
  int messages_before_reply_limit = 3;     // at or above: the customer had to push
  double w_unanswered_messages = -1;
  double w_repeated_question = -1;         // each
  double w_many_agents = -1;               // more than one agent seen
  double w_followup_done = 2;
  std::vector<std::string> delighted_phrases{"thank you so much", "amazing", "you're the best", "wonderful",
                                             "fantastic", "brilliant", "above and beyond", "perfect, thanks"};
  std::vector<std::string> flat_phrases{"ok", "okay", "whatever", "fine", "k", "i guess"};
  double w_delighted = 2;
  double w_flat = -1;
  double w_rating_5 = 3;
  double w_rating_3_4 = -1;
  double w_rating_1_2 = -4;
  double exceeded_at = 5;  // score at or above: exceeded
  double below_under = 0;  // score below: below (else met)
};

struct Reason {
  std::string code;   // e.g. "fast_first_response"
  double value = 0;   // the signal's value (seconds, counts, rating, ...)
  double points = 0;  // what it added to the score
  std::string text;   // a sentence a supervisor understands
};

struct Assessment {
  Level level = Level::met;
  double score = 0;
  bool by_customer = false;               // the customer's own verdict decided
  std::vector<Reason> reasons;            // what decided, most weighty first
  std::vector<Reason> would_have_exceeded;  // for `met`: the signals that fell short, and by how much
};

Assessment assess(Signals const& s, AssessmentRules const& rules);

// "4m12s", "45s", "1h03m": durations as a supervisor reads them.
std::string human_duration(Millis ms);

}  // namespace exceed::core
