// Reading the customer's words: how warm or cold one message is, read the
// way VADER reads text (Hutto & Gilbert 2014), on a sentiment lexicon that
// is loaded as data at start (the VADER lexicon, or AFINN-165, plus emoji
// valences and a small domain overlay from config/assessment.toml). Beyond
// the lexicon the reading handles negation ("not amazing"), intensifiers
// ("so", "really", capitals, "!!", elongated "sooo"), contrast ("thanks,
// but ..."), emoji and emoticons, and the common shapes of sarcasm
// ("Brilliant service, really.", "thanks for nothing", scare quotes, "/s").
// Pure: text in, a reading out; the lexicon's text is handed in by the
// caller, which did the file I/O.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace exceed::core {

// One token of a message: a word (lowercase, apostrophes dropped:
// "don't" -> "dont"), an emoji, or an emoticon (":)", "<3").
struct Token {
  std::string text;
  std::size_t from = 0, to = 0;  // where it stands in the message (bytes), to quote it as written
  bool all_caps = false;   // written in capitals ("AMAZING"), two letters or more
  bool elongated = false;  // a letter repeated three times or more ("sooo")
  bool quoted = false;     // inside quotes: "amazing" service
  bool ellipsis = false;   // followed by "..." or "…"
  bool comma_after = false;
  bool sentence_end = false;  // followed by . ! ? or the end of the message
  bool exclaimed = false;     // followed by !
  bool contraction = false;   // written with an apostrophe ("I'll", "you're"): grammar, never sentiment
};

// Splits a message into tokens (see Token). UTF-8 in; emoji are one token
// each even when written together ("😍😍" -> two tokens).
std::vector<Token> tokenize(std::string_view text);

// "Don't", "DONT" -> "dont": how words and lexicon entries are compared.
std::string normalize_word(std::string_view word);

// Valences on VADER's scale (-4 .. +4) for words, emoticons, emoji and
// multi-word phrases ("took forever"). Later additions override earlier
// ones, so the domain overlay goes last.
class Lexicon {
 public:
  // vader_lexicon.txt: "token<TAB>mean<TAB>sd<TAB>[ratings]" per line.
  // Returns the number of entries read.
  std::size_t add_vader(std::string_view text);
  // AFINN-165 as shipped (a JS/JSON object of `word: -5..5`), scaled to
  // VADER's range.
  std::size_t add_afinn(std::string_view text);
  // emoji-emotion as shipped (records with `emoji: '😀'` and
  // `polarity: -5..5`), scaled to VADER's range.
  std::size_t add_emoji(std::string_view text);
  // One word, emoticon, emoji or phrase (words separated by spaces).
  void add(std::string_view term, double valence);

  // The valence of a single token, or nullptr when it has none.
  double const* word(std::string const& token) const;
  // Phrases starting at tokens[i]: the longest that matches, its length
  // in tokens (0: none) and valence.
  std::pair<std::size_t, double> phrase_at(std::vector<Token> const& tokens, std::size_t i) const;

  std::size_t size() const noexcept { return words_.size() + phrase_count_; }

  // The routine courtesies of a support chat ("thanks", "great", "perfect",
  // "👍"): said plainly (no intensifier, capitals or elongation) they count
  // in the tone, but not as delight (Tone::beyond_courtesy).
  void add_courtesy(std::string_view word);
  bool is_courtesy(std::string const& token) const { return courtesy_.count(token) > 0; }

 private:
  std::unordered_set<std::string> courtesy_;
  std::unordered_map<std::string, double> words_;
  // First word -> the phrases starting with it (their words, valence).
  std::unordered_map<std::string, std::vector<std::pair<std::vector<std::string>, double>>> phrases_;
  std::size_t phrase_count_ = 0;
};

// How one message reads.
struct Tone {
  double sum = 0;        // the valences added up, after every modifier
  double compound = 0;   // the sum normalised to -1 .. +1 (VADER's compound)
  double positive = 0;   // the share of the positive and negative sums
  double negative = 0;
  double beyond_courtesy = 0;  // the sum less plainly said courtesies: how much warmth is more than politeness
  bool sarcastic = false;  // praise in a shape that means the opposite
  std::string warmest;     // the words that carried the most positive weight ("" if none)
  std::string coldest;     // the words that carried the most negative weight
};

Tone read_tone(std::string_view text, Lexicon const& lexicon);

// VADER's normalisation of a sum of valences to -1 .. +1.
double normalize_score(double sum, double alpha = 15.0);

}  // namespace exceed::core
