// The service assessment: from the customer's point of view, were their
// needs exceeded, only met, or not met (below)? The customer's own verdict
// outranks everything ("in the end there is no truth, only perception");
// then facts a person gave (did it solve it? what the agent did beyond the
// ask); then inference from everything the customer wrote (core/voice.hpp),
// the timing on a slope, transfers and follow-ups. Hard failures (the
// customer dissatisfied, giving up, not solved, a first reply far past its
// target, two transfers) cap the level: routine points never lift such a
// chat to `met`. Every judgement comes with its reasons, quoting the
// customer's words where they are the evidence, a confidence (low when
// there is nothing to go on), and for `met` what would have exceeded.
// Pure: no clock, no I/O.
#pragma once

#include "core/domain.hpp"
#include "core/response_clock.hpp"
#include "core/voice.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace exceed::core {

enum class Level : std::uint8_t { below, met, exceeded };
std::string_view to_string(Level l) noexcept;
std::optional<Level> parse_level(std::string_view s) noexcept;

// How much the judgement has to go on: `high` when the customer answered
// (verdict or rating), `medium` when they said something after the answer
// (words, a comment, the "did this solve it?" tap), `low` when nothing.
enum class Confidence : std::uint8_t { low, medium, high };
std::string_view to_string(Confidence c) noexcept;

// What the agent recorded about the outcome.
enum class Outcome : std::uint8_t { solved, workaround, not_solved };
std::string_view to_string(Outcome o) noexcept;
std::optional<Outcome> parse_outcome(std::string_view s) noexcept;

// What the customer lived through in one conversation.
struct Signals {
  std::optional<Millis> first_response;      // ms
  Millis first_response_target = 0;          // the SLA target (0: none)
  int next_response_breaches = 0;
  std::optional<Millis> queue_wait;          // ms
  int customer_messages_before_reply = 0;    // messages sent before anyone answered
  int repeated_questions = 0;                // the same question asked again, word for word
  int transfers = 0;
  int agents_seen = 0;
  bool reopened = false;                     // reopened within the configured days
  bool followup_done = false;                // a proactive follow-up done after resolution
  Voice voice;                               // what the customer (and the agent) wrote: read_voice
  // Facts a person gave.
  std::optional<bool> customer_solved;       // the customer's "did this solve it?" tap
  std::optional<Outcome> outcome;            // the agent's record
  std::string went_beyond;                   // the agent's line of what they gave beyond the ask
  // The customer's CSAT answer, any part of it.
  std::optional<int> rating;                 // 1..5
  std::optional<Level> expectation;          // their own verdict
};

