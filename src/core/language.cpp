#include "core/language.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_set>

namespace exceed::core {
namespace {

// ------------------------------------------------------------------ VADER's constants
// The algorithm's own, from vaderSentiment (MIT): the lexicon is data, these
// are how it is read.
constexpr double booster_up = 0.293;
constexpr double booster_down = -0.293;
constexpr double caps_boost = 0.733;
constexpr double negation_scalar = -0.74;
constexpr double elongation_boost = 0.3;  // "sooo good": not in VADER, as a milder capital
constexpr double contrast_before = 0.5;   // "thanks, but ...": what came before counts half
constexpr double contrast_after = 1.5;    // and what follows half again
constexpr double sarcasm_flip = -0.7;     // praise in a sarcastic shape counts against, a bit softer

std::unordered_set<std::string> const& negations() {
  static std::unordered_set<std::string> const words{
      "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt", "dont", "hadnt", "hasnt",
      "havent", "isnt", "mightnt", "mustnt", "neither", "neednt", "never", "none", "nope", "nor", "not",
      "nothing", "nowhere", "oughtnt", "shant", "shouldnt", "uhuh", "uh-uh", "wasnt", "werent", "without",
      "wont", "wouldnt", "rarely", "seldom", "despite", "no", "nobody", "hardly"};
  return words;
}

std::unordered_map<std::string, double> const& boosters() {
  static std::unordered_map<std::string, double> const words = [] {
    std::unordered_map<std::string, double> m;
    for (char const* w : {"absolutely", "amazingly", "awfully", "completely", "considerably", "decidedly", "deeply",
                          "enormously", "entirely", "especially", "exceptionally", "extremely", "fabulously", "fully",
                          "greatly", "hella", "highly", "hugely", "incredibly", "intensely", "majorly", "more", "most",
                          "particularly", "purely", "quite", "really", "remarkably", "so", "substantially",
                          "thoroughly", "totally", "tremendously", "uber", "unbelievably", "unusually", "utterly",
                          "very", "super", "genuinely", "truly", "soo", "sooo", "veryy", "honestly", "seriously",
                          "properly", "mega", "massively", "ever"})
      m[w] = booster_up;
    for (char const* w : {"almost", "barely", "hardly", "kinda", "less", "little", "marginally", "occasionally",
                          "partly", "scarcely", "slightly", "somewhat", "sorta", "fairly", "bit"})
      m[w] = booster_down;
    return m;
  }();
  return words;
}

bool is_contrast(std::string const& w) { return w == "but" || w == "however" || w == "although" || w == "though"; }

// ------------------------------------------------------------------ UTF-8
// Decodes one code point at s[i], advancing i; invalid bytes come back as
// themselves (the text came through Boost.JSON, so it is valid UTF-8).
char32_t next_code_point(std::string_view s, std::size_t& i) {
  auto c = static_cast<unsigned char>(s[i]);
  int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : 0;
  char32_t cp = extra == 0 ? c : extra == 1 ? (c & 0x1F) : extra == 2 ? (c & 0x0F) : (c & 0x07);
  ++i;
  for (int k = 0; k < extra && i < s.size(); ++k, ++i) cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
  return cp;
}

bool is_emoji(char32_t cp) {
  return (cp >= 0x1F000 && cp <= 0x1FAFF && !(cp >= 0x1F3FB && cp <= 0x1F3FF)) || (cp >= 0x2600 && cp <= 0x27BF) ||
         cp == 0x2B50 || cp == 0x2B55 || cp == 0x2705 || cp == 0x274C;
}
// Joiners, variation selectors and skin tones: parts of an emoji, not one.
bool is_emoji_modifier(char32_t cp) {
  return cp == 0x200D || cp == 0xFE0F || cp == 0xFE0E || (cp >= 0x1F3FB && cp <= 0x1F3FF);
}

std::string utf8(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// Emoji text with its modifiers removed ("❤️" -> "❤"), as lexicon keys are kept.
std::string bare_emoji(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    auto cp = next_code_point(s, i);
    if (!is_emoji_modifier(cp)) out += utf8(cp);
  }
  return out;
}

// ":)", ";-)", ":D", "<3", "xD", ":(": a whitespace-separated chunk that is a face.
bool is_emoticon(std::string_view chunk) {
  if (chunk.size() < 2 || chunk.size() > 5) return false;
  if (chunk.substr(0, 2) == "<3" || chunk.substr(0, 3) == "</3") return true;
  if ((chunk[0] == 'x' || chunk[0] == 'X') && chunk.size() == 2 && chunk[1] == 'D') return true;
  if (chunk[0] != ':' && chunk[0] != ';' && chunk[0] != '=' && chunk[0] != '(' && chunk[0] != ')') return false;
  int letters = 0;
  for (char c : chunk)
    if (std::isalpha(static_cast<unsigned char>(c))) ++letters;
  if (letters > 1) return false;
  return std::any_of(chunk.begin() + 1, chunk.end(), [](char c) { return std::strchr(")(][DPpOo/\\|*3$@", c) != nullptr; });
}

// "sooo" -> "soo" and "so": the spellings to try for an elongated word.
std::string collapse(std::string const& w, std::size_t keep) {
  std::string out;
  for (std::size_t i = 0; i < w.size(); ++i) {
    std::size_t run = 0;
    while (run < out.size() && out[out.size() - 1 - run] == w[i]) ++run;
    if (run < keep) out += w[i];
  }
  return out;
}

bool has_elongation(std::string const& w) {
  for (std::size_t i = 2; i < w.size(); ++i)
    if (std::isalpha(static_cast<unsigned char>(w[i])) && w[i] == w[i - 1] && w[i] == w[i - 2]) return true;
  return false;
}

double to_double(std::string_view s, bool& ok) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  ok = ec == std::errc() && p == s.data() + s.size();
  return v;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The text between the first pair of ' or " quotes in `line`, unescaped.
std::string quoted_value(std::string_view line) {
  auto open = line.find_first_of("'\"");
  if (open == std::string_view::npos) return {};
  char q = line[open];
  std::string out;
  for (std::size_t i = open + 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) {
      out += line[++i];
    } else if (line[i] == q) {
      return out;
    } else {
      out += line[i];
    }
  }
  return {};
}

}  // namespace

