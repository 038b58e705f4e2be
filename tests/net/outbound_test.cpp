// The SSRF guard: which addresses the server refuses to connect to when a
// user names them (webhook URLs), and how the operator's allow-list opens one.
#include "net/outbound.hpp"

#include <catch2/catch.hpp>

using exceed::net::IpRange;
using exceed::net::outbound_refusal;
using exceed::net::parse_ip_range;

namespace {
std::vector<IpRange> ranges(std::initializer_list<char const*> list) {
  std::vector<IpRange> out;
  for (auto r : list) out.push_back(*parse_ip_range(r));
  return out;
}
}  // namespace

TEST_CASE("public addresses may be connected to") {
  CHECK_FALSE(outbound_refusal("93.184.216.34", {}));
  CHECK_FALSE(outbound_refusal("8.8.8.8", {}));
  CHECK_FALSE(outbound_refusal("2606:2800:220:1:248:1893:25c8:1946", {}));
}

TEST_CASE("the machine itself, its private networks and the metadata service are refused, each named") {
  SECTION("loopback, IPv4 and IPv6") {
    CHECK(outbound_refusal("127.0.0.1", {}).value() == "127.0.0.1 is a loopback address");
    CHECK(outbound_refusal("127.8.9.10", {}).value() == "127.8.9.10 is a loopback address");
    CHECK(outbound_refusal("::1", {}).value() == "::1 is a loopback address");
  }
  SECTION("cloud metadata, IPv4 and IPv6") {
    CHECK(outbound_refusal("169.254.169.254", {}).value() == "169.254.169.254 is the cloud metadata service");
    CHECK(outbound_refusal("fd00:ec2::254", {}).value() == "fd00:ec2::254 is the cloud metadata service");
  }
  SECTION("private, link-local, unspecified, multicast") {
    for (auto a : {"10.0.0.5", "172.16.1.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "169.254.1.1", "0.0.0.0",
                   "224.0.0.1", "255.255.255.255", "fc00::1", "fd12:3456::1", "fe80::1", "::", "ff02::1"})
      CHECK(outbound_refusal(a, {}));
  }
  SECTION("an IPv4 address dressed as IPv6 does not slip through") {
    CHECK(outbound_refusal("::ffff:127.0.0.1", {}).value() == "::ffff:127.0.0.1 is an IPv4-mapped address");
    CHECK(outbound_refusal("64:ff9b::a9fe:a9fe", {}));
  }
  SECTION("neighbours of the blocked ranges are public") {
    CHECK_FALSE(outbound_refusal("172.32.0.1", {}));
    CHECK_FALSE(outbound_refusal("11.0.0.1", {}));
    CHECK_FALSE(outbound_refusal("128.0.0.1", {}));
  }
  SECTION("what is not an address is refused") {
    CHECK(outbound_refusal("localhost", {}));
    CHECK(outbound_refusal("", {}));
    CHECK(outbound_refusal("10.0.0.0/8", {}));
  }
}

TEST_CASE("the operator's allow-list opens exactly its ranges") {
  auto allowed = ranges({"127.0.0.1", "10.20.0.0/16"});
  CHECK_FALSE(outbound_refusal("127.0.0.1", allowed));
  CHECK(outbound_refusal("127.0.0.2", allowed));
  CHECK_FALSE(outbound_refusal("10.20.3.4", allowed));
  CHECK(outbound_refusal("10.21.0.1", allowed));
  CHECK(outbound_refusal("169.254.169.254", allowed));
}
