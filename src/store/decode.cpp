#include "store/decode.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cstdlib>

namespace exceed::store {

std::optional<std::int64_t> parse_integer(std::string_view s) noexcept {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end == s.data()) return std::nullopt;
  return v;
}

std::string text_of_number(double d) { return boost::json::serialize(boost::json::value(d)); }

std::optional<double> parse_real(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::string text(s);  // strtod wants a terminated string
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

Result<std::vector<std::string>> strings_of(Result<Reply> reply, std::string_view what) {
  if (!reply) return reply.failure();
  Row row(*reply, what);
  std::vector<std::string> out;
  while (row.ok() && !row.at_end()) out.push_back(row.text());
  if (!row.ok()) return row.failure();
  return out;
}

Row::Row(Reply const& reply, std::string_view what) : reply_(reply), what_(what) {
  if (!reply.is_array()) problem_ = "expected an array reply";
  else size_ = reply.elements.size();
}

Reply const* Row::element(char const* kind) {
  if (!ok()) return nullptr;
  if (next_ >= size_) {
    problem_ = "element " + std::to_string(next_) + " (" + kind + ") is missing";
    return nullptr;
  }
  return &reply_.elements[next_++];
}

std::int64_t Row::integer() {
  auto const* e = element("an integer");
  if (!e) return 0;
  if (e->kind == Reply::Kind::integer) return e->integer;
  if (e->kind == Reply::Kind::string || e->kind == Reply::Kind::status)
    if (auto v = parse_integer(e->str); v && std::to_string(*v) == e->str) return *v;
  problem_ = "element " + std::to_string(next_ - 1) + " is not an integer";
  return 0;
}

double Row::real() {
  auto const* e = element("a number");
  if (!e) return 0;
  if (e->kind == Reply::Kind::integer) return static_cast<double>(e->integer);
  if (e->kind == Reply::Kind::string || e->kind == Reply::Kind::status)
    if (auto v = parse_real(e->str)) return *v;
  problem_ = "element " + std::to_string(next_ - 1) + " is not a number";
  return 0;
}

std::string Row::text() {
  auto v = maybe_text();
  return v ? std::move(*v) : std::string();
}

std::optional<std::string> Row::maybe_text() {
  auto const* e = element("a string");
  if (!e) return std::nullopt;
  if (e->kind == Reply::Kind::string || e->kind == Reply::Kind::status) return e->str;
  if (e->kind == Reply::Kind::integer) return std::to_string(e->integer);
  if (e->is_nil()) return std::nullopt;
  problem_ = "element " + std::to_string(next_ - 1) + " is not a string";
  return std::nullopt;
}

Reply const& Row::nested() {
  static Reply const empty_array{Reply::Kind::array, 0, {}, {}};
  auto const* e = element("an array");
  if (!e) return empty_array;
  if (e->is_array()) return *e;
  if (e->is_nil()) return empty_array;
  problem_ = "element " + std::to_string(next_ - 1) + " is not an array";
  return empty_array;
}

Result<Fields> Fields::read(Reply const& reply, std::string_view what) {
  if (reply.is_nil()) return Fields{};
  if (!reply.is_array() || reply.elements.size() % 2 != 0)
    return Failure::protocol(std::string(what) + ": expected field/value pairs");
  Fields f;
  f.pairs_.reserve(reply.elements.size() / 2);
  for (std::size_t i = 0; i < reply.elements.size(); i += 2) {
    auto const& k = reply.elements[i];
    auto const& v = reply.elements[i + 1];
    if (k.kind != Reply::Kind::string || (v.kind != Reply::Kind::string && v.kind != Reply::Kind::integer))
      return Failure::protocol(std::string(what) + ": a field or value is not a string");
    f.pairs_.emplace_back(k.str, v.kind == Reply::Kind::integer ? std::to_string(v.integer) : v.str);
  }
  return f;
}

bool Fields::has(std::string_view name) const noexcept {
  for (auto const& [k, v] : pairs_)
    if (k == name) return true;
  return false;
}

std::string_view Fields::text(std::string_view name) const noexcept {
  for (auto const& [k, v] : pairs_)
    if (k == name) return v;
  return {};
}

std::int64_t Fields::integer(std::string_view name) const noexcept { return maybe_integer(name).value_or(0); }

std::optional<std::int64_t> Fields::maybe_integer(std::string_view name) const noexcept {
  return parse_integer(text(name));
}

}  // namespace exceed::store
