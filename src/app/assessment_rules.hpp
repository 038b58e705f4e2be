// config/assessment.toml read into core::AssessmentRules: weights, slopes
// and thresholds ([signals], [weights], [levels]), the sentiment resources
// ([language]: the lexicon installed by scripts/setup, emoji valences, the
// domain overlay) and the intent cues ([intents]). File paths in it are
// relative to the file itself. app::load_assessment_rules (config.hpp) is
// this applied to Config::assessment.
#pragma once

#include "core/assessment.hpp"

#include <optional>
#include <string>

namespace exceed::app {

// A different lexicon than the file names, for comparing resources
// (exceed assess-eval --lexicon).
struct LexiconChoice {
  std::string path;
  std::string format;  // "vader" | "afinn"
};

// Reads the rules from `path`. A missing file gives the built-in weights
// and no language reading; anything wrong inside (a key, a value, a
// lexicon that cannot be read) throws ConfigError naming file, key and why.
core::AssessmentRules read_assessment_rules(std::string const& path, std::optional<LexiconChoice> const& lexicon = {});

}  // namespace exceed::app
