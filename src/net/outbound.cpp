#include "net/outbound.hpp"

namespace exceed::net {
namespace {

struct Blocked {
  char const* range;
  char const* what;
};

// Special-purpose ranges (IANA's registries) no public service lives in.
constexpr Blocked blocked[] = {
    {"0.0.0.0/8", "a 'this network' address"},
    {"10.0.0.0/8", "a private address"},
    {"100.64.0.0/10", "a carrier-grade NAT address"},
    {"127.0.0.0/8", "a loopback address"},
    {"169.254.169.254/32", "the cloud metadata service"},
    {"169.254.0.0/16", "a link-local address"},
    {"172.16.0.0/12", "a private address"},
    {"192.0.0.0/24", "an IETF protocol address"},
    {"192.0.2.0/24", "a documentation address"},
    {"192.168.0.0/16", "a private address"},
    {"198.18.0.0/15", "a benchmarking address"},
    {"198.51.100.0/24", "a documentation address"},
    {"203.0.113.0/24", "a documentation address"},
    {"224.0.0.0/4", "a multicast address"},
    {"240.0.0.0/4", "a reserved address"},
    {"::/128", "the unspecified address"},
    {"::1/128", "a loopback address"},
    {"::ffff:0:0/96", "an IPv4-mapped address"},
    {"64:ff9b::/96", "a NAT64 address"},
    {"100::/64", "a discard address"},
    {"2001:db8::/32", "a documentation address"},
    {"fd00:ec2::254/128", "the cloud metadata service"},
    {"fc00::/7", "a unique-local address"},
    {"fe80::/10", "a link-local address"},
    {"ff00::/8", "a multicast address"},
};

}  // namespace

std::optional<std::string> outbound_refusal(std::string_view address, std::vector<IpRange> const& allowed) {
  auto self = parse_ip_range(address);
  if (!self || address.find('/') != std::string_view::npos) return "'" + std::string(address) + "' is not an address";
  for (auto const& r : allowed)
    if (in_range(r, address)) return std::nullopt;
  for (auto const& b : blocked) {
    if (in_range(*parse_ip_range(b.range), address)) return std::string(address) + " is " + b.what;
  }
  return std::nullopt;
}

}  // namespace exceed::net
