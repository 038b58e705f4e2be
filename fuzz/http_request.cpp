// libFuzzer target: raw bytes from a TCP client, through the server's
// request parsing (net::parse_request: Beast's parser with the server's
// limits, its refusals and its WebSocket upgrade test), then what the app
// does with every request before it needs Redis: the header lookups, the
// origin-form target parsed by Boost.URL with its query parameters, and
// the page policy scanner on the body. Pipelined requests are followed.
// Checks: a refusal is 400, 413 or 431 with a JSON body; the parser never
// claims more bytes than it got.
#include "net/http_parse.hpp"
#include "net/security.hpp"

// Instrumented Boost.URL.
#include <boost/url/parse.hpp>
#include <boost/url/src.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

using namespace exceed;

namespace {

void check(bool ok, char const* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_http_request: broken promise: %s\n", what);
    std::abort();
  }
}

net::Limits small_limits() {
  net::Limits l;
  l.max_header_bytes = 8 * 1024;  // small, so the fuzzer reaches the limits
  l.max_body_bytes = 16 * 1024;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  static net::Limits const limits = small_limits();
  std::string_view rest(reinterpret_cast<char const*>(data), size);
  for (int i = 0; i < 8 && !rest.empty(); ++i) {
    auto p = net::parse_request(rest, limits, "/ws");
    check(p.consumed <= rest.size(), "consumed within the input");
    if (p.kind == net::ParsedRequest::Kind::refused) {
      check(p.refusal.has_value(), "a refusal has an answer");
      auto s = p.refusal->status;
      check(s == 400 || s == 413 || s == 431, "a refusal is 400, 413 or 431");
      check(!p.refusal->body.empty() && p.refusal->body.front() == '{', "a refusal has a JSON body");
      return 0;
    }
    if (p.kind != net::ParsedRequest::Kind::http && p.kind != net::ParsedRequest::Kind::ws_upgrade) return 0;
    auto const& req = p.request;
    check(!req.method.empty(), "a parsed request has a method");
    (void)req.header("Origin");
    (void)req.header("Authorization");
    (void)req.header("Sec-WebSocket-Key");
    if (auto u = boost::urls::parse_origin_form(req.target)) {
      std::string path = u->path();
      for (auto const& param : u->params()) (void)param.value.size();
      (void)path;
    }
    if (req.body.size() < 4096) (void)net::page_security_policy(req.body);
    if (p.kind == net::ParsedRequest::Kind::ws_upgrade || !p.keep_alive || p.consumed == 0) return 0;
    rest.remove_prefix(p.consumed);
  }
  return 0;
}
