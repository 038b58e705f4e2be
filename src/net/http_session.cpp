// One HTTP/1.1 connection, plain or TLS: reads requests one at a time (so
// pipelined requests are answered in order), applies the limits, asks the
// Handler, writes the answer; hands the socket to a WebSocket session when a
// valid upgrade arrives on the ws path.
#include "net/http_parse.hpp"
#include "net/security.hpp"
#include "net/server_state.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/file.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <string_view>
#include <type_traits>

namespace exceed::net::detail {
namespace {

using asio::as_tuple;
using asio::use_awaitable;
using boost::system::error_code;

constexpr auto kTlsShutdownTimeout = std::chrono::seconds(3);
// After an error answer the peer may still be sending (a body we refused):
// reading it for a moment keeps the kernel from answering with a RST that
// would destroy our response before the peer reads it.
constexpr auto kLingerTimeout = std::chrono::seconds(1);

template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

std::string json_error(std::string_view code, std::string_view message) {
  // Codes and messages are ours (no user input), so no escaping is needed.
  std::string out = R"({"error":{"code":")";
  out.append(code).append(R"(","message":")").append(message).append(R"("}})");
  return out;
}

HttpResponse error_response(unsigned status, std::string_view code, std::string_view message) {
  HttpResponse res;
  res.status = status;
  res.body = json_error(code, message);
  return res;
}

// Copies the head; the body is moved when `take_body` (the request is done).
HttpRequest to_app_request(Request& req, std::string const& ip, bool take_body) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  out.headers.reserve(16);
  for (auto const& f : req)
    out.headers.push_back(Header{std::string(f.name_string()), std::string(f.value())});
  out.body = take_body ? std::move(req.body()) : req.body();
  out.remote_ip = ip;
  return out;
}

std::string_view path_of(std::string_view target) {
  auto const q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

// What the server decides about a request head before the app sees it.
bool is_ws_upgrade(Request const& req, std::string_view ws_path) {
  return beast::websocket::is_upgrade(req) && path_of(req.target()) == ws_path;
}

// The answer to a request the parser refused; nullopt when the peer simply
// went away (nothing to answer).
std::optional<HttpResponse> refusal_for(error_code ec) {
  if (ec == http::error::body_limit)
    return error_response(413, "too_large", "request body too large");
  if (ec == http::error::header_limit)
    return error_response(431, "headers_too_large", "request header fields too large");
  if (ec == http::error::end_of_stream || ec == http::error::partial_message || is_normal_close(ec))
    return std::nullopt;
  return error_response(400, "bad_request", "malformed request");
}

// What a request head must look like beyond what Beast's parser checks:
// HTTP/1.1 names exactly one Host (RFC 9112 3.2), HTTP/1.0 at most one; a
// Transfer-Encoding is exactly "chunked" (anything else is a framing a
// proxy in front may read differently: request smuggling).
std::optional<HttpResponse> refusal_of_head(Request const& head) {
  std::size_t hosts = 0, encodings = 0;
  bool chunked_only = true;
  for (auto const& f : head) {
    if (f.name() == http::field::host) ++hosts;
    if (f.name() == http::field::transfer_encoding) {
      ++encodings;
      chunked_only = chunked_only && beast::iequals(f.value(), "chunked");
    }
  }
  if (hosts > 1) return error_response(400, "bad_request", "more than one Host header");
  if (hosts == 0 && head.version() >= 11) return error_response(400, "bad_request", "an HTTP/1.1 request needs a Host header");
  if (encodings > 1 || !chunked_only)
    return error_response(400, "bad_request", "the only Transfer-Encoding accepted is chunked");
  return std::nullopt;
}

// Every answer carries the security headers (see net/security.hpp); the
// app's own headers win.
template <class Body>
void fill_head(http::response<Body>& res, HttpResponse const& app, unsigned version,
               bool keep_alive, bool tls) {
  res.version(version);
  res.result(app.status);
  if (!app.content_type.empty()) res.set(http::field::content_type, app.content_type);
  auto headers = app.headers;
  add_security_headers(headers, tls);
  for (auto const& h : headers) res.insert(h.name, h.value);
  res.keep_alive(keep_alive);
}

// Writes one message piece by piece, re-arming the timeout per piece so that
// a big file to a slow but live client is not cut off, while a stalled one is.
template <class Stream, class Body>
asio::awaitable<error_code> write_message(Stream& stream, http::response<Body>& res,
                                          std::chrono::seconds per_write) {
  http::serializer<false, Body> sr{res};
  while (!sr.is_done()) {
    beast::get_lowest_layer(stream).expires_after(per_write);
    auto [ec, n] = co_await http::async_write_some(stream, sr, as_tuple(use_awaitable));
    if (ec) co_return ec;
  }
  co_return error_code{};
}

// ---------------------------------------------------------------------------

template <class Stream>
class HttpSession final : public Connection,
                          public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream stream, ConnectionGuard guard)
      : stream_(std::move(stream)), guard_(std::move(guard)), state_(guard_.state_ptr()) {}

  static asio::awaitable<void> run(std::shared_ptr<HttpSession> self) { co_await self->serve(); }
  // Makes stop() reach this session; before the coroutine first runs, so
  // there is no window in which a stop would miss it.
  void attach() { guard_.attach(this->weak_from_this()); }

  // Between requests nothing is in flight, so the socket can go now;
  // otherwise the current response finishes and carries Connection: close.
  void stop_gracefully() override {
    stopping_ = true;
    if (idle_) kill();
  }

  void kill() override {
    error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

 private:
  enum class Next { keep_going, close, handed_over };

  asio::awaitable<void> serve();
  asio::awaitable<Next> serve_one(beast::flat_buffer& buffer, bool first);
  asio::awaitable<error_code> respond(HttpResponse& app, unsigned version, bool keep_alive,
                                      bool head_only);
  asio::awaitable<void> close_gracefully(bool linger);

  Stream stream_;
  ConnectionGuard guard_;
  std::shared_ptr<ServerState> state_;
  bool idle_ = true;  // waiting for (the head of) the next request
  bool stopping_ = false;
};

