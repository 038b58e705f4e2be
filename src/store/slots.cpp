#include "store/slots.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace exceed::store {
namespace {

// The table of the specification's appendix, computed at compile time.
constexpr std::array<std::uint16_t, 256> crc16_table() {
  std::array<std::uint16_t, 256> t{};
  for (unsigned i = 0; i < 256; ++i) {
    std::uint16_t crc = static_cast<std::uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit)
      crc = static_cast<std::uint16_t>((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1);
    t[i] = crc;
  }
  return t;
}
constexpr auto table = crc16_table();

bool same_word(std::string_view arg, std::string_view upper) {
  return arg.size() == upper.size() && std::equal(arg.begin(), arg.end(), upper.begin(), [](char a, char u) {
           return std::toupper(static_cast<unsigned char>(a)) == u;
         });
}

bool one_of(std::string_view arg, std::initializer_list<std::string_view> words) {
  return std::any_of(words.begin(), words.end(), [&](std::string_view w) { return same_word(arg, w); });
}

CommandRoute keyed(std::size_t i) { return {CommandRoute::Kind::keyed, i}; }
CommandRoute keyless() { return {CommandRoute::Kind::keyless, 0}; }

}  // namespace

std::uint16_t crc16(std::string_view data) noexcept {
  std::uint16_t crc = 0;
  for (char c : data)
    crc = static_cast<std::uint16_t>((crc << 8) ^ table[((crc >> 8) ^ static_cast<unsigned char>(c)) & 0xff]);
  return crc;
}

std::string_view hash_tag(std::string_view key) noexcept {
  auto open = key.find('{');
  if (open == std::string_view::npos) return key;
  auto close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

std::uint16_t key_slot(std::string_view key) noexcept {
  return static_cast<std::uint16_t>(crc16(hash_tag(key)) & (slot_count - 1));
}

bool is_script(std::string_view verb) {
  return one_of(verb, {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"});
}

CommandRoute route_of(Args const& args) {
  if (args.empty()) return {CommandRoute::Kind::refused, 0};
  std::string_view const verb = args[0];
  if (one_of(verb, {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR",
                    "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "SELECT", "ASKING", "READONLY", "READWRITE",
                    "AUTH", "HELLO", "RESET", "QUIT"}))
    return {CommandRoute::Kind::refused, 0};
  if (is_script(verb)) {
    long long numkeys = 0;
    if (args.size() < 4) return keyless();
    auto const& n = args[2];
    auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), numkeys);
    if (ec != std::errc{} || end != n.data() + n.size() || numkeys <= 0) return keyless();
    return keyed(3);
  }
  if (one_of(verb, {"XREAD", "XREADGROUP"})) {
    for (std::size_t i = 1; i + 1 < args.size(); ++i)
      if (same_word(args[i], "STREAMS")) return keyed(i + 1);
    return keyless();
  }
  if (one_of(verb, {"PING", "ECHO", "INFO", "TIME", "SCRIPT", "FUNCTION", "CLUSTER", "COMMAND", "CONFIG", "CLIENT",
                    "DBSIZE", "FLUSHALL", "FLUSHDB", "RANDOMKEY", "LASTSAVE", "ROLE", "SLOWLOG", "LATENCY", "WAIT",
                    "PUBSUB", "ACL", "DEBUG", "SAVE", "BGSAVE", "BGREWRITEAOF"}))
    return keyless();
  if (one_of(verb, {"OBJECT", "MEMORY", "XINFO", "XGROUP", "BITOP"})) return args.size() >= 3 ? keyed(2) : keyless();
  return args.size() >= 2 ? keyed(1) : keyless();
}

}  // namespace exceed::store
