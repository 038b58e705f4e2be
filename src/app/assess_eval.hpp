// `exceed assess-eval`: how often the assessment agrees with real
// customers, measured on a labelled corpus (tests/assessment/README.md has
// the format). Each chat is turned into signals exactly as the server turns
// a stored conversation (core::clock_events, core::measure, core::observe)
// and judged by core::assess; the result is compared with the label.
#pragma once

#include "core/assessment.hpp"

#include <array>
#include <iosfwd>
#include <string>
#include <vector>

namespace exceed::app {

struct LabelledChat {
  std::string id;
  core::Level label = core::Level::met;
  core::ChatRecord record;
  core::SlaPolicy policy;
  std::string source;  // file:line of its header
};

// Parses a corpus; throws std::runtime_error naming the line of the first
// malformed one.
std::vector<LabelledChat> parse_corpus(std::string const& text, std::string const& source);

struct Agreement {
  int total = 0, agreed = 0;
  int explicit_total = 0, explicit_agreed = 0;
  int inferred_total = 0, inferred_agreed = 0;
  int low_confidence = 0;
  // confusion[label][judged], in Level order (below, met, exceeded).
  std::array<std::array<int, 3>, 3> confusion{};
  struct Miss {
    LabelledChat const* chat;
    core::Assessment judged;
  };
  std::vector<Miss> misses;
  double share(int a, int t) const { return t ? static_cast<double>(a) / t : 1.0; }
};

Agreement evaluate(std::vector<LabelledChat> const& chats, core::AssessmentRules const& rules);

// The figures and the matrix as the command prints them; with `verbose`
// every disagreement with its reasons.
void print(std::ostream& out, Agreement const& a, bool verbose);

}  // namespace exceed::app
