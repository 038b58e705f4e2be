#include "core/mail.hpp"

#include "core/hours.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace exceed::core::mail {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7F; });
}

std::string base64(std::string_view in) {
  static constexpr char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += t[n >> 18];
    out += t[(n >> 12) & 63];
    out += t[(n >> 6) & 63];
    out += t[n & 63];
  }
  if (i < in.size()) {
    unsigned n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += t[n >> 18];
    out += t[(n >> 12) & 63];
    out += i + 1 < in.size() ? t[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string unbase64(std::string_view in) {
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  for (unsigned char c : in) {
    int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+' ? 62 : c == '/' ? 63 : -1;
    if (v < 0) continue;
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xFF);
    }
  }
  return out;
}

// RFC 2047: one encoded word per header when the text is not plain ASCII.
std::string header_text(std::string_view s) { return ascii(s) ? std::string(s) : "=?UTF-8?B?" + base64(s) + "?="; }

// A display name: an encoded word, or a quoted string (so a comma or an
// angle bracket in a name never reads as another address).
std::string display_name(std::string_view name) {
  if (!ascii(name)) return header_text(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Quoted-printable (RFC 2045), lines at most 76 characters, CRLF endings.
std::string quoted_printable(std::string_view body) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out, line;
  auto flush = [&] {
    out += line;
    out += "\r\n";
    line.clear();
  };
  for (std::size_t i = 0; i < body.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(body[i]);
    if (c == '\r') continue;
    if (c == '\n') {
      // Trailing white space before a line break must be encoded.
      if (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
        char last = line.back();
        line.pop_back();
        line += '=';
        line += hex[static_cast<unsigned char>(last) >> 4];
        line += hex[static_cast<unsigned char>(last) & 15];
      }
      flush();
      continue;
    }
    std::string piece;
    if ((c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t') piece = std::string(1, static_cast<char>(c));
    else piece = std::string{'=', hex[c >> 4], hex[c & 15]};
    if (line.size() + piece.size() > 75) {
      line += '=';
      flush();
    }
    line += piece;
  }
  if (!line.empty()) flush();
  return out;
}

std::string unquote_printable(std::string_view in) {
  std::string out;
  auto hexval = [](char c) -> int {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out += in[i];
      continue;
    }
    if (i + 1 < in.size() && in[i + 1] == '\n') { ++i; continue; }                       // soft break
    if (i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') { i += 2; continue; }
    if (i + 2 < in.size() && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
      out += static_cast<char>(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
      i += 2;
      continue;
    }
    out += '=';
  }
  return out;
}

std::string date_header(Millis now) {
  auto u = local_time(now, TimeZone::utc());
  static constexpr char const* names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};  // weekday 0 = Monday
  static constexpr char const* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", names[u.weekday], u.day,
                months[u.month - 1], u.year, u.minute_of_day / 60, u.minute_of_day % 60, u.second);
  return buf;
}

// Header values never carry a line break (header injection).
std::string one_line(std::string_view s) {
  std::string out;
  for (char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;
  return out;
}

std::string normalize_newlines(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string render(Outgoing const& m, Millis now) {
  std::string h;
  auto add = [&](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    h += name;
    h += ": ";
    h += one_line(value);
    h += "\r\n";
  };
  add("From", m.from);
  add("To", m.to_name.empty() ? m.to : display_name(m.to_name) + " <" + m.to + ">");
  add("Reply-To", m.reply_to);
  add("Subject", header_text(m.subject));
  add("Date", date_header(now));
  add("Message-ID", m.message_id);
  add("In-Reply-To", m.in_reply_to);
  std::string refs;
  for (auto const& r : m.references) refs += (refs.empty() ? "" : " ") + r;
  add("References", refs);
  add("MIME-Version", "1.0");
  add("Content-Type", "text/plain; charset=utf-8");
  add("Content-Transfer-Encoding", "quoted-printable");
  add("Auto-Submitted", "auto-generated");
  return h + "\r\n" + quoted_printable(m.body);
}

std::optional<std::string> address_of(std::string_view v) {
  if (v.find_first_of("\r\n") != std::string_view::npos) return std::nullopt;  // not one header value
  auto open = v.rfind('<');
  auto close = v.rfind('>');
  std::string_view a = open != std::string_view::npos && close != std::string_view::npos && close > open
                           ? v.substr(open + 1, close - open - 1)
                           : trim(v);
  a = trim(a);
  auto at = a.find('@');
  if (a.empty() || a.size() > 254 || at == std::string_view::npos || at == 0 || at + 1 == a.size() ||
      a.find_first_of("\"<>,;()[]\\") != std::string_view::npos ||
      std::any_of(a.begin(), a.end(), [](unsigned char c) { return c <= 0x20 || c >= 0x7F; }))
    return std::nullopt;  // nothing that could end an SMTP command or a header
  return lower(a);
}

std::vector<std::string> addresses_of(std::string_view v) {
  std::vector<std::string> out;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= v.size(); ++i) {
    if (i < v.size() && v[i] == '"') quoted = !quoted;
    if (i == v.size() || (v[i] == ',' && !quoted)) {
      if (auto a = address_of(v.substr(start, i - start))) out.push_back(*a);
      start = i + 1;
    }
  }
  return out;
}

std::string Incoming::header(std::string_view name) const {
  for (auto const& [k, v] : headers)
    if (k == name) return v;
  return {};
}

std::vector<std::string> Incoming::all(std::string_view name) const {
  std::vector<std::string> out;
  for (auto const& [k, v] : headers)
    if (k == name) out.push_back(v);
  return out;
}

namespace {

// Headers and body of one entity (the message, or a MIME part).
struct Entity {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

std::optional<Entity> split(std::string_view raw) {
  auto text = normalize_newlines(raw);
  auto end = text.find("\n\n");
  if (end == std::string::npos) {
    if (text.find(':') == std::string::npos) return std::nullopt;
    end = text.size();
  }
  Entity e;
  std::string_view head(text.data(), end);
  std::size_t pos = 0;
  while (pos < head.size()) {
    auto nl = head.find('\n', pos);
    auto line = head.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? head.size() : nl + 1;
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      if (!e.headers.empty()) e.headers.back().second += " " + std::string(trim(line));
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    e.headers.emplace_back(lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  if (end + 2 <= text.size()) e.body = text.substr(end + 2);
  return e;
}

std::string header_of(Entity const& e, std::string_view name) {
  for (auto const& [k, v] : e.headers)
    if (k == name) return v;
  return {};
}

// A parameter of a structured header value: boundary="abc".
std::string param(std::string_view value, std::string_view name) {
  auto l = lower(value);
  auto at = l.find(std::string(name) + "=");
  if (at == std::string::npos) return {};
  auto v = value.substr(at + name.size() + 1);
  if (!v.empty() && v.front() == '"') {
    auto close = v.find('"', 1);
    return std::string(v.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  auto stop = v.find_first_of("; \t");
  return std::string(v.substr(0, stop));
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// The body as UTF-8, or nullopt for a charset not read here (or bytes that
// are not what the charset says).
std::optional<std::string> decoded(Entity const& e) {
  auto cte = lower(header_of(e, "content-transfer-encoding"));
  std::string bytes = cte == "base64"             ? normalize_newlines(unbase64(e.body))
                      : cte == "quoted-printable" ? normalize_newlines(unquote_printable(e.body))
                                                  : e.body;
  auto charset = lower(param(header_of(e, "content-type"), "charset"));
  if (charset == "iso-8859-1" || charset == "latin1" || charset == "iso-8859-15" || charset == "windows-1252")
    return latin1_to_utf8(bytes);
  if (!charset.empty() && charset != "utf-8" && charset != "us-ascii" && charset != "utf8") return std::nullopt;
  if (!valid_utf8(bytes)) return std::nullopt;
  return bytes;
}

// The first text/plain part, depth first; an empty optional inside when
// its charset cannot be read.
std::optional<std::optional<std::string>> plain_text(Entity const& e, int depth) {
  auto type = lower(header_of(e, "content-type"));
  if (type.empty() || type.rfind("text/plain", 0) == 0) return decoded(e);
  if (type.rfind("multipart/", 0) != 0 || depth > 5) return std::nullopt;
  auto boundary = param(header_of(e, "content-type"), "boundary");
  if (boundary.empty()) return std::nullopt;
  auto delim = "--" + boundary;
  std::size_t pos = e.body.find(delim);
  while (pos != std::string::npos) {
    auto start = e.body.find('\n', pos);
    if (start == std::string::npos) break;
    auto next = e.body.find("\n" + delim, start);
    auto part_text = e.body.substr(start + 1, next == std::string::npos ? std::string::npos : next - start - 1);
    if (auto part = split(part_text)) {
      if (auto t = plain_text(*part, depth + 1)) return t;
    }
    if (next == std::string::npos) break;
    pos = next + 1;
    if (e.body.compare(pos + delim.size(), 2, "--") == 0) break;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Incoming> parse(std::string_view raw) {
  auto e = split(raw);
  if (!e || e->headers.empty()) return std::nullopt;
  Incoming m;
  m.headers = e->headers;
  auto text = plain_text(*e, 0);
  m.readable = !text || text->has_value();
  m.body = text && *text ? **text : std::string();
  return m;
}

std::vector<std::string> thread_ids(Incoming const& m) {
  std::vector<std::string> out;
  auto take = [&](std::string_view v, bool newest_first) {
    std::vector<std::string> found;
    for (std::size_t pos = 0;;) {
      auto open = v.find('<', pos);
      if (open == std::string_view::npos) break;
      auto close = v.find('>', open);
      if (close == std::string_view::npos) break;
      found.emplace_back(v.substr(open, close - open + 1));
      pos = close + 1;
    }
    if (newest_first) std::reverse(found.begin(), found.end());
    for (auto& f : found)
      if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(std::move(f));
  };
  take(m.header("in-reply-to"), false);
  take(m.header("references"), true);
  return out;
}

std::string trim_reply(std::string_view body) {
  auto text = normalize_newlines(body);
  std::vector<std::string> kept;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
    auto t = std::string(trim(line));
    auto l = lower(t);
    if (line == "-- " || line == "--") break;  // the signature separator
    if (l.rfind("-----original message-----", 0) == 0 || l.rfind("________________________________", 0) == 0) break;
    if ((l.rfind("on ", 0) == 0 && l.size() > 6 && l.compare(l.size() - 6, 6, "wrote:") == 0) ||
        (l.rfind("am ", 0) == 0 && l.find("schrieb") != std::string::npos && l.back() == ':') ||
        (l.rfind("le ", 0) == 0 && l.find("a écrit") != std::string::npos))
      break;
    if (l.rfind("from: ", 0) == 0 && !kept.empty() && trim(kept.back()).empty()) break;  // Outlook's quoted header
    if (!t.empty() && t.front() == '>') continue;
    kept.push_back(line);
  }
  std::string out;
  for (auto const& k : kept) out += k + "\n";
  return std::string(trim(out));
}

std::string plus_address(std::string_view base, std::string_view tag) {
  auto at = base.rfind('@');
  if (at == std::string_view::npos) return std::string(base);
  return std::string(base.substr(0, at)) + "+" + std::string(tag) + std::string(base.substr(at));
}

std::optional<std::string> plus_tag(std::string_view base, std::string_view address) {
  auto b = lower(base), a = lower(address);
  auto at = b.rfind('@');
  if (at == std::string::npos) return std::nullopt;
  auto local = b.substr(0, at) + "+", domain = b.substr(at);
  if (a.size() <= local.size() + domain.size() || a.compare(0, local.size(), local) != 0 ||
      a.compare(a.size() - domain.size(), domain.size(), domain) != 0)
    return std::nullopt;
  return a.substr(local.size(), a.size() - local.size() - domain.size());
}

std::string domain_of(std::string_view v) {
  auto a = address_of(v);
  if (!a) return {};
  return a->substr(a->rfind('@') + 1);
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 0 : (c >> 5) == 0x6 && c >= 0xC2 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E && c <= 0xF4 ? 3 : 9;
    if (n == 9 || i + n >= s.size() + (n ? 0 : 1)) return false;
    for (std::size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    auto c1 = n ? static_cast<unsigned char>(s[i + 1]) : 0;
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) ||  // overlong, surrogates
        (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90))
      return false;
    i += n + 1;
  }
  return true;
}

}  // namespace exceed::core::mail