// The connection's whole life: TLS handshake, then requests until one side
// closes, a limit trips, the server stops, or the socket becomes a WebSocket.
template <class Stream>
asio::awaitable<void> HttpSession<Stream>::serve() {
  auto const id = guard_.id();
  auto const& lim = state_->opt.limits;
  if (state_->stopping) co_return;

  if constexpr (kIsTls<Stream>) {
    beast::get_lowest_layer(stream_).expires_after(lim.header_timeout);
    auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server,
                                                 as_tuple(use_awaitable));
    if (ec) {
      fail(ec, "tls handshake", id);
      co_return;
    }
  }

  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    auto const next = co_await serve_one(buffer, first);
    first = false;
    if (next == Next::handed_over) co_return;
    if (next == Next::close) break;
  }
}

// Reads, answers and returns what to do with the connection next. The head
// of the first request must arrive within header_timeout of the accept; on a
// kept-alive connection the wait for the first byte is http_idle_timeout and
// then the head gets header_timeout, so a slowloris cannot reset the clock.
template <class Stream>
asio::awaitable<typename HttpSession<Stream>::Next> HttpSession<Stream>::serve_one(
    beast::flat_buffer& buffer, bool first) {
  auto const id = guard_.id();
  auto const& lim = state_->opt.limits;
  auto& lowest = beast::get_lowest_layer(stream_);
  idle_ = true;
  if (stopping_) co_return Next::close;

  if (!first && buffer.size() == 0) {
    lowest.expires_after(lim.http_idle_timeout);
    auto [ec, n] = co_await stream_.async_read_some(buffer.prepare(4096), as_tuple(use_awaitable));
    if (ec) {
      fail(ec, "read", id);
      co_return Next::close;
    }
    buffer.commit(n);
  }

  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(lim.max_header_bytes));
  parser.body_limit(lim.max_body_bytes);
  lowest.expires_after(lim.header_timeout);
  auto [hec, hn] = co_await http::async_read_header(stream_, buffer, parser, as_tuple(use_awaitable));
  idle_ = false;
  if (!hec) {
    if (auto refusal = refusal_of_head(parser.get())) {
      spdlog::debug("net: conn {} refused request head: {}", id, refusal->body);
      auto ec = co_await respond(*refusal, 11, false, false);
      if (ec) fail(ec, "write", id);
      else co_await close_gracefully(true);
      co_return Next::close;
    }
  }
  if (!hec && !lim.upload_path.empty()) {
    auto target = parser.get().target();
    if (std::string_view(target.data(), target.size()).rfind(lim.upload_path, 0) == 0)
      parser.body_limit(std::max(lim.max_body_bytes, lim.upload_body_bytes));
  }
  if (!hec && !parser.is_done()) {
    // curl and other clients wait (about a second) for this before a body.
    auto const& head = parser.get();
    if (beast::iequals(head[http::field::expect], "100-continue")) {
      http::response<http::empty_body> cont{http::status::continue_, head.version()};
      lowest.expires_after(lim.http_idle_timeout);
      auto [cec, cn] = co_await http::async_write(stream_, cont, as_tuple(use_awaitable));
      if (cec) {
        fail(cec, "write", id);
        co_return Next::close;
      }
    }
    lowest.expires_after(lim.http_idle_timeout);
    auto [bec, bn] = co_await http::async_read(stream_, buffer, parser, as_tuple(use_awaitable));
    hec = bec;
  }

  if (hec) {
    auto refusal = refusal_for(hec);
    if (!refusal)
      fail(hec, "read request", id);
    else
      spdlog::debug("net: conn {} refused request: {}", id, hec.message());
    if (refusal) {
      // The parser is in an unknown state: answer, then close.
      auto ec = co_await respond(*refusal, 11, false, false);
      if (ec) fail(ec, "write", id);
      else co_await close_gracefully(true);
    }
    co_return Next::close;
  }

  Request req = parser.release();
  bool const head_only = req.method() == http::verb::head;
  bool const keep_alive = req.keep_alive() && !stopping_ && !state_->stopping;

  if (is_ws_upgrade(req, state_->opt.ws_path)) {
    auto app_req = to_app_request(req, guard_.ip(), false);
    std::optional<HttpResponse> refusal;
    try {
      refusal = state_->handler.on_ws_upgrade(app_req);
    } catch (std::exception const& e) {
      spdlog::error("net: conn {} on_ws_upgrade threw: {}", id, e.what());
      refusal = error_response(500, "internal", "internal error");
    }
    if (!refusal && (stopping_ || state_->stopping))
      refusal = error_response(503, "unavailable", "server is shutting down");
    if (refusal) {
      auto ec = co_await respond(*refusal, req.version(), false, false);
      if (ec) fail(ec, "write", id);
      else co_await close_gracefully(false);
      co_return Next::close;
    }
    lowest.expires_never();
    start_websocket_session(std::move(stream_), std::move(req), std::move(app_req),
                            std::move(guard_));
    co_return Next::handed_over;
  }

  HttpResponse res;
  try {
    res = co_await state_->handler.on_http(to_app_request(req, guard_.ip(), true));
  } catch (std::exception const& e) {
    spdlog::error("net: conn {} on_http threw: {}", id, e.what());
    res = error_response(500, "internal", "internal error");
  }
  // The server may have begun stopping while the handler worked.
  bool const still_alive = keep_alive && !stopping_ && !state_->stopping;
  auto ec = co_await respond(res, req.version(), still_alive, head_only);
  if (ec) {
    fail(ec, "write", id);
    co_return Next::close;
  }
  if (!still_alive) {
    co_await close_gracefully(false);
    co_return Next::close;
  }
  co_return Next::keep_going;
}

