#include "protocol/json_out.hpp"

#include <charconv>

namespace exceed::protocol {

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto const c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    out.push_back('\\');
    switch (c) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '\b': out.push_back('b'); break;
      case '\f': out.push_back('f'); break;
      case '\n': out.push_back('n'); break;
      case '\r': out.push_back('r'); break;
      case '\t': out.push_back('t'); break;
      default:
        out.append("u00");
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
    }
  }
  out.append(text.data() + run, text.size() - run);
  out.push_back('"');
}

void JsonOut::key(std::string_view k) {
  if (!first_) s_.push_back(',');
  first_ = false;
  append_json_string(s_, k);
  s_.push_back(':');
}

JsonOut& JsonOut::text(std::string_view k, std::string_view value) {
  key(k);
  append_json_string(s_, value);
  return *this;
}

JsonOut& JsonOut::integer(std::string_view k, std::int64_t value) {
  key(k);
  char buf[24];
  auto const written = std::to_chars(buf, buf + sizeof buf, value);  // 20 digits and a sign fit
  s_.append(buf, written.ptr);
  return *this;
}

JsonOut& JsonOut::boolean(std::string_view k, bool value) {
  key(k);
  s_.append(value ? "true" : "false");
  return *this;
}

JsonOut& JsonOut::raw(std::string_view k, std::string_view json) {
  key(k);
  s_.append(json);
  return *this;
}

JsonOut& JsonOut::open(std::string_view k) {
  key(k);
  s_.push_back('{');
  first_ = true;
  return *this;
}

JsonOut& JsonOut::close() {
  s_.push_back('}');
  first_ = false;
  return *this;
}

}  // namespace exceed::protocol