// ------------------------------------------------------------------ tokens

std::string normalize_word(std::string_view word) {
  std::string out;
  out.reserve(word.size());
  for (std::size_t i = 0; i < word.size();) {
    auto start = i;
    auto cp = next_code_point(word, i);
    if (cp == '\'' || cp == 0x2019 || cp == 0x2018) continue;
    if (cp < 0x80) out += static_cast<char>(std::tolower(static_cast<int>(cp)));
    else out.append(word.substr(start, i - start));
  }
  return out;
}

// Long on purpose: one pass over the UTF-8 text with the state of the word
// being read (case, apostrophes, quotes, emoticons, emoji); the state is
// shared by every branch, which is why it is one loop and not several.
std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  std::string word;
  std::size_t word_from = 0, word_to = 0;
  bool word_caps = true;
  bool word_apostrophe = false;
  int word_letters = 0;
  bool in_quotes = false;
  std::size_t quote_start = 0;
  auto end_word = [&] {
    if (word.empty()) return;
    Token t;
    t.all_caps = word_caps && word_letters >= 2;
    t.text = normalize_word(word);
    t.elongated = has_elongation(t.text);
    t.from = word_from;
    t.to = word_to;
    t.contraction = word_apostrophe;
    tokens.push_back(std::move(t));
    word.clear();
    word_apostrophe = false;
    word_caps = true;
    word_letters = 0;
  };
  auto mark_last = [&](auto mark) {
    if (!tokens.empty()) mark(tokens.back());
  };

  // Whitespace-separated chunks first, so faces like ":)" stay whole.
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    auto end = pos;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    auto chunk = text.substr(pos, end - pos);
    auto base = pos;
    pos = end;
    if (chunk.empty()) break;
    auto face = chunk;
    while (face.size() > 2 && (face.back() == '.' || face.back() == ',' || face.back() == '!')) face.remove_suffix(1);
    if (is_emoticon(face)) {
      Token t;
      t.text = std::string(face == "xD" || face == "XD" ? face : std::string_view(normalize_word(face)));
      if (face.find_first_of("DP") != std::string_view::npos) t.text = std::string(face);  // ":D" keeps its case
      t.from = base;
      t.to = base + face.size();
      tokens.push_back(std::move(t));
      continue;
    }
    if (chunk == "/s") {
      Token t;
      t.text = "/s";
      t.from = base;
      t.to = base + 2;
      tokens.push_back(std::move(t));
      continue;
    }
    for (std::size_t i = 0; i < chunk.size();) {
      auto start = i;
      auto cp = next_code_point(chunk, i);
      bool letter = cp < 0x80 ? std::isalnum(static_cast<int>(cp)) != 0 : !is_emoji(cp) && !is_emoji_modifier(cp) && cp != 0x2026 &&
                                                                             cp != 0x201C && cp != 0x201D && cp != 0x2019 && cp != 0x2018;
      if (letter) {
        if (cp < 0x80 && std::isalpha(static_cast<int>(cp))) {
          ++word_letters;
          if (std::islower(static_cast<int>(cp))) word_caps = false;
        }
        if (word.empty()) word_from = base + start;
        word.append(chunk.substr(start, i - start));
        word_to = base + i;
        continue;
      }
      // An apostrophe or hyphen inside a word belongs to it.
      bool inner = !word.empty() && i < chunk.size() && std::isalpha(static_cast<unsigned char>(chunk[i]));
      if ((cp == '\'' || cp == 0x2019 || cp == '-') && inner) {
        if (cp == '-') word += '-';
        else word_apostrophe = true;
        word_to = base + i;
        continue;
      }
      end_word();
      if (is_emoji(cp)) {
        Token t;
        t.text = utf8(cp);
        t.from = base + start;
        t.to = base + i;
        tokens.push_back(std::move(t));
      } else if (is_emoji_modifier(cp)) {
        // part of the emoji before it
      } else if (cp == '"' || cp == 0x201C || cp == 0x201D) {
        if (!in_quotes) {
          in_quotes = true;
          quote_start = tokens.size();
        } else {
          in_quotes = false;
          // Quotes around one to three words are scare quotes, not a citation.
          if (tokens.size() > quote_start && tokens.size() - quote_start <= 3)
            for (auto k = quote_start; k < tokens.size(); ++k) tokens[k].quoted = true;
        }
      } else if (cp == 0x2026 || (cp == '.' && i < chunk.size() && chunk[i] == '.')) {
        mark_last([](Token& t) { t.ellipsis = t.sentence_end = true; });
        while (i < chunk.size() && chunk[i] == '.') ++i;
      } else if (cp == '!') {
        mark_last([](Token& t) { t.sentence_end = t.exclaimed = true; });
      } else if (cp == '.' || cp == '?' || cp == ';') {
        mark_last([](Token& t) { t.sentence_end = true; });
      } else if (cp == ',') {
        mark_last([](Token& t) { t.comma_after = true; });
      }
    }
    end_word();
  }
  if (!tokens.empty()) tokens.back().sentence_end = true;
  return tokens;
}

