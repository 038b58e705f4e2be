#include "core/voice.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace exceed::core {
namespace {

// The first words of a message, as a quote: at most `max_words`.
std::string opening_words(std::string const& text, std::size_t max_words = 10) {
  auto tokens = tokenize(text);
  if (tokens.empty()) return {};
  if (tokens.size() <= max_words) return text;
  return text.substr(0, tokens[max_words - 1].to) + "...";
}

// Warm words said of the agent: "you're a star", "you guys are great",
// "you've been so patient"; not the formula "thank you" nor "your help".
// Returns the words, as written.
std::optional<std::string> praise_of_agent(std::string const& text, std::vector<Token> const& tokens,
                                           Lexicon const& lexicon) {
  static std::unordered_set<std::string> const address{"you", "youre", "youve", "u", "ya", "yall", "guys", "youare"};
  static std::unordered_set<std::string> const negation{"not", "arent", "werent", "never", "no", "isnt", "dont", "didnt"};
  // "great service", "excellent support", "top job": praise of the service itself.
  static std::unordered_set<std::string> const service{"service", "support", "job", "team", "work", "customer"};
  for (std::size_t j = 0; j + 1 < tokens.size(); ++j) {
    auto const* v = lexicon.word(tokens[j].text);
    if (v && *v >= 2 && service.count(tokens[j + 1].text) && !(j > 0 && negation.count(tokens[j - 1].text)))
      return text.substr(tokens[j].from, tokens[j + 1].to - tokens[j].from);
  }
  for (std::size_t j = 0; j < tokens.size(); ++j) {
    if (!address.count(tokens[j].text)) continue;
    if (j > 0 && (tokens[j - 1].text == "thank" || tokens[j - 1].text == "thanks")) continue;
    for (auto k = j + 1; k < tokens.size() && k <= j + 4; ++k) {
      if (negation.count(tokens[k].text)) break;
      auto const* v = lexicon.word(tokens[k].text);
      if (v && *v > 0.5) return text.substr(tokens[j].from, tokens[k].to - tokens[j].from);
      if (tokens[k].sentence_end) break;
    }
  }
  return std::nullopt;
}

}  // namespace

