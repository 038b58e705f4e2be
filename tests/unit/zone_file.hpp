// A time zone read from the system's zone files (Debian's tzdata), for the
// core tests that count business hours in a real zone.
#pragma once

#include "core/hours.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

namespace exceed::test {

inline core::TimeZone zone_file(std::string const& name) {
  std::ifstream in("/usr/share/zoneinfo/" + name, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  auto tz = core::TimeZone::from_tzif(ss.str());
  REQUIRE(tz);
  return *tz;
}

}  // namespace exceed::test