// Serves the app's answer; a file_path is streamed with file_body, and a
// file that cannot be opened becomes a 404 rather than a dropped connection.
template <class Stream>
asio::awaitable<error_code> HttpSession<Stream>::respond(HttpResponse& app, unsigned version,
                                                         bool keep_alive, bool head_only) {
  auto const per_write = state_->opt.limits.http_idle_timeout;
  if (app.file_path) {
    http::response<http::file_body> res;
    error_code fec;
    res.body().open(app.file_path->c_str(), beast::file_mode::scan, fec);
    if (fec) {
      spdlog::warn("net: conn {} cannot open file to serve: {}", guard_.id(), fec.message());
      app = error_response(404, "not_found", "not found");
    } else if (!head_only) {
      fill_head(res, app, version, keep_alive, kIsTls<Stream>);
      res.prepare_payload();
      co_return co_await write_message(stream_, res, per_write);
    } else {
      http::response<http::empty_body> head;
      fill_head(head, app, version, keep_alive, kIsTls<Stream>);
      head.content_length(res.body().size());
      co_return co_await write_message(stream_, head, per_write);
    }
  }
  if (head_only) {
    http::response<http::empty_body> head;
    fill_head(head, app, version, keep_alive, kIsTls<Stream>);
    head.content_length(app.body.size());
    co_return co_await write_message(stream_, head, per_write);
  }
  http::response<http::string_body> res;
  fill_head(res, app, version, keep_alive, kIsTls<Stream>);
  res.body() = std::move(app.body);
  res.prepare_payload();
  co_return co_await write_message(stream_, res, per_write);
}

