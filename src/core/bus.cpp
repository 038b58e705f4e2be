#include "core/bus.hpp"

#include <array>
#include <utility>

namespace exceed::core {
namespace {

constexpr std::array<std::pair<std::string_view, BusMessage::Kind>, 4> control{{
    {"@positions", BusMessage::Kind::positions},
    {"@join", BusMessage::Kind::join},
    {"@here", BusMessage::Kind::here},
    {"@revoke", BusMessage::Kind::revoke},
}};

}  // namespace

std::string encode(BusMessage const& m) {
  std::string out;
  out.reserve(m.from.size() + m.payload.size() + 64);
  out += m.from;
  out += '\n';
  if (m.kind == BusMessage::Kind::event) {
    for (std::size_t i = 0; i < m.targets.size(); ++i) {
      if (i) out += ',';
      out += m.targets[i];
    }
  } else {
    for (auto const& [word, kind] : control)
      if (kind == m.kind) out += word;
  }
  out += '\n';
  out += m.payload;
  return out;
}

std::optional<BusMessage> decode_bus(std::string_view text) {
  auto nl1 = text.find('\n');
  auto nl2 = nl1 == std::string_view::npos ? nl1 : text.find('\n', nl1 + 1);
  if (nl2 == std::string_view::npos || nl1 == 0) return std::nullopt;
  BusMessage m;
  m.from = std::string(text.substr(0, nl1));
  auto what = text.substr(nl1 + 1, nl2 - nl1 - 1);
  m.payload = std::string(text.substr(nl2 + 1));
  if (!what.empty() && what.front() == '@') {
    for (auto const& [word, kind] : control)
      if (word == what) {
        m.kind = kind;
        return m;
      }
    return std::nullopt;  // a control word of a newer version
  }
  for (std::size_t start = 0; start <= what.size();) {
    auto comma = what.find(',', start);
    auto end = comma == std::string_view::npos ? what.size() : comma;
    if (end > start) m.targets.emplace_back(what.substr(start, end - start));
    start = end + 1;
  }
  return m;
}

bool BusJoin::begin(std::size_t others) noexcept {
  expected_ = others;
  if (others == 0) joined_ = true;
  return joined_;
}

bool BusJoin::here(std::string const& from, std::string const& joiner, std::string const& self) {
  if (joined_ || joiner != self || expected_ == 0) return false;
  heard_.insert(from);
  if (heard_.size() < expected_) return false;
  joined_ = true;
  return true;
}

bool BusPublishing::observe(std::int64_t live, Millis now, Millis quiet) noexcept {
  bool others = live > 1 || (peer_heard_at_ > 0 && now - peer_heard_at_ < quiet);
  if (others == publishing_) return false;
  publishing_ = others;
  return true;
}

}  // namespace exceed::core
