#include "net/http_client.hpp"

#include "net/outbound.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>

namespace exceed::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::optional<OutboundUrl> parse_outbound_url(std::string_view text, bool allow_http, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<OutboundUrl> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  auto u = boost::urls::parse_absolute_uri(text);
  if (!u) return fail("not an absolute URL");
  OutboundUrl out;
  auto scheme = u->scheme();
  if (scheme == "https") out.tls = true;
  else if (scheme == "http" && allow_http) out.tls = false;
  else if (scheme == "http") return fail("must be https (plain http is off: webhooks.allow_http)");
  else return fail("must be an https URL");
  if (u->has_userinfo()) return fail("must not carry a user name or password");
  if (u->has_fragment()) return fail("must not have a fragment");
  out.host = u->host_address();  // IPv6 without brackets; names as given
  if (out.host.empty()) return fail("has no host");
  for (auto& c : out.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out.port = out.tls ? 443 : 80;
  if (u->has_port()) {
    auto p = u->port_number();
    if (p == 0) return fail("has a bad port");
    out.port = p;
  }
  out.target = std::string(u->encoded_path());
  if (out.target.empty()) out.target = "/";
  if (u->has_query()) out.target += "?" + std::string(u->encoded_query());
  return out;
}

asio::awaitable<std::vector<std::string>> resolve_allowed(OutboundUrl const& url, std::vector<IpRange> const& allowed,
                                                          std::string* why) {
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  auto [ec, results] =
      co_await resolver.async_resolve(url.host, std::to_string(url.port), asio::as_tuple(asio::use_awaitable));
  std::vector<std::string> out;
  if (ec) {
    if (why) *why = "the host '" + url.host + "' does not resolve (" + ec.message() + ")";
    co_return out;
  }
  for (auto const& entry : results) {
    auto address = entry.endpoint().address().to_string();
    if (auto refusal = outbound_refusal(address, allowed)) {
      if (why) *why = *refusal;
      out.clear();
      co_return out;
    }
    if (std::find(out.begin(), out.end(), address) == out.end()) out.push_back(address);
  }
  if (out.empty() && why) *why = "the host '" + url.host + "' has no address";
  co_return out;
}

namespace {

template <class Stream>
asio::awaitable<OutboundResult> exchange(Stream& stream, http::request<http::string_body>& req,
                                         std::size_t max_response_bytes) {
  OutboundResult out;
  auto [wec, wn] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
  if (wec) {
    out.error = "sending failed: " + wec.message();
    co_return out;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_response_bytes);
  parser.header_limit(16 * 1024);
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
  // An answer longer than the cap still counts by its status.
  if (rec && rec != http::error::body_limit) {
    out.error = "no answer: " + rec.message();
    co_return out;
  }
  out.status = static_cast<int>(parser.get().result_int());
  out.body = parser.get().body();
  co_return out;
}

http::request<http::string_body> build(OutboundUrl const& url, std::string const& method,
                                       std::vector<Header> const& headers, std::string body) {
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(url.target);
  req.version(11);
  bool default_port = url.port == (url.tls ? 443 : 80);
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  req.set(http::field::host, default_port ? host : host + ":" + std::to_string(url.port));
  req.set(http::field::connection, "close");
  for (auto const& h : headers) req.set(h.name, h.value);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

asio::awaitable<OutboundResult> attempt(OutboundUrl url, std::string method, std::vector<Header> headers,
                                        std::string body, OutboundOptions options) {
  OutboundResult out;
  std::string why;
  auto addresses = co_await resolve_allowed(url, options.allowed_ranges, &why);
  if (addresses.empty()) {
    out.error = "refused: " + why;
    out.refused_by_guard = true;
    co_return out;
  }
  auto ex = co_await asio::this_coro::executor;
  tcp::socket socket(ex);
  boost::system::error_code cec = asio::error::host_not_found;
  for (std::size_t i = 0; i < addresses.size() && cec; ++i) {
    socket = tcp::socket(ex);
    tcp::endpoint ep(asio::ip::make_address(addresses[i]), url.port);
    std::tie(cec) = co_await socket.async_connect(ep, asio::as_tuple(asio::use_awaitable));
    if (!cec) out.address = addresses[i];
  }
  if (cec) {
    out.error = "could not connect: " + cec.message();
    co_return out;
  }
  auto req = build(url, method, headers, std::move(body));
  if (!url.tls) {
    auto r = co_await exchange(socket, req, options.max_response_bytes);
    r.address = out.address;
    co_return r;
  }
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  ctx.set_default_verify_paths();
  if (!options.ca_file.empty()) {
    boost::system::error_code ca_ec;
    ctx.load_verify_file(options.ca_file, ca_ec);
    if (ca_ec) {
      out.error = "TLS: cannot read the CA file: " + ca_ec.message();
      co_return out;
    }
  }
  ctx.set_verify_mode(asio::ssl::verify_peer);
  asio::ssl::stream<tcp::socket> tls(std::move(socket), ctx);
  if (!SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str())) {
    out.error = "TLS: cannot set the server name";
    co_return out;
  }
  tls.set_verify_callback(asio::ssl::host_name_verification(url.host));
  auto [hec] = co_await tls.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
  if (hec) {
    out.error = "TLS: " + hec.message();
    co_return out;
  }
  auto r = co_await exchange(tls, req, options.max_response_bytes);
  r.address = out.address;
  co_await tls.async_shutdown(asio::as_tuple(asio::use_awaitable));
  co_return r;
}

}  // namespace

asio::awaitable<OutboundResult> send(OutboundUrl url, std::string method, std::vector<Header> headers,
                                     std::string body, OutboundOptions options) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer deadline(ex);
  deadline.expires_after(options.timeout);
  auto timeout = options.timeout;
  // Whichever ends first: the exchange, or the deadline (which cancels it).
  auto r = co_await (attempt(std::move(url), std::move(method), std::move(headers), std::move(body),
                             std::move(options)) ||
                     deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (r.index() == 0) co_return std::get<0>(std::move(r));
  OutboundResult out;
  out.error = "timed out after " + std::to_string(timeout.count()) + " ms";
  co_return out;
}

}  // namespace exceed::net