// Ends the connection politely: TLS close_notify or a TCP half-close, and
// with `linger`, a short drain of whatever the peer is still sending.
template <class Stream>
asio::awaitable<void> HttpSession<Stream>::close_gracefully(bool linger) {
  auto& lowest = beast::get_lowest_layer(stream_);
  error_code ec;
  if constexpr (kIsTls<Stream>) {
    lowest.expires_after(kTlsShutdownTimeout);
    auto [sec] = co_await stream_.async_shutdown(as_tuple(use_awaitable));
    (void)sec;  // peers often just drop the socket; nothing to do about it
  } else {
    lowest.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (linger) {
      lowest.expires_after(kLingerTimeout);
      char sink[4096];
      for (;;) {
        auto [rec, n] = co_await lowest.async_read_some(asio::buffer(sink), as_tuple(use_awaitable));
        if (rec) break;
      }
    }
  }
  lowest.close();
}

void report(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (std::exception const& ex) {
    spdlog::error("net: http session ended by exception: {}", ex.what());
  } catch (...) {
    spdlog::error("net: http session ended by unknown exception");
  }
}

template <class Stream>
void spawn(Stream stream, ConnectionGuard guard) {
  auto ex = guard.state().ex;
  auto session = std::make_shared<HttpSession<Stream>>(std::move(stream), std::move(guard));
  session->attach();
  asio::co_spawn(ex, HttpSession<Stream>::run(std::move(session)), report);
}

}  // namespace

// The same steps as serve_one, on bytes in memory: the fuzzing seam.
ParsedRequest parse_request_in_memory(std::string_view bytes, Limits const& limits,
                                     std::string_view ws_path) {
  ParsedRequest out;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(limits.max_body_bytes);
  parser.eager(true);
  error_code ec;
  std::size_t used = 0;
  while (used < bytes.size() && !parser.is_done()) {
    auto n = parser.put(asio::const_buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec == http::error::need_more) {
      ec = {};
      break;
    }
    if (ec) break;
    if (n == 0) break;
  }
  out.consumed = used;
  if (ec) {
    out.refusal = refusal_for(ec);
    out.kind = out.refusal ? ParsedRequest::Kind::refused : ParsedRequest::Kind::closed;
    return out;
  }
  if (!parser.is_done()) {
    out.kind = ParsedRequest::Kind::incomplete;
    return out;
  }
  if (auto refusal = refusal_of_head(parser.get())) {
    out.refusal = std::move(refusal);
    out.kind = ParsedRequest::Kind::refused;
    return out;
  }
  Request req = parser.release();
  out.kind = is_ws_upgrade(req, ws_path) ? ParsedRequest::Kind::ws_upgrade : ParsedRequest::Kind::http;
  out.keep_alive = req.keep_alive();
  out.request = to_app_request(req, "127.0.0.1", true);
  return out;
}

void start_http_session(tcp::socket socket, ConnectionGuard guard) {
  auto& state = guard.state();
  if (state.tls)
    spawn(TlsStream(PlainStream(std::move(socket)), *state.tls), std::move(guard));
  else
    spawn(PlainStream(std::move(socket)), std::move(guard));
}

}  // namespace exceed::net::detail

namespace exceed::net {

ParsedRequest parse_request(std::string_view bytes, Limits const& limits, std::string_view ws_path) {
  return detail::parse_request_in_memory(bytes, limits, ws_path);
}

}  // namespace exceed::net