// ------------------------------------------------------------------ lexicon

void Lexicon::add(std::string_view term, double valence) {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  term = trim(term);
  while (pos < term.size()) {
    auto sp = term.find(' ', pos);
    auto part = term.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos);
    if (!part.empty()) parts.push_back(is_emoticon(part) ? std::string(part) : normalize_word(part));
    if (sp == std::string_view::npos) break;
    pos = sp + 1;
  }
  if (parts.empty()) return;
  if (parts.size() == 1) {
    words_[parts[0]] = valence;
    return;
  }
  auto& list = phrases_[parts[0]];
  for (auto& p : list)
    if (p.first == parts) {
      p.second = valence;
      return;
    }
  list.emplace_back(std::move(parts), valence);
  ++phrase_count_;
}

std::size_t Lexicon::add_vader(std::string_view text) {
  std::size_t n = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    auto tab = line.find('\t');
    if (tab == std::string_view::npos || tab == 0) continue;
    auto rest = line.substr(tab + 1);
    auto tab2 = rest.find('\t');
    bool ok = false;
    double v = to_double(trim(rest.substr(0, tab2)), ok);
    if (!ok) continue;
    auto term = line.substr(0, tab);
    // Faces keep their case (":D" is not ":d"); words are compared lowercase.
    if (is_emoticon(term)) words_[std::string(term)] = v;
    else add(term, v);
    ++n;
  }
  return n;
}

