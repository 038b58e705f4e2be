#include "core/assessment.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

namespace exceed::core {
namespace {

std::string fmt(char const* pattern, std::string const& a, std::string const& b = {}) {
  char buf[320];
  std::snprintf(buf, sizeof buf, pattern, a.c_str(), b.c_str());
  return buf;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// `customer: "took forever"`: how a reason shows the words it rests on.
std::string said(std::string const& who, std::string const& words) { return who + ": \"" + words + "\""; }

// Linear between (x0, y0) and (x1, y1), flat outside.
double slope(double x, double x0, double y0, double x1, double y1) {
  if (x <= x0) return y0;
  if (x >= x1) return y1;
  return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
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

std::string_view to_string(Confidence c) noexcept {
  switch (c) {
    case Confidence::low: return "low";
    case Confidence::medium: return "medium";
    case Confidence::high: return "high";
  }
  return "?";
}

std::string_view to_string(Outcome o) noexcept {
  switch (o) {
    case Outcome::solved: return "solved";
    case Outcome::workaround: return "workaround";
    case Outcome::not_solved: return "not_solved";
  }
  return "?";
}

std::optional<Outcome> parse_outcome(std::string_view s) noexcept {
  if (s == "solved") return Outcome::solved;
  if (s == "workaround") return Outcome::workaround;
  if (s == "not_solved") return Outcome::not_solved;
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

// Long on purpose: the judgement reads as one list of signals (timing,
// effort, what was given, solved or not, the customer's words, the rating,
// then the confidence and the level under the hard failures' cap), each
// adding its reason with its points; split, a reader would chase the shared
// score, cap and reasons through several functions to see why a chat got
// its level.
Assessment assess(Signals const& s, AssessmentRules const& r) {
  Assessment a;
  std::vector<Reason> shortfalls;
  auto const& v = s.voice;
  Level cap = Level::exceeded;
  bool only_recoverable = true;  // every hard failure is one a warm close can make up for
  auto add = [&](std::string code, double value, double points, std::string text, std::string evidence = {}) {
    a.score += points;
    a.reasons.push_back({std::move(code), value, points, std::move(text), std::move(evidence)});
  };
  // A hard failure: the reason is added, and the level cannot pass `below`
  // (a recoverable one: `met`, when the close is warm enough).
  auto hard = [&](std::string code, double value, double points, std::string text, std::string evidence = {},
                  bool recoverable = false) {
    add(code, value, points, text, evidence);
    a.hard_failures.push_back(a.reasons.back());
    cap = Level::below;
    only_recoverable = only_recoverable && recoverable;
  };
  auto short_of = [&](std::string code, double value, std::string text) {
    shortfalls.push_back({std::move(code), value, 0, std::move(text), {}});
  };

  // ---------------------------------------------------------------- timing
  if (s.first_response && s.first_response_target > 0) {
    auto fr = *s.first_response;
    auto target = s.first_response_target;
    double ratio = static_cast<double>(fr) / static_cast<double>(target);
    auto text = fmt("first response took %s against a %s target", human_duration(fr), human_duration(target));
    if (ratio <= 1.0) {
      double points = slope(ratio, r.fast_first_response_ratio, r.w_fast_first_response, 1.0, 0.0);
      add("fast_first_response", fr / 1000.0, points, text);
      if (ratio > r.fast_first_response_ratio) {
        auto fast = static_cast<Millis>(static_cast<double>(target) * r.fast_first_response_ratio);
        short_of("fast_first_response", fr / 1000.0,
                 text + fmt(": within %s would have been fast (%s slower)", human_duration(fast), human_duration(fr - fast)));
      }
    } else if (ratio < r.far_first_response_ratio) {
      add("first_response_breach", fr / 1000.0, slope(ratio, 1.0, 0.0, r.far_first_response_ratio, r.w_first_response_breach),
          text);
    } else {
      hard("first_response_breach", fr / 1000.0, r.w_first_response_breach,
           text + fmt(", %s times the target", number(ratio)), {}, true);
    }
  }
  if (s.next_response_breaches > 0)
    add("next_response_breach", s.next_response_breaches, r.w_next_response_breach * s.next_response_breaches,
        fmt("%s later answer(s) came after the next-response target", std::to_string(s.next_response_breaches)));
  else if (s.first_response)
    add("no_next_response_breach", 0, r.w_no_next_response_breach, "every later answer came within its target");
  if (s.queue_wait) {
    auto w = *s.queue_wait;
    auto text = fmt("the customer waited %s in the queue", human_duration(w));
    double points = slope(static_cast<double>(w), static_cast<double>(r.short_queue_wait), r.w_short_queue_wait,
                          static_cast<double>(r.long_queue_wait), r.w_long_queue_wait);
    add(w <= r.short_queue_wait ? "short_queue_wait" : "long_queue_wait", w / 1000.0, points, text);
    if (w > r.short_queue_wait)
      short_of("short_queue_wait", w / 1000.0,
               text + fmt("; %s or less would have counted as low effort", human_duration(r.short_queue_wait)));
  }

  // ---------------------------------------------------------------- effort
  if (s.reopened) hard("reopened", 1, r.w_reopened, "the customer had to come back: it was reopened");
  else add("one_contact", 1, r.w_one_contact, "resolved in one contact");
  if (s.transfers >= r.hard_failure_transfers)
    hard("transferred", s.transfers, r.w_transfer * s.transfers,
         fmt("the customer was transferred %s times", std::to_string(s.transfers)), {}, true);
  else if (s.transfers > 0)
    add("transferred", s.transfers, r.w_transfer * s.transfers, "the customer was transferred once");
  else add("no_transfer", 0, r.w_no_transfer, "no transfer: one agent saw it through");
  if (s.agents_seen > 1 && r.w_many_agents != 0)
    add("many_agents", s.agents_seen, r.w_many_agents, fmt("the customer dealt with %s agents", std::to_string(s.agents_seen)));
  if (s.customer_messages_before_reply >= r.messages_before_reply_limit)
    add("unanswered_messages", s.customer_messages_before_reply, r.w_unanswered_messages,
        fmt("the customer wrote %s messages before anyone answered", std::to_string(s.customer_messages_before_reply)));
  int repeats = std::max(s.repeated_questions, v.rephrased);
  if (repeats > 0)
    add("repeated_question", repeats, r.w_repeated_question * repeats,
        fmt("the customer had to ask again %s time(s)", std::to_string(repeats)) +
            (v.rephrased_words.empty() ? std::string() : ", " + said("customer", v.rephrased_words)),
        v.rephrased_words);
  if (v.repeat_complaint)
    add("repeat_complaint", 1, r.w_repeat_complaint, "the customer had to explain again: " + said("customer", *v.repeat_complaint),
        *v.repeat_complaint);

  // ---------------------------------------------------------------- what was given
  if (s.followup_done) add("followup_done", 1, r.w_followup_done, "a proactive follow-up was done after the chat");
  else short_of("followup_done", 0, "no proactive follow-up after the chat");
  if (!s.went_beyond.empty())
    add("went_beyond", 1, r.w_went_beyond, "the agent went beyond the ask: " + s.went_beyond, s.went_beyond);
  else if (v.agent_beyond)
    add("beyond_in_chat", 1, r.w_beyond_in_chat, "the agent gave more than was asked: " + said("agent", *v.agent_beyond),
        *v.agent_beyond);
  else short_of("went_beyond", 0, "nothing given beyond the ask (an extra, or the next need anticipated)");

  // ---------------------------------------------------------------- solved?
  if (s.customer_solved) {
    if (*s.customer_solved) add("customer_solved", 1, r.w_customer_solved, "the customer said it solved their problem");
    else hard("not_solved", 0, 0, "the customer said it did not solve their problem (\"not really\")");
  }
  if (s.outcome) {
    switch (*s.outcome) {
      case Outcome::solved: add("outcome_solved", 1, r.w_outcome_solved, "the agent recorded it solved"); break;
      case Outcome::workaround:
        add("outcome_workaround", 1, r.w_outcome_workaround, "the agent recorded a workaround, not a fix");
        cap = std::min(cap, Level::met);
        break;
      case Outcome::not_solved: hard("not_solved", 0, 0, "the agent recorded it not solved"); break;
    }
  }
  if (v.gave_up) hard("gave_up", 1, 0, "the customer gave up: " + said("customer", *v.gave_up), *v.gave_up);
  if (v.still_broken)
    hard("still_broken", 1, 0, "the customer said it still did not work: " + said("customer", *v.still_broken), *v.still_broken);
  else if (v.works_now)
    add("works_now", 1, r.w_works_now, "the customer confirmed it works: " + said("customer", *v.works_now), *v.works_now);

  // ---------------------------------------------------------------- the customer's words
  bool warm_close = v.has_closing && v.closing >= r.recovered_cap_at && !v.sarcasm;
  if (v.has_closing) {
    auto words = v.closing_words.empty() ? std::string() : said("customer", v.closing_words);
    // Courtesy ("great, thanks") is what a content customer says anyway: the
    // points go by the warmth beyond it, the coldness in full.
    auto points = r.w_closing_tone * (v.closing > 0 ? normalize_score(std::max(0.0, v.closing_warmth)) : v.closing);
    if (v.sarcasm && v.closing < 0) {
      hard("sarcasm", v.closing, points, "the customer's praise was sarcastic: " + said("customer", *v.sarcasm), *v.sarcasm);
    } else if (v.closing <= r.dissatisfied_at) {
      hard("dissatisfied", v.closing, points, "the customer ended dissatisfied" + (words.empty() ? "" : ": " + words),
           v.closing_words);
    } else if (v.closing_warmth >= r.delight_sum) {
      add("delighted_words", v.closing, points + r.w_delight, "the customer was delighted: " + words, v.closing_words);
    } else if (v.closing > 0.05) {
      add("warm_words", v.closing, points, "the customer ended content" + (words.empty() ? "" : ": " + words), v.closing_words);
      short_of("delighted_words", v.closing, "the customer's last words were content, not delighted" +
                                                 (words.empty() ? "" : " (" + words + ")"));
    } else {
      add("flat_words", v.closing, points, "the customer's last words were flat" + (words.empty() ? "" : ": " + words),
          v.closing_words);
      short_of("delighted_words", v.closing, "the customer's last words showed no delight");
    }
  }
  if (v.messages > 0 && r.w_mood != 0) add("mood", v.mood, r.w_mood * v.mood, "the tone over the whole chat: " + number(v.mood));
  if (v.praise && !v.sarcasm) add("praise", 1, r.w_praise, "the customer praised the agent: " + said("customer", *v.praise), *v.praise);
  if (v.recovered)
    add("recovered", v.closing, r.w_recovered,
        "a rough start that ended warm: " + said("customer", v.lowest_words) + " then " + said("customer", v.closing_words),
        v.closing_words);
  else if (v.lowest <= r.frustration_at)
    add("frustrated", v.lowest, r.w_frustration, "the customer was frustrated on the way: " + said("customer", v.lowest_words),
        v.lowest_words);
  if (v.agent_refusal && !warm_close)
    add("could_not_help", 1, r.w_agent_refusal, "the agent could not give what was asked: " + said("agent", *v.agent_refusal),
        *v.agent_refusal);

  // ---------------------------------------------------------------- the rating
  if (s.rating) {
    int rating = *s.rating;
    auto text = fmt("the customer rated it %s out of 5", std::to_string(rating));
    if (rating >= 5) add("rating_5", rating, r.w_rating_5, text);
    else if (rating >= 3) {
      // Satisfied, not delighted: the level cannot pass `met`.
      add(rating == 4 ? "rating_4" : "rating_3", rating, rating == 4 ? r.w_rating_4 : r.w_rating_3, text);
      short_of("rating_5", rating, text + "; only a 5 counts as delight");
      cap = std::min(cap, Level::met);
    } else hard("rating_1_2", rating, r.w_rating_1_2, text);
  }

  // What capped the level first, then by weight.
  auto capped = [&](Reason const& x) {
    return std::any_of(a.hard_failures.begin(), a.hard_failures.end(), [&](Reason const& h) { return h.code == x.code; });
  };
  std::stable_sort(a.reasons.begin(), a.reasons.end(), [&](Reason const& x, Reason const& y) {
    if (capped(x) != capped(y)) return capped(x);
    return std::fabs(x.points) > std::fabs(y.points);
  });

  // ---------------------------------------------------------------- confidence
  if (s.expectation || s.rating) a.confidence = Confidence::high;
  else if (v.spoke_after_answer || s.customer_solved || v.gave_up) a.confidence = Confidence::medium;
  else a.confidence = Confidence::low;
  a.check_in = a.confidence == Confidence::low;

  // ---------------------------------------------------------------- the level
  if (s.expectation) {
    // The customer defines excellence: their answer decides, the inferred
    // reasons stay beside it as the explanation.
    a.by_customer = true;
    a.level = *s.expectation;
    std::string text = "the customer said their needs were " +
                       std::string(*s.expectation == Level::exceeded ? "exceeded"
                                   : *s.expectation == Level::met    ? "met, not exceeded"
                                                                     : "not met");
    a.reasons.insert(a.reasons.begin(), Reason{"customer_verdict", 0, 0, text, {}});
  } else {
    a.level = a.score >= r.exceeded_at ? Level::exceeded : a.score < r.below_under ? Level::below : Level::met;
    a.level = std::min(a.level, cap);
    // A failure only the close can make up for (a slow first reply,
    // transfers): when the customer ends warm, they ended content: met.
    if (cap == Level::below && only_recoverable && warm_close) a.level = Level::met;
  }
  if (a.level == Level::met) {
    a.would_have_exceeded = std::move(shortfalls);
    for (auto const& reason : a.reasons)
      if (reason.points < 0)
        a.would_have_exceeded.push_back({reason.code, reason.value, reason.points, "avoid: " + reason.text, reason.evidence});
    if (!a.by_customer) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "%.1f more points (score %.1f, exceeded at %.1f)", r.exceeded_at - a.score,
                    a.score, r.exceeded_at);
      a.would_have_exceeded.push_back({"score_gap", r.exceeded_at - a.score, 0, buf, {}});
    }
  }
  return a;
}

std::vector<ClockEvent> clock_events(ChatRecord const& c) {
  using K = ClockEvent::Kind;
  std::vector<ClockEvent> events{{K::started, c.created_at}};
  if (c.assigned_at) events.push_back({K::assigned, *c.assigned_at});
  for (auto const& line : c.lines) events.push_back({line.from_customer ? K::customer_message : K::agent_reply, line.at});
  std::stable_sort(events.begin(), events.end(), [](auto const& x, auto const& y) { return x.at < y.at; });
  events.push_back({K::resolved, c.resolved_at});
  return events;
}

Signals observe(ChatRecord const& c, ResponseTimes const& times, SlaPolicy const& policy, AssessmentRules const& rules) {
  Signals s;
  s.first_response = times.first_response;
  s.first_response_target = policy.first_response;
  if (policy.next_response > 0)
    s.next_response_breaches = static_cast<int>(std::count_if(times.next_responses.begin(), times.next_responses.end(),
                                                              [&](Millis ms) { return ms > policy.next_response; }));
  s.queue_wait = times.queue_wait;
  std::set<std::string> agents, asked;
  bool replied = false;
  for (auto const& line : c.lines) {
    if (line.from_customer) {
      if (!replied) ++s.customer_messages_before_reply;
      std::string key;
      for (char ch : line.text)
        if (std::isalnum(static_cast<unsigned char>(ch))) key += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (key.size() >= 8 && !asked.insert(key).second) ++s.repeated_questions;
    } else {
      agents.insert(line.author);
      replied = true;
    }
  }
  s.agents_seen = static_cast<int>(agents.size());
  s.transfers = std::max(c.transfers, s.agents_seen - 1);
  s.reopened = c.reopened;
  s.followup_done = c.followup_done;
  s.rating = c.rating;
  s.expectation = c.expectation;
  s.customer_solved = c.customer_solved;
  s.outcome = c.outcome;
  s.went_beyond = c.went_beyond;
  if (rules.language) s.voice = read_voice(c.lines, c.comment, *rules.language, rules.voice);
  return s;
}

}  // namespace exceed::core