Voice read_voice(std::vector<ChatLine> const& lines, std::string const& comment, Language const& language,
                 VoiceRules const& rules) {
  Voice v;
  auto const& cues = language.cues;
  std::optional<std::size_t> first_reply;
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (!lines[i].from_customer) {
      first_reply = i;
      break;
    }

  struct Said {
    std::size_t line;
    Tone tone;
    std::vector<Token> tokens;
  };
  std::vector<Said> said;
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].from_customer) said.push_back({i, read_tone(lines[i].text, language.lexicon), tokenize(lines[i].text)});
  v.messages = static_cast<int>(said.size());
  auto after_reply = [&](Said const& s) { return first_reply && s.line > *first_reply; };
  v.spoke_after_answer = !comment.empty() || std::any_of(said.begin(), said.end(), after_reply);

  // The last turn: the customer's final run of messages with no agent line
  // between them, when it came after an answer; the comment is their last word.
  std::size_t closing_from = said.size();
  if (!said.empty() && after_reply(said.back())) {
    closing_from = said.size() - 1;
    while (closing_from > 0 && said[closing_from - 1].line + 1 == said[closing_from].line &&
           after_reply(said[closing_from - 1]))
      --closing_from;
  }
  auto take_closing = [&](Tone const& t) {
    v.closing_sum += t.sum;
    v.closing_warmth += t.beyond_courtesy;
    auto const& words = t.sum >= 0 ? t.warmest : t.coldest;
    if (!words.empty() && (v.closing_words.empty() || std::fabs(t.sum) >= 1.0)) v.closing_words = words;
  };
  for (auto k = closing_from; k < said.size(); ++k) take_closing(said[k].tone);
  if (!comment.empty()) {
    // The comment is written after the chat, with hindsight: it decides the close.
    auto t = read_tone(comment, language.lexicon);
    v.closing_sum = 0;
    v.closing_warmth = 0;
    v.closing_words.clear();
    take_closing(t);
    if (t.sarcastic) v.sarcasm = comment;
  }
  v.has_closing = closing_from < said.size() || !comment.empty();
  v.closing = normalize_score(v.closing_sum);

  // The mood over the whole chat, later messages weighing more.
  double weighted = 0, weights = 0, w = 1;
  for (auto k = said.size(); k-- > 0;) {
    weighted += w * said[k].tone.compound;
    weights += w;
    w *= rules.recency_decay;
  }
  if (weights > 0) v.mood = weighted / weights;
  for (std::size_t k = 0; k < closing_from && k < said.size(); ++k)
    if (said[k].tone.compound < v.lowest) {
      v.lowest = said[k].tone.compound;
      v.lowest_words = said[k].tone.coldest.empty() ? opening_words(lines[said[k].line].text) : said[k].tone.coldest;
    }
  v.recovered = v.has_closing && v.lowest <= rules.recovery_low && v.closing >= rules.recovery_high;

  // Intents. The request itself ("I need to cancel my order", "my app is
  // still not working"): the customer's first message, or after a bare
  // greeting ("hi", "good morning") their first one after the agent's.
  std::size_t request = 0;
  if (!said.empty() && content_word_count(lines[said[0].line].text) == 0)
    for (std::size_t k = 1; k < said.size(); ++k)
      if (after_reply(said[k])) {
        request = k;
        break;
      }
  constexpr auto none = static_cast<std::size_t>(-1);
  std::size_t broken_at = none;
  for (std::size_t k = 0; k < said.size(); ++k) {
    auto const& text = lines[said[k].line].text;
    auto const& tokens = said[k].tokens;
    if (k > request && !v.gave_up)
      if (auto m = cues.give_up.find(text, tokens)) v.gave_up = m;
    if (auto m = cues.repeat_complaint.find(text, tokens); m && !v.repeat_complaint) v.repeat_complaint = m;
    if (said[k].tone.sarcastic && !v.sarcasm) v.sarcasm = text;
    if (!after_reply(said[k])) continue;
    if (auto m = cues.works_now.find(text, tokens)) {
      v.works_now = m;
      broken_at = none;
      v.still_broken.reset();
    } else if (auto b = k > request ? cues.still_broken.find(text, tokens) : std::nullopt) {
      v.still_broken = b;
      broken_at = k;
    }
    if (!said[k].tone.sarcastic && !v.praise) v.praise = praise_of_agent(text, tokens, language.lexicon);
  }
  // "still broken" that warm closing words answer was solved after all.
  if (v.still_broken && broken_at < closing_from && v.closing >= 0.5) v.still_broken.reset();

  // Asking again in other words, after someone had answered.
  for (std::size_t k = 1; k < said.size(); ++k) {
    for (std::size_t j = 0; j < k; ++j) {
      bool answered_between = false;
      for (auto l = said[j].line + 1; l < said[k].line; ++l) answered_between |= !lines[l].from_customer;
      if (!answered_between) continue;
      if (similarity(lines[said[j].line].text, lines[said[k].line].text) >= rules.rephrase_similarity) {
        if (v.rephrased == 0) v.rephrased_words = opening_words(lines[said[k].line].text);
        ++v.rephrased;
        break;
      }
    }
  }

  // The agent's side.
  std::optional<std::size_t> last_agent;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].from_customer) continue;
    last_agent = i;
    if (!v.agent_beyond)
      if (auto m = cues.agent_beyond.find(lines[i].text, tokenize(lines[i].text))) v.agent_beyond = m;
  }
  if (last_agent) {
    // The answer the customer was left with: the last agent line, or the one
    // before it when the last is only a goodbye.
    for (auto i = *last_agent + 1; i-- > 0;) {
      if (lines[i].from_customer) break;
      if (auto m = cues.agent_refusal.find(lines[i].text, tokenize(lines[i].text))) {
        v.agent_refusal = m;
        break;
      }
    }
  }
  return v;
}

}  // namespace exceed::core
