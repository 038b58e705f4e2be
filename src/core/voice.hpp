// The customer's voice in one conversation: every message they wrote read
// for tone (later ones weighing more), how the chat ended against how it
// went (a rough start that ends warm is a recovery), and what they did
// (gave up, said it still fails, asked again in other words, praised the
// agent); with what the agent's own words show (giving more than was
// asked, or not being able to give it). Each finding keeps the words it
// came from, so a reason can quote them. Pure.
#pragma once

#include "core/domain.hpp"
#include "core/intents.hpp"
#include "core/language.hpp"

#include <optional>
#include <string>
#include <vector>

namespace exceed::core {

// The sentiment lexicon and intent cues, loaded once at start.
struct Language {
  Lexicon lexicon;
  IntentCues cues;
};

// One public message of a chat, in order.
struct ChatLine {
  bool from_customer = true;
  std::string author;  // the agent's id; empty for the customer
  Millis at = 0;
  std::string text;
};

struct VoiceRules {
  double recency_decay = 0.6;       // each earlier message weighs this much of the next one
  double rephrase_similarity = 0.5; // at or above: the same question in other words
  double recovery_low = -0.3;       // a message this cold early on ...
  double recovery_high = 0.3;       // ... and closing words this warm: a recovery
};

struct Voice {
  int messages = 0;                  // the customer's messages
  bool spoke_after_answer = false;   // wrote after the first agent reply (or left a comment)
  // Tone, VADER's compound (-1 .. +1).
  bool has_closing = false;          // closing words exist: after an agent reply, or a comment
  double closing = 0;                // the customer's last turn (their comment when they left one)
  double closing_sum = 0;            // the same, unnormalised: how strong
  double closing_warmth = 0;         // the closing sum less plain courtesies ("great, thanks"): delight
  std::string closing_words;         // the words that carried it, as written
  double mood = 0;                   // every message, the later ones weighing more
  double lowest = 0;                 // the coldest message before the last turn
  std::string lowest_words;
  bool recovered = false;            // cold before, warm at the end
  // What the customer did, with the words.
  std::optional<std::string> gave_up;
  std::optional<std::string> still_broken;    // and nothing said it works after
  std::optional<std::string> works_now;
  std::optional<std::string> repeat_complaint;
  std::optional<std::string> sarcasm;         // the message read against its grain
  std::optional<std::string> praise;          // warm words aimed at the agent
  int rephrased = 0;                          // asked again in other words after an answer
  std::string rephrased_words;
  // What the agent's words show.
  std::optional<std::string> agent_beyond;
  std::optional<std::string> agent_refusal;   // in the agent's last answer
};

// Reads the chat's public messages and the customer's CSAT comment (may be
// empty).
Voice read_voice(std::vector<ChatLine> const& lines, std::string const& comment, Language const& language,
                 VoiceRules const& rules = {});

}  // namespace exceed::core
