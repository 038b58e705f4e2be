// Reading clamd's answer to INSTREAM.
#include "net/clamd.hpp"

#include <catch2/catch.hpp>

using exceed::net::clamd_verdict;
using Kind = exceed::net::ScanResult::Kind;

TEST_CASE("clamd's answer says clean, infected with what, or that the scan failed") {
  using namespace std::string_literals;
  CHECK(clamd_verdict("stream: OK\0"s).kind == Kind::clean);
  CHECK(clamd_verdict("stream: OK\n").kind == Kind::clean);
  auto eicar = clamd_verdict("stream: Eicar-Test-Signature FOUND\0"s);
  CHECK(eicar.kind == Kind::infected);
  CHECK(eicar.detail == "Eicar-Test-Signature");
  auto limit = clamd_verdict("INSTREAM size limit exceeded. ERROR\0"s);
  CHECK(limit.kind == Kind::failed);
  CHECK(limit.detail == "clamd: INSTREAM size limit exceeded. ERROR");
  CHECK(clamd_verdict("").kind == Kind::failed);
  CHECK(clamd_verdict("stream: FOUND").kind == Kind::failed);
}
