#include "app/assessment_rules.hpp"

#include "app/config.hpp"

#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace exceed::app {
namespace {

namespace fs = std::filesystem;

std::string read_file(fs::path const& file, std::string const& source, std::string const& key) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw ConfigError(source, key, "cannot read " + file.string() + " (scripts/setup installs the sentiment data)");
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

double number(toml::node const& n, std::string const& source, std::string const& key, double lo, double hi) {
  auto d = n.value<double>();  // integers too
  if (!d) throw ConfigError(source, key, "expected a number");
  if (!(*d >= lo && *d <= hi)) throw ConfigError(source, key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return *d;
}

std::int64_t integer(toml::node const& n, std::string const& source, std::string const& key, std::int64_t lo,
                     std::int64_t hi) {
  auto i = n.value_exact<std::int64_t>();
  if (!i) throw ConfigError(source, key, "expected an integer");
  if (*i < lo || *i > hi) throw ConfigError(source, key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return *i;
}

std::string text(toml::node const& n, std::string const& source, std::string const& key) {
  auto s = n.value_exact<std::string>();
  if (!s) throw ConfigError(source, key, "expected a string");
  return *s;
}

std::vector<std::string> list(toml::node const& n, std::string const& source, std::string const& key) {
  auto const* arr = n.as_array();
  if (!arr) throw ConfigError(source, key, "expected a list of strings");
  std::vector<std::string> out;
  for (auto const& item : *arr) {
    auto s = item.value_exact<std::string>();
    if (!s || s->empty()) throw ConfigError(source, key, "expected a list of non-empty strings");
    out.push_back(*s);
  }
  return out;
}

}  // namespace

// Long on purpose: mostly the table of config/assessment.toml's keys onto
// the rules' fields, read in the file's order.
core::AssessmentRules read_assessment_rules(std::string const& path, std::optional<LexiconChoice> const& choice) {
  core::AssessmentRules r;
  if (path.empty() || !std::ifstream(path)) return r;  // the built-in defaults (documented in config/assessment.toml)
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (toml::parse_error const& e) {
    throw ConfigError(path, "line " + std::to_string(e.source().begin.line), std::string(e.description()));
  }
  auto base = fs::path(path).parent_path();
  auto resolve = [&](std::string const& file) { return fs::path(file).is_absolute() ? fs::path(file) : base / file; };

  std::map<std::string, double*> weights{
      {"weights.fast_first_response", &r.w_fast_first_response},
      {"weights.first_response_breach", &r.w_first_response_breach},
      {"weights.next_response_breach", &r.w_next_response_breach},
      {"weights.no_next_response_breach", &r.w_no_next_response_breach},
      {"weights.one_contact", &r.w_one_contact},
      {"weights.reopened", &r.w_reopened},
      {"weights.no_transfer", &r.w_no_transfer},
      {"weights.transfer", &r.w_transfer},
      {"weights.short_queue_wait", &r.w_short_queue_wait},
      {"weights.long_queue_wait", &r.w_long_queue_wait},
      {"weights.unanswered_messages", &r.w_unanswered_messages},
      {"weights.repeated_question", &r.w_repeated_question},
      {"weights.repeat_complaint", &r.w_repeat_complaint},
      {"weights.many_agents", &r.w_many_agents},
      {"weights.followup_done", &r.w_followup_done},
      {"weights.went_beyond", &r.w_went_beyond},
      {"weights.beyond_in_chat", &r.w_beyond_in_chat},
      {"weights.customer_solved", &r.w_customer_solved},
      {"weights.outcome_solved", &r.w_outcome_solved},
      {"weights.outcome_workaround", &r.w_outcome_workaround},
      {"weights.works_now", &r.w_works_now},
      {"weights.could_not_help", &r.w_agent_refusal},
      {"weights.closing_tone", &r.w_closing_tone},
      {"weights.mood", &r.w_mood},
      {"weights.delighted_words", &r.w_delight},
      {"weights.praise", &r.w_praise},
      {"weights.recovered", &r.w_recovered},
      {"weights.frustrated", &r.w_frustration},
      {"weights.rating_5", &r.w_rating_5},
      {"weights.rating_4", &r.w_rating_4},
      {"weights.rating_3", &r.w_rating_3},
      {"weights.rating_1_2", &r.w_rating_1_2},
      {"levels.exceeded_at", &r.exceeded_at},
      {"levels.below_under", &r.below_under},
  };
  // Ratios and tones: [signals], each with its range.
  struct Bounded {
    double* value;
    double lo, hi;
  };
  std::map<std::string, Bounded> signals{
      {"signals.fast_first_response_ratio", {&r.fast_first_response_ratio, 0, 1}},
      {"signals.far_first_response_ratio", {&r.far_first_response_ratio, 1, 100}},
      {"signals.delight_sum", {&r.delight_sum, 0, 20}},
      {"signals.frustration_at", {&r.frustration_at, -1, 0}},
      {"signals.dissatisfied_at", {&r.dissatisfied_at, -1, 0}},
      {"signals.recovered_cap_at", {&r.recovered_cap_at, 0, 1}},
      {"signals.recency_decay", {&r.voice.recency_decay, 0, 1}},
      {"signals.rephrase_similarity", {&r.voice.rephrase_similarity, 0, 1}},
      {"signals.recovery_low", {&r.voice.recovery_low, -1, 0}},
      {"signals.recovery_high", {&r.voice.recovery_high, 0, 1}},
  };

  auto language = std::make_shared<core::Language>();
  std::string lexicon_path, lexicon_format = "vader", emoji_path;
  std::vector<std::string> courtesy;
  toml::table const* overlay = nullptr;
  std::map<std::string, core::CueList*> intents{
      {"intents.give_up", &language->cues.give_up},
      {"intents.still_broken", &language->cues.still_broken},
      {"intents.repeat_complaint", &language->cues.repeat_complaint},
      {"intents.works_now", &language->cues.works_now},
      {"intents.agent_beyond", &language->cues.agent_beyond},
      {"intents.agent_refusal", &language->cues.agent_refusal},
  };

  for (auto const& [section, node] : root) {
    auto const* table = node.as_table();
    if (!table) throw ConfigError(path, std::string(section.str()), "expected a [section]");
    for (auto const& [key, value] : *table) {
      std::string full = std::string(section.str()) + "." + std::string(key.str());
      if (auto it = weights.find(full); it != weights.end()) *it->second = number(value, path, full, -100, 100);
      else if (auto s = signals.find(full); s != signals.end())
        *s->second.value = number(value, path, full, s->second.lo, s->second.hi);
      else if (auto i = intents.find(full); i != intents.end()) i->second->set(list(value, path, full));
      else if (full == "signals.short_queue_wait_s") r.short_queue_wait = integer(value, path, full, 0, 86400) * 1000;
      else if (full == "signals.long_queue_wait_s") r.long_queue_wait = integer(value, path, full, 0, 86400) * 1000;
      else if (full == "signals.messages_before_reply_limit")
        r.messages_before_reply_limit = static_cast<int>(integer(value, path, full, 1, 1000));
      else if (full == "signals.hard_failure_transfers")
        r.hard_failure_transfers = static_cast<int>(integer(value, path, full, 1, 100));
      else if (full == "language.lexicon") lexicon_path = text(value, path, full);
      else if (full == "language.lexicon_format") lexicon_format = text(value, path, full);
      else if (full == "language.emoji") emoji_path = text(value, path, full);
      else if (full == "language.courtesy") courtesy = list(value, path, full);
      else if (full == "language.overlay" && value.as_table()) overlay = value.as_table();
      else throw ConfigError(path, full, "unknown setting");
    }
  }
  if (r.below_under > r.exceeded_at) throw ConfigError(path, "levels.below_under", "must not be above levels.exceeded_at");
  if (r.short_queue_wait > r.long_queue_wait)
    throw ConfigError(path, "signals.short_queue_wait_s", "must not be above signals.long_queue_wait_s");

  if (choice) {
    lexicon_path = fs::absolute(choice->path).string();
    lexicon_format = choice->format;
  }
  if (lexicon_path.empty()) return r;  // no [language]: the words are not read
  if (lexicon_format != "vader" && lexicon_format != "afinn")
    throw ConfigError(path, "language.lexicon_format", "must be vader or afinn");
  auto lexicon_text = read_file(resolve(lexicon_path), path, "language.lexicon");
  auto read = lexicon_format == "vader" ? language->lexicon.add_vader(lexicon_text) : language->lexicon.add_afinn(lexicon_text);
  if (read < 100) throw ConfigError(path, "language.lexicon", lexicon_path + " holds no " + lexicon_format + " lexicon");
  if (!emoji_path.empty()) language->lexicon.add_emoji(read_file(resolve(emoji_path), path, "language.emoji"));
  for (auto const& word : courtesy) language->lexicon.add_courtesy(word);
  if (overlay)
    for (auto const& [term, valence] : *overlay)
      language->lexicon.add(term.str(), number(valence, path, "language.overlay." + std::string(term.str()), -4, 4));
  r.language = std::move(language);
  return r;
}

void load_assessment_rules(Config& c) { c.assessment.rules = read_assessment_rules(c.assessment.rules_file); }

}  // namespace exceed::app
