#include "net/security.hpp"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace exceed::net {
namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

bool has(std::vector<Header> const& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](Header const& h) { return same_name(h.name, name); });
}

void add_missing(std::vector<Header>& headers, std::string_view name, std::string_view value) {
  if (!has(headers, name)) headers.push_back(Header{std::string(name), std::string(value)});
}

// Case-insensitive find of an ASCII needle.
std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t from) {
  if (needle.empty() || hay.size() < needle.size()) return std::string_view::npos;
  for (std::size_t i = from; i + needle.size() <= hay.size(); ++i)
    if (same_name(hay.substr(i, needle.size()), needle)) return i;
  return std::string_view::npos;
}

std::string sha256_base64(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<unsigned char const*>(data.data()), data.size(), digest);
  unsigned char out[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(out, digest, SHA256_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char const*>(out), static_cast<std::size_t>(n));
}

// True when the attributes of a <script ...> tag include src=.
bool has_src(std::string_view attributes) {
  for (std::size_t at = ifind(attributes, "src", 0); at != std::string_view::npos;
       at = ifind(attributes, "src", at + 3)) {
    bool starts = at == 0 || std::isspace(static_cast<unsigned char>(attributes[at - 1]));
    std::size_t k = at + 3;
    while (k < attributes.size() && std::isspace(static_cast<unsigned char>(attributes[k]))) ++k;
    if (starts && k < attributes.size() && attributes[k] == '=') return true;
  }
  return false;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ipv4(std::string_view s) {
  in_addr a{};
  int dots = static_cast<int>(std::count(s.begin(), s.end(), '.'));
  return dots == 3 && s.size() <= 15 && inet_pton(AF_INET, std::string(s).c_str(), &a) == 1;
}

bool bracketed_ipv6(std::string_view s) {
  if (s.size() < 4 || s.size() > 47 || s.front() != '[' || s.back() != ']') return false;
  in6_addr a{};
  return inet_pton(AF_INET6, std::string(s.substr(1, s.size() - 2)).c_str(), &a) == 1;
}

bool dns_name(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '.') {
      if (label == 0) return false;  // empty label: "a..b", ".a"
      label = 0;
      continue;
    }
    if (!std::isalnum(c) && c != '-') return false;
    if (++label > 63) return false;
  }
  return label > 0;  // "a." is refused too: one spelling per host
}

bool valid_host(std::string_view s) { return bracketed_ipv6(s) || ipv4(s) || dns_name(s); }

// "1".."65535", digits only.
std::optional<std::uint16_t> port_number(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

}  // namespace

std::optional<HostPort> parse_host_header(std::string_view text) {
  std::string_view host = text, port;
  auto close = text.rfind(']');
  auto colon = text.rfind(':');
  if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close)) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  std::string h = lower(host);
  if (!valid_host(h)) return std::nullopt;
  HostPort out{std::move(h), std::nullopt};
  if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close)) {
    out.port = port_number(port);
    if (!out.port) return std::nullopt;
  }
  return out;
}

std::optional<Origin> parse_origin(std::string_view text) {
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  Origin o;
  o.scheme = lower(text.substr(0, sep));
  std::uint16_t default_port = 0;
  if (o.scheme == "http") default_port = 80;
  else if (o.scheme == "https") default_port = 443;
  else return std::nullopt;
  auto hp = parse_host_header(text.substr(sep + 3));  // also refuses '/', '@', '?', '#'
  if (!hp) return std::nullopt;
  o.host = std::move(hp->host);
  o.port = hp->port.value_or(default_port);
  o.serialized = o.scheme + "://" + o.host;
  if (o.port != default_port) o.serialized += ":" + std::to_string(o.port);
  return o;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "[::1]") return true;
  return ipv4(host) && host.substr(0, 4) == "127.";
}

namespace {

// The address's bytes, IPv4 in the last four; nullopt when not an address.
std::optional<IpRange> parse_address(std::string_view text) {
  IpRange r;
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), r.bytes + 12) == 1) {
    r.v4 = true;
    r.prefix = 32;
    return r;
  }
  if (inet_pton(AF_INET6, s.c_str(), r.bytes) == 1) {
    r.prefix = 128;
    return r;
  }
  return std::nullopt;
}

}  // namespace

std::optional<IpRange> parse_ip_range(std::string_view text) {
  auto slash = text.find('/');
  auto r = parse_address(text.substr(0, slash));
  if (!r || slash == std::string_view::npos) return r;
  auto bits = text.substr(slash + 1);
  int prefix = 0;
  if (bits.empty() || bits.size() > 3) return std::nullopt;
  for (char c : bits) {
    if (c < '0' || c > '9') return std::nullopt;
    prefix = prefix * 10 + (c - '0');
  }
  if (prefix > r->prefix) return std::nullopt;
  r->prefix = prefix;
  return r;
}

bool in_range(IpRange const& range, std::string_view address) {
  auto a = parse_address(address);
  if (!a || a->v4 != range.v4) return false;
  int const offset = range.v4 ? 12 : 0;
  for (int bit = 0; bit < range.prefix; ++bit) {
    int byte = offset + bit / 8, mask = 0x80 >> (bit % 8);
    if ((a->bytes[byte] & mask) != (range.bytes[byte] & mask)) return false;
  }
  return true;
}

bool is_ip_literal(std::string_view host) { return ipv4(host) || bracketed_ipv6(host); }

void add_security_headers(std::vector<Header>& headers, bool tls) {
  add_missing(headers, "X-Content-Type-Options", "nosniff");
  add_missing(headers, "Referrer-Policy", "no-referrer");
  if (tls) add_missing(headers, "Strict-Transport-Security", "max-age=31536000");
}

std::string page_security_policy(std::string_view html) {
  std::string scripts = "'self'";
  std::size_t pos = 0;
  for (;;) {
    auto open = ifind(html, "<script", pos);
    if (open == std::string_view::npos) break;
    auto const after_name = open + 7;
    // "<scripts>" or "<script-x>" is another tag.
    if (after_name < html.size() && html[after_name] != '>' &&
        !std::isspace(static_cast<unsigned char>(html[after_name]))) {
      pos = after_name;
      continue;
    }
    auto tag_end = html.find('>', after_name);
    if (tag_end == std::string_view::npos) break;
    auto close = ifind(html, "</script", tag_end + 1);
    if (close == std::string_view::npos) break;
    if (!has_src(html.substr(after_name, tag_end - after_name)))
      scripts += " 'sha256-" + sha256_base64(html.substr(tag_end + 1, close - tag_end - 1)) + "'";
    pos = close + 8;
  }
  return "default-src 'self'; script-src " + scripts +
         "; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; "
         "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";
}

std::string page_security_policy_of_file(std::string const& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  if (in) ss << in.rdbuf();
  return page_security_policy(ss.str());
}

}  // namespace exceed::net
