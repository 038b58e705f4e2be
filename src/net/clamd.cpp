#include "net/clamd.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <cstdint>

namespace exceed::net {
namespace asio = boost::asio;

ScanResult clamd_verdict(std::string_view answer) {
  while (!answer.empty() && (answer.back() == '\0' || answer.back() == '\n')) answer.remove_suffix(1);
  constexpr std::string_view prefix = "stream: ";
  if (answer.substr(0, prefix.size()) == prefix) {
    auto rest = answer.substr(prefix.size());
    if (rest == "OK") return {ScanResult::Kind::clean, ""};
    constexpr std::string_view found = " FOUND";
    if (rest.size() > found.size() && rest.substr(rest.size() - found.size()) == found)
      return {ScanResult::Kind::infected, std::string(rest.substr(0, rest.size() - found.size()))};
  }
  return {ScanResult::Kind::failed, answer.empty() ? std::string("clamd gave no answer") : "clamd: " + std::string(answer)};
}

namespace {

// zINSTREAM, the bytes in chunks of <4-byte big-endian length><data>, a
// zero length, then the answer until clamd closes.
template <class Socket>
asio::awaitable<ScanResult> instream(Socket& socket, std::string const& bytes) {
  std::string request("zINSTREAM", 10);  // with its NUL
  constexpr std::size_t chunk = 64 * 1024;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    auto n = static_cast<std::uint32_t>(std::min(chunk, bytes.size() - at));
    char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                   static_cast<char>(n)};
    request.append(len, 4);
    request.append(bytes, at, n);
  }
  request.append(4, '\0');
  auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(request), asio::as_tuple(asio::use_awaitable));
  if (wec) co_return ScanResult{ScanResult::Kind::failed, "clamd: sending failed: " + wec.message()};
  std::string answer;
  std::array<char, 512> buf{};
  for (;;) {
    auto [rec, rn] = co_await socket.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    answer.append(buf.data(), rn);
    if (rec || answer.size() > 4096 || answer.find('\0') != std::string::npos) break;
  }
  co_return clamd_verdict(answer);
}

asio::awaitable<ScanResult> connect_and_scan(std::string where, std::string const& bytes) {
  auto ex = co_await asio::this_coro::executor;
  if (where.rfind("unix:", 0) == 0) {
    asio::local::stream_protocol::socket socket(ex);
    auto [ec] = co_await socket.async_connect(asio::local::stream_protocol::endpoint(where.substr(5)),
                                              asio::as_tuple(asio::use_awaitable));
    if (ec) co_return ScanResult{ScanResult::Kind::failed, "clamd unreachable at " + where + ": " + ec.message()};
    co_return co_await instream(socket, bytes);
  }
  auto hostport = where.substr(4);
  auto colon = hostport.rfind(':');
  if (where.rfind("tcp:", 0) != 0 || colon == std::string::npos)
    co_return ScanResult{ScanResult::Kind::failed, "clamd address '" + where + "' is not unix:PATH or tcp:HOST:PORT"};
  asio::ip::tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(hostport.substr(0, colon), hostport.substr(colon + 1),
                                                        asio::as_tuple(asio::use_awaitable));
  if (rec || results.empty()) co_return ScanResult{ScanResult::Kind::failed, "clamd unreachable at " + where};
  asio::ip::tcp::socket socket(ex);
  auto [cec] = co_await socket.async_connect(results.begin()->endpoint(), asio::as_tuple(asio::use_awaitable));
  if (cec) co_return ScanResult{ScanResult::Kind::failed, "clamd unreachable at " + where + ": " + cec.message()};
  co_return co_await instream(socket, bytes);
}

}  // namespace

asio::awaitable<ScanResult> clamd_scan(std::string where, std::string const& bytes, std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer deadline(ex);
  deadline.expires_after(timeout);
  auto r = co_await (connect_and_scan(std::move(where), bytes) || deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (r.index() == 0) co_return std::get<0>(std::move(r));
  co_return ScanResult{ScanResult::Kind::failed, "clamd did not answer within " + std::to_string(timeout.count()) + " ms"};
}

}  // namespace exceed::net
