#include "app/assess_eval.hpp"

#include <cstdio>
#include <ostream>
#include <sstream>
#include <stdexcept>

namespace exceed::app {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

// "12:30" -> ms since the start.
std::optional<core::Millis> clock_time(std::string const& t) {
  auto colon = t.find(':');
  if (colon == std::string::npos || colon == 0 || t.size() - colon != 3) return std::nullopt;
  try {
    std::size_t used = 0;
    long m = std::stol(t.substr(0, colon), &used);
    if (used != colon) return std::nullopt;
    long s = std::stol(t.substr(colon + 1), &used);
    if (used != 2 || s > 59 || m < 0 || s < 0) return std::nullopt;
    return (m * 60 + s) * 1000LL;
  } catch (std::exception const&) {
    return std::nullopt;
  }
}

}  // namespace

// Long on purpose: a line-by-line reader of the corpus format (one branch
// per kind of line), whose state (the current chat and agent, the line
// number for errors) all branches share.
std::vector<LabelledChat> parse_corpus(std::string const& text, std::string const& source) {
  std::vector<LabelledChat> out;
  std::istringstream in(text);
  std::string raw;
  int n = 0;
  std::string agent;  // the current agent
  auto fail = [&](std::string const& why) -> void {
    throw std::runtime_error(source + ":" + std::to_string(n) + ": " + why);
  };
  auto finish = [&] {
    if (out.empty()) return;
    auto& c = out.back();
    if (c.record.resolved_at == 0 && !c.record.lines.empty()) c.record.resolved_at = c.record.lines.back().at;
  };
  while (std::getline(in, raw)) {
    ++n;
    auto line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("== ", 0) == 0) {
      finish();
      std::istringstream head(line.substr(3));
      std::string id, label;
      head >> id >> label;
      auto level = core::parse_level(label);
      if (id.empty() || !level) fail("expected '== <id> <exceeded|met|below>'");
      LabelledChat c;
      c.id = id;
      c.label = *level;
      c.source = source + ":" + std::to_string(n);
      c.policy = core::SlaPolicy{"default", 60'000, 120'000, 3'600'000, 0.8};
      out.push_back(std::move(c));
      agent = "agent";
      continue;
    }
    if (out.empty()) fail("a line before the first '== <id> <label>'");
    auto& c = out.back();
    auto& r = c.record;
    auto space = line.find(' ');
    auto word = line.substr(0, space);
    auto rest = space == std::string::npos ? std::string() : trim(line.substr(space + 1));
    if (auto at = clock_time(word)) {
      // "m:ss customer: text", "m:ss agent [name]: text", "m:ss transfer|assigned|resolve"
      auto colon = rest.find(':');
      auto who = trim(rest.substr(0, colon));
      if (who == "resolve") {
        r.resolved_at = *at;
      } else if (who == "transfer") {
        ++r.transfers;
      } else if (who == "assigned") {
        if (!r.assigned_at) r.assigned_at = *at;
      } else if (colon != std::string::npos && (who == "customer" || who.rfind("agent", 0) == 0)) {
        core::ChatLine l;
        l.from_customer = who == "customer";
        l.at = *at;
        l.text = trim(rest.substr(colon + 1));
        if (!l.from_customer) {
          if (who.size() > 5) agent = trim(who.substr(5));
          l.author = agent;
          if (!r.assigned_at) r.assigned_at = *at;
        }
        if (l.text.empty()) fail("an empty message");
        r.lines.push_back(std::move(l));
      } else {
        fail("expected 'customer:', 'agent [name]:', 'transfer', 'assigned' or 'resolve' after the time");
      }
    } else if (word == "sla") {
      std::istringstream v(rest);
      long first = 0, next = 0;
      if (!(v >> first)) fail("expected 'sla <first_response_s> [<next_response_s>]'");
      c.policy.first_response = first * 1000LL;
      if (v >> next) c.policy.next_response = next * 1000LL;
    } else if (word == "rating") {
      if (rest.size() != 1 || rest[0] < '1' || rest[0] > '5') fail("rating must be 1..5");
      r.rating = rest[0] - '0';
    } else if (word == "expectation") {
      r.expectation = core::parse_level(rest);
      if (!r.expectation) fail("expectation must be below, met or exceeded");
    } else if (word == "comment") {
      r.comment = rest;
    } else if (word == "solved") {
      if (rest != "yes" && rest != "no") fail("solved must be yes or no");
      r.customer_solved = rest == "yes";
    } else if (word == "outcome") {
      r.outcome = core::parse_outcome(rest);
      if (!r.outcome) fail("outcome must be solved, workaround or not_solved");
    } else if (word == "beyond") {
      r.went_beyond = rest;
    } else if (line == "followup done") {
      r.followup_done = true;
    } else if (line == "reopened") {
      r.reopened = true;
    } else {
      fail("unknown line '" + line + "'");
    }
  }
  finish();
  return out;
}

Agreement evaluate(std::vector<LabelledChat> const& chats, core::AssessmentRules const& rules) {
  Agreement a;
  for (auto const& c : chats) {
    auto times = core::measure(core::clock_events(c.record));
    auto judged = core::assess(core::observe(c.record, times, c.policy, rules), rules);
    bool agreed = judged.level == c.label;
    ++a.total;
    a.agreed += agreed;
    if (c.record.expectation) {
      ++a.explicit_total;
      a.explicit_agreed += agreed;
    } else {
      ++a.inferred_total;
      a.inferred_agreed += agreed;
    }
    if (judged.confidence == core::Confidence::low) ++a.low_confidence;
    a.confusion[static_cast<std::size_t>(c.label)][static_cast<std::size_t>(judged.level)]++;
    if (!agreed) a.misses.push_back({&c, std::move(judged)});
  }
  return a;
}

void print(std::ostream& out, Agreement const& a, bool verbose) {
  char buf[160];
  auto line = [&](char const* name, int agreed, int total) {
    std::snprintf(buf, sizeof buf, "%-10s %5.1f%%  (%d of %d)\n", name, 100.0 * a.share(agreed, total), agreed, total);
    out << buf;
  };
  out << "agreement with the customers' own labels\n";
  line("overall", a.agreed, a.total);
  line("explicit", a.explicit_agreed, a.explicit_total);
  line("inferred", a.inferred_agreed, a.inferred_total);
  std::snprintf(buf, sizeof buf, "low confidence: %d of %d\n\n", a.low_confidence, a.total);
  out << buf;
  out << "label \\ judged   below     met  exceeded\n";
  for (std::size_t l = 0; l < 3; ++l) {
    std::snprintf(buf, sizeof buf, "%-14s %7d %7d %9d\n", std::string(core::to_string(static_cast<core::Level>(l))).c_str(),
                  a.confusion[l][0], a.confusion[l][1], a.confusion[l][2]);
    out << buf;
  }
  if (!verbose) return;
  for (auto const& m : a.misses) {
    out << "\n" << m.chat->source << " " << m.chat->id << ": labelled " << core::to_string(m.chat->label) << ", judged "
        << core::to_string(m.judged.level);
    std::snprintf(buf, sizeof buf, " (score %.2f, %s confidence)\n", m.judged.score,
                  std::string(core::to_string(m.judged.confidence)).c_str());
    out << buf;
    for (auto const& r : m.judged.reasons) {
      std::snprintf(buf, sizeof buf, "  %+6.2f  ", r.points);
      out << buf << r.code << ": " << r.text << "\n";
    }
  }
}

}  // namespace exceed::app
