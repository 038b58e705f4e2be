#include "core/assessment.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace exceed::core {
namespace {

std::string lower_trimmed(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto not_space = [](unsigned char c) { return !std::isspace(c) && c != '.' && c != '!'; };
  out.erase(out.begin(), std::find_if(out.begin(), out.end(), not_space));
  out.erase(std::find_if(out.rbegin(), out.rend(), not_space).base(), out.end());
  return out;
}

std::string fmt(char const* pattern, std::string const& a, std::string const& b = {}) {
  char buf[256];
  std::snprintf(buf, sizeof buf, pattern, a.c_str(), b.c_str());
  return buf;
}

}  // namespace

std::string_view to_string(Level l) noexcept {
  switch (l) {
    case Level::below: return "below";
    case Level::met: return "met";
    case Level::exceeded: return "exceeded";
  }
  return "?";
}

std::optional<Level> parse_level(std::string_view s) noexcept {
  if (s == "below") return Level::below;
  if (s == "met") return Level::met;
  if (s == "exceeded") return Level::exceeded;
  return std::nullopt;
}

std::string human_duration(Millis ms) {
  long long s = (ms + 500) / 1000;
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%llds", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  return buf;
}

Assessment assess(Signals const& s, AssessmentRules const& r) {
  Assessment a;
  std::vector<Reason> shortfalls;
  auto add = [&](std::string code, double value, double points, std::string text) {
    a.score += points;
    a.reasons.push_back({std::move(code), value, points, std::move(text)});
  };
  auto short_of = [&](std::string code, double value, std::string text) {
    shortfalls.push_back({std::move(code), value, 0, std::move(text)});
  };

  if (s.first_response && s.first_response_target > 0) {
    auto fr = *s.first_response;
    auto target = s.first_response_target;
    auto fast = static_cast<Millis>(static_cast<double>(target) * r.fast_first_response_ratio);
    auto text = fmt("first response took %s against a %s target", human_duration(fr), human_duration(target));
    if (fr <= fast) add("fast_first_response", fr / 1000.0, r.w_fast_first_response, text);
    else if (fr > target) add("first_response_breach", fr / 1000.0, r.w_first_response_breach, text);
    else short_of("fast_first_response", fr / 1000.0,
                  text + fmt(": within %s would have been fast (%s slower)", human_duration(fast), human_duration(fr - fast)));
  }
  if (s.next_response_breaches > 0)
    add("next_response_breach", s.next_response_breaches, r.w_next_response_breach * s.next_response_breaches,
        fmt("%s later answer(s) came after the next-response target", std::to_string(s.next_response_breaches)));
  else if (s.first_response)
    add("no_next_response_breach", 0, r.w_no_next_response_breach, "every later answer came within its target");

  if (s.reopened) add("reopened", 1, r.w_reopened, "the customer had to come back: it was reopened");
  else add("one_contact", 1, r.w_one_contact, "resolved in one contact");

  if (s.transfers > 0)
    add("transferred", s.transfers, r.w_transfer * s.transfers,
        fmt("the customer was transferred %s time(s)", std::to_string(s.transfers)));
  else add("no_transfer", 0, r.w_no_transfer, "no transfer: one agent saw it through");
  if (s.agents_seen > 1)
    add("many_agents", s.agents_seen, r.w_many_agents, fmt("the customer dealt with %s agents", std::to_string(s.agents_seen)));

  if (s.queue_wait) {
    auto w = *s.queue_wait;
    auto text = fmt("the customer waited %s in the queue", human_duration(w));
    if (w <= r.short_queue_wait) add("short_queue_wait", w / 1000.0, r.w_short_queue_wait, text);
    else if (w >= r.long_queue_wait) add("long_queue_wait", w / 1000.0, r.w_long_queue_wait, text);
    else short_of("short_queue_wait", w / 1000.0,
                  text + fmt("; %s or less would have counted as low effort", human_duration(r.short_queue_wait)));
  }
  if (s.customer_messages_before_reply >= r.messages_before_reply_limit)
    add("unanswered_messages", s.customer_messages_before_reply, r.w_unanswered_messages,
        fmt("the customer wrote %s messages before anyone answered", std::to_string(s.customer_messages_before_reply)));
  if (s.repeated_questions > 0)
    add("repeated_question", s.repeated_questions, r.w_repeated_question * s.repeated_questions,
        fmt("the customer had to ask the same thing %s more time(s)", std::to_string(s.repeated_questions)));

  if (s.followup_done) add("followup_done", 1, r.w_followup_done, "a proactive follow-up was done after the chat");
  else short_of("followup_done", 0, "no proactive follow-up after the chat");

  if (!s.closing_words.empty()) {
    auto words = lower_trimmed(s.closing_words);
    auto contains = [&](std::string const& p) { return words.find(p) != std::string::npos; };
    if (std::any_of(r.delighted_phrases.begin(), r.delighted_phrases.end(), contains))
      add("delighted_words", 1, r.w_delighted, "the customer's last words were delighted: \"" + s.closing_words + "\"");
    else if (std::find(r.flat_phrases.begin(), r.flat_phrases.end(), words) != r.flat_phrases.end())
      add("flat_words", 1, r.w_flat, "the customer's last words were flat: \"" + s.closing_words + "\"");
  }
  if (s.rating) {
    int rating = *s.rating;
    auto text = fmt("the customer rated it %s out of 5", std::to_string(rating));
    if (rating >= 5) add("rating_5", rating, r.w_rating_5, text);
    else if (rating >= 3) {
      add("rating_3_4", rating, r.w_rating_3_4, text);
      short_of("rating_5", rating, text + "; only a 5 counts as delight");
    } else add("rating_1_2", rating, r.w_rating_1_2, text);
  }

  std::stable_sort(a.reasons.begin(), a.reasons.end(),
                   [](Reason const& x, Reason const& y) { return std::fabs(x.points) > std::fabs(y.points); });

  if (s.expectation) {
    // The customer defines excellence: their answer decides, the inferred
    // reasons stay beside it as the explanation.
    a.by_customer = true;
    a.level = *s.expectation;
    std::string text = "the customer said their needs were " +
                       std::string(*s.expectation == Level::exceeded ? "exceeded"
                                   : *s.expectation == Level::met    ? "met, not exceeded"
                                                                     : "not met");
    a.reasons.insert(a.reasons.begin(), Reason{"customer_verdict", 0, 0, text});
  } else if (a.score >= r.exceeded_at) {
    a.level = Level::exceeded;
  } else if (a.score < r.below_under) {
    a.level = Level::below;
  } else {
    a.level = Level::met;
  }
  if (a.level == Level::met) {
    a.would_have_exceeded = std::move(shortfalls);
    for (auto const& reason : a.reasons)
      if (reason.points < 0) a.would_have_exceeded.push_back({reason.code, reason.value, reason.points, "avoid: " + reason.text});
    if (!a.by_customer) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "%.1f more points (score %.1f, exceeded at %.1f)", r.exceeded_at - a.score,
                    a.score, r.exceeded_at);
      a.would_have_exceeded.push_back({"score_gap", r.exceeded_at - a.score, 0, buf});
    }
  }
  return a;
}

}  // namespace exceed::core
