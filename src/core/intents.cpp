#include "core/intents.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_set>

namespace exceed::core {
namespace {

constexpr std::size_t max_gap = 4;  // words a `*` may stand for

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    auto next = s.find(sep, pos);
    auto part = s.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    if (!part.empty()) out.push_back(part);
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return out;
}

std::unordered_set<std::string> const& stop_words() {
  static std::unordered_set<std::string> const words{
      "i", "im", "ive", "id", "ill", "me", "my", "mine", "you", "your", "youre", "we", "our", "us", "they", "them",
      "it", "its", "this", "that", "these", "those", "the", "a", "an", "is", "are", "was", "were", "be", "been",
      "am", "do", "does", "did", "have", "has", "had", "will", "would", "can", "could", "should", "shall", "may",
      "might", "must", "to", "of", "for", "in", "on", "at", "by", "with", "from", "about", "and", "or", "but", "so",
      "if", "then", "than", "as", "just", "also", "too", "very", "really", "actually", "please", "hi", "hello",
      "hey", "thanks", "thank", "ok", "okay", "yes", "no", "not", "what", "when", "where", "why", "how", "which",
      "who", "there", "here", "get", "got", "there", "some", "any", "all", "again", "still", "asking", "ask",
      "want", "know", "need", "like", "one", "up", "out", "into", "over", "now", "yet", "good", "morning",
      "afternoon", "evening", "anyone", "anybody", "someone", "somebody", "quick", "question", "hiya", "yo"};
  return words;
}

// "refunds" -> "refund", "arrived" -> "arriv", "waiting" -> "wait": crude,
// but the same crudeness on both sides of a comparison.
std::string stem(std::string w) {
  for (char const* end : {"ing", "ed", "es", "s", "ly"}) {
    std::string_view e(end);
    if (w.size() > e.size() + 3 && w.compare(w.size() - e.size(), e.size(), e) == 0) {
      w.resize(w.size() - e.size());
      break;
    }
  }
  if (!w.empty() && w.back() == 'e' && w.size() > 4) w.pop_back();
  return w;
}

std::unordered_set<std::string> content_words(std::string_view text) {
  std::unordered_set<std::string> out;
  for (auto const& t : tokenize(text)) {
    if (t.text.size() < 2 || !std::isalnum(static_cast<unsigned char>(t.text[0]))) continue;
    if (stop_words().count(t.text)) continue;
    out.insert(stem(t.text));
  }
  return out;
}

}  // namespace

Cue::Cue(std::string_view pattern) : pattern_(pattern) {
  for (auto word : split(pattern, ' ')) {
    Slot slot;
    if (word == "*") {
      slots_.push_back(slot);
      continue;
    }
    if (word.size() > 1 && word.back() == '*') {
      slot.prefix = true;
      word.remove_suffix(1);
    }
    for (auto alt : split(word, '|')) slot.alternatives.push_back(normalize_word(alt));
    slots_.push_back(std::move(slot));
  }
}

bool Cue::match_at(std::vector<Token> const& tokens, std::size_t slot, std::size_t pos, std::size_t& end) const {
  if (slot == slots_.size()) {
    end = pos;
    return true;
  }
  auto const& s = slots_[slot];
  if (s.alternatives.empty()) {
    for (std::size_t skip = 0; skip <= max_gap && pos + skip <= tokens.size(); ++skip)
      if (match_at(tokens, slot + 1, pos + skip, end)) return true;
    return false;
  }
  if (pos >= tokens.size()) return false;
  auto const& w = tokens[pos].text;
  bool ok = std::any_of(s.alternatives.begin(), s.alternatives.end(), [&](std::string const& alt) {
    return s.prefix ? w.compare(0, alt.size(), alt) == 0 : w == alt;
  });
  return ok && match_at(tokens, slot + 1, pos + 1, end);
}

std::optional<std::pair<std::size_t, std::size_t>> Cue::find(std::vector<Token> const& tokens) const {
  if (slots_.empty()) return std::nullopt;
  for (std::size_t start = 0; start < tokens.size(); ++start) {
    std::size_t end = 0;
    if (match_at(tokens, 0, start, end) && end > start) return std::make_pair(start, end);
  }
  return std::nullopt;
}

void CueList::set(std::vector<std::string> const& patterns) {
  cues.clear();
  for (auto const& p : patterns) cues.emplace_back(p);
}

std::optional<std::string> CueList::find(std::string_view text, std::vector<Token> const& tokens) const {
  for (auto const& cue : cues)
    if (auto m = cue.find(tokens)) {
      auto from = tokens[m->first].from;
      auto to = tokens[m->second - 1].to;
      return std::string(text.substr(from, to - from));
    }
  return std::nullopt;
}

std::size_t content_word_count(std::string_view text) { return content_words(text).size(); }

double similarity(std::string_view a, std::string_view b, std::size_t min_words) {
  auto x = content_words(a);
  auto y = content_words(b);
  if (x.size() < min_words || y.size() < min_words) return 0;
  auto const& small = x.size() <= y.size() ? x : y;
  auto const& large = x.size() <= y.size() ? y : x;
  std::size_t shared = 0;
  for (auto const& w : small)
    if (large.count(w)) ++shared;
  return static_cast<double>(shared) / static_cast<double>(small.size());
}

}  // namespace exceed::core
