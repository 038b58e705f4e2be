// A client of ClamAV's daemon (clamd): INSTREAM over its Unix or TCP
// socket. The answer's reading is pure (clamd_verdict) and tested alone.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace exceed::net {

struct ScanResult {
  enum class Kind { clean, infected, failed } kind = Kind::failed;
  std::string detail;  // the signature found, or why the scan failed
};

// clamd's answer to INSTREAM ("stream: OK", "stream: Eicar-Signature FOUND",
// "INSTREAM size limit exceeded. ERROR", ...), NUL or newline ended.
ScanResult clamd_verdict(std::string_view answer);

// Scans `bytes` with the clamd at `where` ("unix:/run/clamav/clamd.ctl" or
// "tcp:127.0.0.1:3310"), within `timeout`.
boost::asio::awaitable<ScanResult> clamd_scan(std::string where, std::string const& bytes,
                                              std::chrono::milliseconds timeout);

}  // namespace exceed::net
