// Security headers of HTTP answers. Beast-free, so the app and the tests
// can use them without compiling the server's templates.
#pragma once

#include "net/server.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::net {

// Adds what every answer carries unless the app already set that header:
// X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer, and over
// TLS Strict-Transport-Security (one year; subdomains are the operator's
// business, so they are not included). Nothing here limits who may load a
// script or image: the widget's widget.js must stay loadable by any site.
void add_security_headers(std::vector<Header>& headers, bool tls);

// The Content-Security-Policy of one of the HTML pages in web/: scripts
// only from this origin plus the page's own inline scripts, each allowed
// by its SHA-256 hash (so editing a page needs no policy change), inline
// styles allowed (the pages use style attributes), connections (fetch and
// the WebSocket) only to this origin, no plugins, no <base>, and framing
// only by pages of this origin (the console and the dashboard must not be
// framed by another site: clickjacking).
std::string page_security_policy(std::string_view html);

// The same for an HTML file on disk; a file that cannot be read gets the
// policy of a page without inline scripts.
std::string page_security_policy_of_file(std::string const& path);

// ----------------------------------------------------------- origins, hosts
//
// Browsers send the page's origin as "scheme://host[:port]" and the name
// they connected to in Host. Both are compared exactly, never by prefix or
// by a URL parser's idea of a host: "http://127.0.0.1.evil.example" and
// "http://127.0.0.1a" are other hosts than 127.0.0.1.

// A host as it appears in an origin or a Host header: a DNS name (letters,
// digits, '-' and '.' between non-empty labels), an IPv4 address in
// dotted-quad form, or an IPv6 address in brackets. Lower-cased.
struct HostPort {
  std::string host;                   // "chat.example", "127.0.0.1", "[::1]"
  std::optional<std::uint16_t> port;  // as written; none when absent
};

// "host[:port]" of a Host header; nullopt when it is anything else.
std::optional<HostPort> parse_host_header(std::string_view text);

struct Origin {
  std::string scheme;      // "http" or "https"
  std::string host;        // as in HostPort
  std::uint16_t port = 0;  // the scheme's default when absent
  std::string serialized;  // "https://chat.example" or "http://localhost:3000"
};

// An origin as a browser serializes it: http or https, a host, an optional
// port, nothing else (no path, no user info; "null" is not an origin).
// The default port is dropped from `serialized`, so "https://a:443" and
// "https://a" compare equal.
std::optional<Origin> parse_origin(std::string_view text);

// localhost, 127.0.0.0/8 and [::1]: names a DNS answer cannot make point
// elsewhere for a browser.
bool is_loopback_host(std::string_view host);

// An address range, "10.0.0.0/8", "fd00::/8", or one address ("10.1.2.3",
// "::1"). For the proxies whose X-Forwarded-For a server believes.
struct IpRange {
  unsigned char bytes[16] = {};  // IPv4 in the last 4 (v4 = true)
  bool v4 = false;
  int prefix = 0;
};
std::optional<IpRange> parse_ip_range(std::string_view text);
// Is `address` (as Asio prints a peer: "10.1.2.3", "::1") inside `range`?
bool in_range(IpRange const& range, std::string_view address);

// An address written as numbers (IPv4 or bracketed IPv6): a Host of that
// kind cannot come from DNS rebinding.
bool is_ip_literal(std::string_view host);

}  // namespace exceed::net