// Weights (points), slopes and thresholds, from config/assessment.toml.
// Defaults equal what that file says. A correct, timely chat with polite
// thanks is `met`; exceeding takes delight in the customer's words, a 5,
// something given beyond the ask, or the customer's own "exceeded".
struct AssessmentRules {
  // Speed on a slope: full points up to fast_first_response_ratio of the
  // target, none at the target, the breach weight at far_first_response_ratio,
  // and from there a hard failure.
  double fast_first_response_ratio = 0.5;
  double far_first_response_ratio = 3;
  double w_fast_first_response = 0.5;
  double w_first_response_breach = -2;
  double w_next_response_breach = -1.5;    // each later answer past its target
  double w_no_next_response_breach = 0.25;
  double w_one_contact = 0.25;
  double w_reopened = -3;                  // and a hard failure
  double w_no_transfer = 0.25;
  double w_transfer = -1;                  // each; hard_failure_transfers or more is a hard failure
  int hard_failure_transfers = 2;
  Millis short_queue_wait = 60'000;        // a slope from short (w_short) to long (w_long)
  Millis long_queue_wait = 300'000;
  double w_short_queue_wait = 0.25;
  double w_long_queue_wait = -1.5;
  int messages_before_reply_limit = 3;     // at or above: the customer had to push
  double w_unanswered_messages = -1;
  double w_repeated_question = -1;         // each time asked again (word for word or reworded)
  double w_repeat_complaint = -1.5;        // "third person I'm explaining this to"
  double w_many_agents = 0;                // more than one agent seen (transfers already count)
  double w_followup_done = 1.5;
  double w_went_beyond = 2.5;              // the agent recorded what they gave beyond the ask
  double w_beyond_in_chat = 2;             // the agent's words give or anticipate more than was asked
  double w_customer_solved = 0.5;          // the customer tapped "yes, solved"
  double w_outcome_solved = 0.5;
  double w_outcome_workaround = -0.5;      // and the level cannot pass `met`
  double w_works_now = 0.5;                // the customer says it works
  double w_agent_refusal = -1.5;           // the agent could not give what was asked, and the close is not warm
  double w_closing_tone = 2.5;             // times the closing words' tone (-1 .. +1)
  double w_mood = 1;                       // times the mood over the chat (-1 .. +1)
  double delight_sum = 2.2;                // closing words at least this strong (courtesies aside) are delight ...
  double w_delight = 1.5;                  // ... and add this
  double w_praise = 2;                     // warm words aimed at the agent
  double w_recovered = 1;                  // a rough start that ended warm
  double w_frustration = -1;               // a cold message on the way (at or below frustration_at)
  double frustration_at = -0.4;
  double dissatisfied_at = -0.25;          // closing words this cold are a hard failure
  double recovered_cap_at = 0.5;           // closing words this warm lift a recoverable failure's cap to `met`
  double w_rating_5 = 3;
  double w_rating_4 = 0;                   // 3 and 4 cap the level at `met`
  double w_rating_3 = -1.5;
  double w_rating_1_2 = -4;                // and a hard failure
  double exceeded_at = 4;   // score at or above: exceeded
  double below_under = 0;   // score below: below (else met)
  VoiceRules voice;
  // The sentiment lexicon and cues (config [language] and [intents]);
  // shared, loaded once at start. Null: no language reading.
  std::shared_ptr<Language const> language;
};

struct Reason {
  std::string code;      // e.g. "fast_first_response"
  double value = 0;      // the signal's value (seconds, counts, rating, tone, ...)
  double points = 0;     // what it added to the score
  std::string text;      // a sentence a supervisor understands, quoting the evidence
  std::string evidence;  // the words it rests on, as written (empty when none)
};

struct Assessment {
  Level level = Level::met;
  double score = 0;
  bool by_customer = false;                 // the customer's own verdict decided
  Confidence confidence = Confidence::low;
  std::vector<Reason> reasons;              // what decided, most weighty first
  std::vector<Reason> hard_failures;        // what capped the level (also among the reasons)
  std::vector<Reason> would_have_exceeded;  // for `met`: the signals that fell short, and by how much
  // Nothing to go on: ask the customer ("am I exceeding your needs?").
  bool check_in = false;
};

Assessment assess(Signals const& s, AssessmentRules const& rules);

// One resolved conversation as stored: what the server and the corpus
// evaluation (exceed assess-eval) both turn into Signals, the same way.
struct ChatRecord {
  Millis created_at = 0;
  std::optional<Millis> assigned_at;
  Millis resolved_at = 0;
  std::vector<ChatLine> lines;  // public messages, in order
  int transfers = 0;            // as recorded; at least the agents seen less one
  std::optional<int> rating;
  std::optional<Level> expectation;
  std::string comment;
  std::optional<bool> customer_solved;
  std::optional<Outcome> outcome;
  std::string went_beyond;
  bool followup_done = false;
  bool reopened = false;
};

// The response clock's events of a chat record, in time order.
std::vector<ClockEvent> clock_events(ChatRecord const& c);

// The signals of a chat record, given its measured times and SLA policy;
// the customer's words are read with rules.language (none when null).
Signals observe(ChatRecord const& c, ResponseTimes const& times, SlaPolicy const& policy, AssessmentRules const& rules);

// "4m12s", "45s", "1h03m": durations as a supervisor reads them.
std::string human_duration(Millis ms);

}  // namespace exceed::core