std::size_t Lexicon::add_afinn(std::string_view text) {
  std::size_t n = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = trim(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    auto colon = line.rfind(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    auto value = trim(line.substr(colon + 1));
    if (!value.empty() && value.back() == ',') value.remove_suffix(1);
    bool ok = false;
    double v = to_double(trim(value), ok);
    if (!ok) continue;
    auto key = trim(line.substr(0, colon));
    std::string term = (key.front() == '\'' || key.front() == '"') ? quoted_value(key) : std::string(key);
    if (term.empty()) continue;
    add(term, v * 0.8);  // -5 .. 5 onto VADER's -4 .. 4
    ++n;
  }
  return n;
}

std::size_t Lexicon::add_emoji(std::string_view text) {
  std::size_t n = 0;
  std::string emoji;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = trim(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (line.rfind("emoji:", 0) == 0 || line.rfind("\"emoji\":", 0) == 0) {
      emoji = bare_emoji(quoted_value(line.substr(line.find(':') + 1)));
    } else if ((line.rfind("polarity:", 0) == 0 || line.rfind("\"polarity\":", 0) == 0) && !emoji.empty()) {
      auto value = trim(line.substr(line.find(':') + 1));
      if (!value.empty() && value.back() == ',') value.remove_suffix(1);
      bool ok = false;
      double v = to_double(value, ok);
      if (ok) {
        words_[emoji] = v * 0.8;
        ++n;
      }
      emoji.clear();
    }
  }
  return n;
}

void Lexicon::add_courtesy(std::string_view word) {
  auto w = trim(word);
  courtesy_.insert(is_emoticon(w) ? std::string(w) : normalize_word(bare_emoji(w)));
}

double const* Lexicon::word(std::string const& token) const {
  auto it = words_.find(token);
  if (it != words_.end()) return &it->second;
  if (token.size() > 1 && !std::isalpha(static_cast<unsigned char>(token[0]))) {
    if (auto e = words_.find(bare_emoji(token)); e != words_.end()) return &e->second;
    return nullptr;
  }
  if (has_elongation(token)) {
    for (std::size_t keep : {2u, 1u})
      if (auto c = words_.find(collapse(token, keep)); c != words_.end()) return &c->second;
  }
  return nullptr;
}

std::pair<std::size_t, double> Lexicon::phrase_at(std::vector<Token> const& tokens, std::size_t i) const {
  auto it = phrases_.find(tokens[i].text);
  if (it == phrases_.end() && tokens[i].elongated) it = phrases_.find(collapse(tokens[i].text, 1));
  if (it == phrases_.end()) return {0, 0};
  std::pair<std::size_t, double> best{0, 0};
  for (auto const& [words, valence] : it->second) {
    if (words.size() <= best.first || i + words.size() > tokens.size()) continue;
    bool match = true;
    for (std::size_t k = 1; k < words.size() && match; ++k) {
      auto const& t = tokens[i + k].text;
      match = t == words[k] || (tokens[i + k].elongated && (collapse(t, 2) == words[k] || collapse(t, 1) == words[k]));
    }
    if (match) best = {words.size(), valence};
  }
  return best;
}

// ------------------------------------------------------------------ reading

double normalize_score(double sum, double alpha) {
  double n = sum / std::sqrt(sum * sum + alpha);
  return std::clamp(n, -1.0, 1.0);
}

namespace {

// What a booster before a valenced word adds, in the direction of its valence.
double booster_effect(Token const& t, double valence, bool caps_differ) {
  auto const& b = boosters();
  auto it = b.find(t.text);
  if (it == b.end()) return 0;
  double s = it->second;
  if (valence < 0) s = -s;
  if (t.all_caps && caps_differ) s += valence > 0 ? caps_boost : -caps_boost;
  return s;
}

// The shapes of sarcasm inside one message: praise that means the opposite.
// Returns true when the positive words of the message are to be read
// against their grain.
bool sarcastic_shape(std::vector<Token> const& tokens, std::vector<double> const& s) {
  auto n = tokens.size();
  bool any_positive = std::any_of(s.begin(), s.end(), [](double v) { return v > 0; });
  if (!any_positive) return false;
  for (std::size_t i = 0; i < n; ++i) {
    auto const& w = tokens[i].text;
    if (w == "/s") return true;
    // An eye-roll, an unamused or an upside-down face beside praise is its
    // oldest marker: "thanks so much for your help 🙄".
    static std::string const eye_roll = "\U0001F644", unamused = "\U0001F612", upside_down = "\U0001F643",
                             expressionless = "\U0001F611", facepalm = "\U0001F926";
    if (auto face = bare_emoji(w); face == eye_roll || face == unamused || face == upside_down || face == expressionless ||
                                   face == facepalm)
      return true;
    // "thanks for nothing", "thanks a lot for nothing"
    if (w == "for" && i + 1 < n && tokens[i + 1].text == "nothing" && i > 0) return true;
    // "great..." : praise trailing off
    if (s[i] > 0 && tokens[i].ellipsis && std::none_of(tokens.begin(), tokens.end(), [](Token const& t) { return t.text == "/s"; }))
      return true;
    // "love waiting 12 minutes", "loving having to explain it again"
    if ((w == "love" || w == "loving" || w == "enjoy") && i + 1 < n) {
      auto const& next = tokens[i + 1].text;
      if (next == "waiting" || next == "being" || next == "having" || next == "explaining" || next == "repeating" ||
          (next == "that" && i + 2 < n && tokens[i + 2].text == "for"))
        return true;
    }
  }
  // "oh wonderful. another 3 weeks without a phone.", "just great. i'm in spain.":
  // a flat interjection of praise, closed by a full stop, and the complaint after it.
  if (n >= 4) {
    auto const& opener = tokens[0].text;
    if ((opener == "oh" || opener == "just" || opener == "well" || opener == "so") && s[1] > 0 && tokens[1].sentence_end &&
        !tokens[1].exclaimed)
      return true;
  }
  // "super helpful, not": praise taken back at the end.
  if (n >= 3 && tokens[n - 1].text == "not" && (tokens[n - 2].comma_after || tokens[n - 2].ellipsis)) return true;
  // "lovely, more delays": praise first, then what the customer is made to wait for.
  std::size_t first = (tokens[0].text == "oh" || tokens[0].text == "just" || tokens[0].text == "well") ? 1 : 0;
  if (first < n && s[first] > 0 && tokens[first].comma_after)
    for (std::size_t i = first + 1; i < n; ++i)
      if (tokens[i].text == "delays" || tokens[i].text == "waiting" || tokens[i].text == "delay") return true;
  // "perfect. just perfect.", "just great.": flat praise, said again.
  for (std::size_t i = 0; i + 1 < n; ++i)
    if (tokens[i].text == "just" && s[i + 1] > 0 && tokens[i + 1].sentence_end && !tokens[i + 1].exclaimed &&
        i + 2 == n)
      return true;
  // Praise in scare quotes: your "amazing" express delivery.
  for (std::size_t i = 0; i < n; ++i)
    if (tokens[i].quoted && s[i] > 0) return true;
  // "Brilliant service, really." : a closing "really" after a comma, alone.
  if (n >= 3 && tokens[n - 1].text == "really" && tokens[n - 2].comma_after) return true;
  // "... thanks so much for your help. really."
  if (n >= 3 && tokens[n - 1].text == "really" && tokens[n - 2].sentence_end) return true;
  return false;
}

}  // namespace

// Long on purpose: VADER's scoring is a sequence of passes over the same
// per-token arrays (boosters, negations, "but", caps, punctuation, phrases),
// each needing the results of the one before; it follows the reference
// implementation pass by pass so the two can be compared line for line.
Tone read_tone(std::string_view text, Lexicon const& lexicon) {
  Tone tone;
  auto tokens = tokenize(text);
  auto n = tokens.size();
  if (n == 0) return tone;
  std::vector<double> s(n, 0.0);
  std::vector<bool> plain_courtesy(n, false);
  std::vector<bool> in_phrase(n, false);  // a phrase's words modify nothing outside it
  std::vector<std::size_t> span_from(n), span_to(n);
  int caps = 0, words = 0;
  for (auto const& t : tokens)
    if (!t.text.empty() && std::isalpha(static_cast<unsigned char>(t.text[0]))) {
      ++words;
      if (t.all_caps) ++caps;
    }
  bool caps_differ = caps > 0 && caps < words;
  auto const& bst = boosters();
  auto const& neg = negations();
  auto is_valenced = [&](std::size_t k) { return lexicon.word(tokens[k].text) != nullptr; };

  for (std::size_t i = 0; i < n; ++i) {
    span_from[i] = i;
    span_to[i] = i + 1;
    auto [plen, pval] = lexicon.phrase_at(tokens, i);
    double valence = 0;
    if (plen > 0) {
      valence = pval;
      span_to[i] = i + plen;
      for (auto k = i; k < i + plen; ++k) in_phrase[k] = true;
    } else {
      auto const& w = tokens[i].text;
      if (bst.count(w) || tokens[i].contraction) continue;  // a booster modifies, it carries nothing itself
      auto const* v = lexicon.word(w);
      if (!v) continue;
      valence = *v;
      // "no problem": "no" before a valenced word negates it, carrying nothing itself.
      if (w == "no" && i + 1 < n && is_valenced(i + 1)) continue;
    }
    if (valence == 0) {
      if (plen > 1) i += plen - 1;
      continue;
    }
    auto const& t = tokens[i];
    double plain = valence;
    if (t.all_caps && caps_differ) valence += valence > 0 ? caps_boost : -caps_boost;
    if (t.elongated) valence += valence > 0 ? elongation_boost : -elongation_boost;
    // Up to three words before: boosters (weaker with distance) and negations.
    bool negated = false;
    for (std::size_t back = 1; back <= 3 && back <= i; ++back) {
      auto const& prev = tokens[i - back];
      // Modifiers stay in their clause: "no worries, thanks" does not negate the thanks.
      if (prev.sentence_end || prev.comma_after) break;
      if (!is_valenced(i - back) || bst.count(prev.text)) {
        double b = booster_effect(prev, valence, caps_differ);
        if (b != 0) {
          valence += back == 1 ? b : back == 2 ? b * 0.95 : b * 0.9;
          span_from[i] = i - back;
        }
      }
      // "no" negates the word right after it ("no problem"), not one further on
      // unless it is "no one".
      if (!negated && neg.count(prev.text) && !in_phrase[i - back] &&
          (back == 1 || prev.text != "no" || tokens[i - back + 1].text == "one")) {
        // "never so good" intensifies instead
        if (back >= 2 && prev.text == "never" && (tokens[i - back + 1].text == "so" || tokens[i - back + 1].text == "this")) {
          valence *= 1.25;
        } else if (!(prev.text == "without" && tokens[i - back + 1].text == "doubt")) {
          valence *= negation_scalar;
        }
        negated = true;
        span_from[i] = i - back;
      }
      if (prev.text == "least" && back == 1 && !(i >= 2 && (tokens[i - 2].text == "at" || tokens[i - 2].text == "very")))
        valence *= negation_scalar;
    }
    s[i] = valence;
    plain_courtesy[i] = plen == 0 && valence == plain && lexicon.is_courtesy(bare_emoji(tokens[i].text));
    if (plen > 1) i += plen - 1;
  }

  // Contrast: what follows "but" weighs more than what came before.
  for (std::size_t i = 0; i < n; ++i)
    if (is_contrast(tokens[i].text) && i > 0) {
      for (std::size_t k = 0; k < i; ++k) s[k] *= contrast_before;
      for (std::size_t k = i + 1; k < n; ++k) s[k] *= contrast_after;
      break;
    }

  if (sarcastic_shape(tokens, s)) {
    tone.sarcastic = true;
    for (auto& v : s)
      if (v > 0) v *= sarcasm_flip;
  }

  double sum = 0, pos = 0, negs = 0, courtesy = 0;
  std::size_t neutral = 0;
  std::size_t warmest = n, coldest = n;
  for (std::size_t i = 0; i < n; ++i) {
    sum += s[i];
    if (plain_courtesy[i] && s[i] > 0) courtesy += s[i];
    if (s[i] > 0) pos += s[i] + 1;
    else if (s[i] < 0) negs += s[i] - 1;
    else ++neutral;
    if (s[i] > 0 && (warmest == n || s[i] > s[warmest])) warmest = i;
    if (s[i] < 0 && (coldest == n || s[i] < s[coldest])) coldest = i;
  }
  // Punctuation emphasis: "!!" and "??" strengthen whatever the text says.
  auto bangs = std::count(text.begin(), text.end(), '!');
  auto asks = std::count(text.begin(), text.end(), '?');
  double emphasis = static_cast<double>(std::min<long>(bangs, 4)) * 0.292;
  if (asks > 1) emphasis += std::min(static_cast<double>(asks) * 0.18, 0.96);
  if (sum > 0) {
    sum += emphasis;
    pos += emphasis;
  } else if (sum < 0) {
    sum -= emphasis;
    negs -= emphasis;
  }
  tone.sum = sum;
  tone.compound = normalize_score(sum);
  tone.beyond_courtesy = sum > 0 ? std::max(0.0, sum - courtesy) : sum;
  double total = pos + std::fabs(negs) + static_cast<double>(neutral);
  if (total > 0) {
    tone.positive = pos / total;
    tone.negative = std::fabs(negs) / total;
  }
  auto quote = [&](std::size_t i) {
    auto last = std::min(span_to[i], n) - 1;
    return std::string(text.substr(tokens[span_from[i]].from, tokens[last].to - tokens[span_from[i]].from));
  };
  if (warmest < n) tone.warmest = quote(warmest);
  if (coldest < n) tone.coldest = quote(coldest);
  return tone;
}

}  // namespace exceed::core
