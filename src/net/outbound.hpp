// Where the server itself may connect when a user gives it an address
// (webhook URLs): the SSRF guard. An address inside the machine or its
// private networks (loopback, RFC 1918, link-local with the cloud metadata
// service at 169.254.169.254, unique-local IPv6, ...) is refused unless the
// operator allowed its range; the check is made on every address a name
// resolves to, right before connecting, so DNS cannot swap one in later.
#pragma once

#include "net/security.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::net {

// Why `address` ("10.1.2.3", "::1", as Asio prints one) may not be
// connected to, or nullopt when it may: public, or inside one of `allowed`.
// Anything that does not parse as an address is refused.
std::optional<std::string> outbound_refusal(std::string_view address, std::vector<IpRange> const& allowed);

}  // namespace exceed::net
