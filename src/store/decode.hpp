// Reading Redis replies into typed values, each reply in exactly one place
// (the typed store functions). A reply of another shape than expected is
// not read as zero or empty: it fails the operation with Failure::protocol,
// naming the operation and what was wrong.
#pragma once

#include "store/redis.hpp"
#include "store/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::store {

// An array reply read element by element, in order. The first wrong element
// makes ok() false and failure() say which; later reads return defaults.
class Row {
 public:
  Row(Reply const& reply, std::string_view what);
  std::int64_t integer();                 // an integer, or a string of digits
  double real();                          // a number, or a string of one (a sorted set's score)
  std::string text();                     // a string or status (nil: "")
  std::optional<std::string> maybe_text();  // nil: nullopt
  Reply const& nested();                  // an array element, as it is
  bool at_end() const noexcept { return next_ >= size_; }
  bool ok() const noexcept { return problem_.empty(); }
  Failure failure() const { return Failure::protocol(std::string(what_) + ": " + problem_); }

 private:
  Reply const* element(char const* kind);
  Reply const& reply_;
  std::string_view what_;
  std::size_t next_ = 0, size_ = 0;
  std::string problem_;
};

// A flat field/value array (HGETALL, or a script returning one) as a lookup.
class Fields {
 public:
  static Result<Fields> read(Reply const& reply, std::string_view what);
  Fields() = default;
  bool empty() const noexcept { return pairs_.empty(); }
  bool has(std::string_view name) const noexcept;
  std::string_view text(std::string_view name) const noexcept;  // "" when absent
  std::int64_t integer(std::string_view name) const noexcept;   // 0 when absent or not a number
  std::optional<std::int64_t> maybe_integer(std::string_view name) const noexcept;
  std::vector<std::pair<std::string, std::string>> const& pairs() const noexcept { return pairs_; }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

// An array of strings (the members of a set, the ids of a sorted set), or
// why it could not be read.
Result<std::vector<std::string>> strings_of(Result<Reply> reply, std::string_view what);

// The leading integer of a stored text ("" and text without one: nullopt).
std::optional<std::int64_t> parse_integer(std::string_view s) noexcept;
// A whole text as a number (a score as Redis writes it: "17", "1.5e+16",
// "inf"); nullopt for anything else.
std::optional<double> parse_real(std::string_view s) noexcept;
// A number as a script argument: the shortest text that reads back as the
// same double ("0.8", "1.5e+16"), as Lua's tonumber and parse_real read it.
std::string text_of_number(double d);

}  // namespace exceed::store
