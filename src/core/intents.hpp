// What a message is doing, as far as service goes: giving up ("never mind,
// I'll buy it elsewhere"), saying it is still broken ("that didn't help"),
// complaining of having to repeat, confirming it works; and on the agent's
// side, giving more than was asked ("I've also ...", "no charge"). Cues are
// short word patterns from config/assessment.toml ([intents]; no built-in
// lists), matched on tokens (so punctuation, case and apostrophes do not
// matter). Asking again
// in other words is found by similarity, not by a cue.
#pragma once

#include "core/language.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::core {

// One pattern: words separated by spaces, where
//   `*`        stands for up to four words ("buy * elsewhere"),
//   `word*`    for any word starting with "word" ("cancel*"),
//   `a|b`      for either word ("shop|buy").
class Cue {
 public:
  explicit Cue(std::string_view pattern);
  // The first match in tokens: [from, to) token indices.
  std::optional<std::pair<std::size_t, std::size_t>> find(std::vector<Token> const& tokens) const;
  std::string const& pattern() const noexcept { return pattern_; }

 private:
  struct Slot {
    std::vector<std::string> alternatives;  // empty: the gap `*`
    bool prefix = false;
  };
  bool match_at(std::vector<Token> const& tokens, std::size_t slot, std::size_t pos, std::size_t& end) const;
  std::string pattern_;
  std::vector<Slot> slots_;
};

// A named list of cues; `find` returns the words of the message that matched
// (as written), for quoting as evidence.
struct CueList {
  std::vector<Cue> cues;
  void set(std::vector<std::string> const& patterns);
  std::optional<std::string> find(std::string_view text, std::vector<Token> const& tokens) const;
};

struct IntentCues {
  CueList give_up;           // the customer stops trying or leaves
  CueList still_broken;      // the answer did not work
  CueList repeat_complaint;  // "third person I'm explaining this to"
  CueList works_now;         // the customer confirms it works
  CueList agent_beyond;      // the agent gives or anticipates more than was asked
  CueList agent_refusal;     // the agent cannot give what was asked
};

// How alike two questions are, 0 .. 1: the share of the shorter one's
// content words (stop words dropped, endings trimmed) that the other has
// too. "when will my refund for the boots arrive" and "I'm asking when the
// refund for my boots will actually arrive" are alike; "thanks" and
// "thanks" have too few words to tell. Returns 0 when either side has fewer
// than `min_words` content words.
double similarity(std::string_view a, std::string_view b, std::size_t min_words = 3);

// The content words of a message (stop words dropped): "hi" has none,
// "my parcel never arrived" three.
std::size_t content_word_count(std::string_view text);

}  // namespace exceed::core
