// Server frames written straight into their text, for the frames of the hot
// path (a message's ack and event): no JSON DOM built and torn down per
// message. Everything else builds a boost::json::object and serialises it
// (codec.hpp); both give the same JSON (tests/unit/json_out_test.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace exceed::protocol {

// Appends `text` as a JSON string: quoted, with '"', '\\' and the control
// characters escaped; other bytes (UTF-8) are copied as they are, as
// boost::json::serialize does.
void append_json_string(std::string& out, std::string_view text);

// The members of one JSON object, written in order:
//   JsonOut f; f.text("conversation_id", id).integer("seq", 4).open("from").text("id", u).close();
// Keys are the contract's names, written as given (escaped like any string).
// The methods have distinct names so that a string literal cannot bind to
// the bool overload.
class JsonOut {
 public:
  JsonOut() { s_.reserve(192); }
  JsonOut& text(std::string_view key, std::string_view value);
  JsonOut& integer(std::string_view key, std::int64_t value);
  JsonOut& boolean(std::string_view key, bool value);
  // `json` is one JSON value already encoded (a stored attachment's object).
  JsonOut& raw(std::string_view key, std::string_view json);
  // A nested object, up to its close().
  JsonOut& open(std::string_view key);
  JsonOut& close();

  // "k":v,"k2":v2 (no braces): what encode_ack and encode_event wrap.
  std::string_view members() const noexcept { return s_; }

 private:
  void key(std::string_view k);
  std::string s_;
  bool first_ = true;
};

}  // namespace exceed::protocol
