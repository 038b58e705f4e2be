// An HTTP/1.1 client for calls the server makes on its own (webhook
// deliveries): one request per connection, TLS with the peer's certificate
// and name verified, every address the host resolves to checked by the
// SSRF guard (net/outbound.hpp) before it is connected to, a deadline on
// the whole exchange and a cap on the answer read. Beast stays in the .cpp.
#pragma once

#include "net/security.hpp"
#include "net/server.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::net {

struct OutboundUrl {
  bool tls = true;
  std::string host;  // a name, an IPv4 address, or an IPv6 address without brackets
  std::uint16_t port = 443;
  std::string target = "/";  // path and query
};

// An absolute http(s) URL as the client would call it, or nullopt with why
// it cannot be in *why: another scheme, http when `allow_http` is off, user
// info, no host, a fragment, a bad port.
std::optional<OutboundUrl> parse_outbound_url(std::string_view url, bool allow_http, std::string* why);

struct OutboundOptions {
  std::chrono::milliseconds timeout{10'000};  // connect, TLS, send and read, together
  std::size_t max_response_bytes = 64 * 1024;
  std::vector<IpRange> allowed_ranges;  // let through the guard (tests on loopback, internal receivers)
  std::string ca_file;                  // trusted besides the system's CAs (a private CA); empty: none
};

struct OutboundResult {
  int status = 0;      // the HTTP status; 0 when there was no answer
  std::string body;    // at most max_response_bytes of it
  std::string error;   // why there was no answer ("refused: ...", "timed out", "TLS: ...")
  std::string address; // the address connected to
  bool refused_by_guard = false;
};

// Resolves the host and checks every address; the addresses that may be
// connected to, or the guard's reason for the first refused one (a name
// that resolves to any refused address is refused whole).
boost::asio::awaitable<std::vector<std::string>> resolve_allowed(OutboundUrl const& url,
                                                                 std::vector<IpRange> const& allowed,
                                                                 std::string* why);

// Sends one request and reads the answer.
boost::asio::awaitable<OutboundResult> send(OutboundUrl url, std::string method, std::vector<Header> headers,
                                            std::string body, OutboundOptions options);

}  // namespace exceed::net
