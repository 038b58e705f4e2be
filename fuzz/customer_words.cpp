// libFuzzer target: arbitrary bytes as what a customer and an agent write,
// through the assessment's reading of words (core::tokenize, read_tone,
// the intent cues, similarity and read_voice). A customer's message must
// never crash or hang the assessment, whatever it holds.
#include "core/voice.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

exceed::core::Language const& language() {
  static exceed::core::Language const lang = [] {
    exceed::core::Language l;
    l.lexicon.add_vader("good\t1.9\t0.5\t[2]\nbad\t-2.5\t0.5\t[-2]\n:)\t2.0\t1.1\t[2]\nthanks\t1.9\t0.5\t[2]\n");
    l.lexicon.add_emoji("  emoji: '😍',\n  polarity: 3\n");
    l.lexicon.add("took forever", -2.8);
    l.lexicon.add("yeah right", -2);
    l.lexicon.add_courtesy("thanks");
    l.cues.give_up.set({"never mind", "buy * elsewhere", "cancel* my order|subscription"});
    l.cues.still_broken.set({"still not", "didnt help"});
    l.cues.works_now.set({"works now"});
    l.cues.repeat_complaint.set({"third person"});
    l.cues.agent_beyond.set({"ive also", "no charge"});
    l.cues.agent_refusal.set({"unfortunately"});
    return l;
  }();
  return lang;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::string_view text(reinterpret_cast<char const*>(data), size);
  auto const& lang = language();
  (void)exceed::core::read_tone(text, lang.lexicon);
  // Lines alternate customer / agent; the last one is the CSAT comment.
  std::vector<exceed::core::ChatLine> lines;
  std::size_t pos = 0;
  bool customer = true;
  while (pos < text.size() && lines.size() < 64) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    lines.push_back({customer, customer ? "" : "agent", static_cast<exceed::core::Millis>(lines.size()), std::string(line)});
    customer = !customer;
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  std::string comment = lines.empty() ? std::string() : lines.back().text;
  (void)exceed::core::read_voice(lines, comment, lang);
  if (lines.size() >= 2) (void)exceed::core::similarity(lines[0].text, lines[1].text);
  return 0;
}
