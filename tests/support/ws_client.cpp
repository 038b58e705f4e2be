#include "support/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace exceed::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;

json::value HttpResult::json() const {
  std::error_code ec;
  auto v = json::parse(body, ec);
  return ec ? json::value(nullptr) : v;
}

std::string HttpResult::header(std::string const& name) const {
  for (auto const& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return {};
}

HttpResult http(std::uint16_t port, std::string const& method, std::string const& target, std::string const& body,
                std::vector<std::pair<std::string, std::string>> const& headers) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), target, 11);
  req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port));
  req.set(bhttp::field::content_type, "application/json");
  for (auto const& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  bhttp::read(stream, buf, parser);
  auto& res = parser.get();
  HttpResult out;
  out.status = res.result_int();
  out.body = res.body();
  for (auto const& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return out;
}

struct WsClient::Impl {
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buf;
  std::deque<Frame> backlog;
  bool reading = false;
  bool closed = false;
  std::uint16_t close_code = 0;
  std::string close_reason;
  std::optional<std::string> ready;  // a frame read but not yet taken
  long next_id = 0;

  void start_read() {
    if (reading || closed) return;
    reading = true;
    ws.async_read(buf, [this](beast::error_code ec, std::size_t) {
      reading = false;
      if (ec) {
        closed = true;
        close_code = ws.reason().code;
        close_reason = std::string(ws.reason().reason.c_str());
        return;
      }
      ready = beast::buffers_to_string(buf.data());
      buf.consume(buf.size());
    });
  }

  // One raw frame within the timeout.
  std::optional<std::string> read_raw(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!ready && !closed) {
      start_read();
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) break;
      io.restart();
      io.run_one_for(left);
    }
    if (!ready) return std::nullopt;
    auto out = std::move(*ready);
    ready.reset();
    return out;
  }

  std::optional<Frame> read_frame(std::chrono::milliseconds timeout) {
    auto raw = read_raw(timeout);
    if (!raw) return std::nullopt;
    auto v = json::parse(*raw);
    if (!v.is_object()) throw std::runtime_error("server sent a non-object frame: " + *raw);
    return std::move(v.get_object());
  }

  void write(std::string const& text, bool binary) {
    ws.text(!binary);
    beast::error_code ec;
    ws.write(asio::buffer(text), ec);
    if (ec && ec != websocket::error::closed && ec != asio::error::broken_pipe &&
        ec != asio::error::connection_reset)
      throw std::runtime_error("ws write: " + ec.message());
  }
};

WsClient::WsClient(std::uint16_t port, WsOptions opt) : impl_(std::make_unique<Impl>()) {
  auto& s = beast::get_lowest_layer(impl_->ws);
  s.socket().open(tcp::v4());
  if (!opt.bind_address.empty()) s.socket().bind(tcp::endpoint(asio::ip::make_address(opt.bind_address), 0));
  s.expires_after(std::chrono::seconds(10));
  s.socket().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  s.expires_never();
  impl_->ws.set_option(websocket::stream_base::decorator([opt](websocket::request_type& req) {
    if (!opt.origin.empty()) req.set(bhttp::field::origin, opt.origin);
  }));
  impl_->ws.read_message_max(64 * 1024 * 1024);
  websocket::response_type res;
  beast::error_code ec;
  impl_->ws.handshake(res, opt.host + ":" + std::to_string(port), "/ws", ec);
  if (ec) throw std::runtime_error("ws handshake refused: HTTP " + std::to_string(res.result_int()) + " " + res.body());
}

WsClient::~WsClient() = default;
WsClient::WsClient(WsClient&&) noexcept = default;
WsClient& WsClient::operator=(WsClient&&) noexcept = default;

void WsClient::send(Frame const& frame) { impl_->write(json::serialize(frame), false); }
void WsClient::send_text(std::string const& text) { impl_->write(text, false); }
void WsClient::send_binary(std::string const& bytes) { impl_->write(bytes, true); }

std::optional<Frame> WsClient::next(std::chrono::milliseconds timeout) {
  if (!impl_->backlog.empty()) {
    auto f = std::move(impl_->backlog.front());
    impl_->backlog.pop_front();
    return f;
  }
  return impl_->read_frame(timeout);
}

Frame WsClient::expect(std::function<bool(Frame const&)> const& pred, std::chrono::milliseconds timeout,
                       std::string const& what) {
  for (auto it = impl_->backlog.begin(); it != impl_->backlog.end(); ++it) {
    if (pred(*it)) {
      auto f = std::move(*it);
      impl_->backlog.erase(it);
      return f;
    }
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto f = impl_->read_frame(left);
    if (!f) break;
    if (pred(*f)) return std::move(*f);
    impl_->backlog.push_back(std::move(*f));
  }
  std::string seen;
  for (auto const& f : impl_->backlog) seen += "\n  " + json::serialize(f);
  throw std::runtime_error("timed out waiting for " + what + (impl_->closed ? " (socket closed)" : "") +
                           "; unmatched frames:" + seen);
}

Frame WsClient::expect_type(std::string const& type, std::chrono::milliseconds timeout) {
  return expect([&](Frame const& f) { return is_type(f, type); }, timeout, "a '" + type + "' frame");
}

Frame WsClient::request(Frame frame, std::chrono::milliseconds timeout) {
  auto id = "r" + std::to_string(++impl_->next_id);
  frame["id"] = id;
  send(frame);
  return expect(
      [&](Frame const& f) {
        auto const* fid = f.if_contains("id");
        return fid && fid->is_string() && fid->get_string() == id && (is_type(f, "ack") || is_type(f, "error"));
      },
      timeout, "the answer to " + json::serialize(frame));
}

bool WsClient::none(std::function<bool(Frame const&)> const& pred, std::chrono::milliseconds window) {
  try {
    expect(pred, window);
    return false;
  } catch (std::runtime_error const&) {
    return true;
  }
}

Frame WsClient::hello(std::string const& token, json::array resume) {
  Frame h;
  h["type"] = "hello";
  h["token"] = token;
  if (!resume.empty()) h["resume"] = std::move(resume);
  send(h);
  return expect([](Frame const& f) { return is_type(f, "welcome") || is_type(f, "error"); }, 5s, "welcome");
}

std::optional<std::uint16_t> WsClient::wait_closed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!impl_->closed) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    if (auto raw = impl_->read_raw(left)) {
      auto v = json::parse(*raw);
      if (v.is_object()) impl_->backlog.push_back(std::move(v.get_object()));
    }
  }
  return impl_->close_code;
}

std::string WsClient::close_reason() const { return impl_->close_reason; }
bool WsClient::is_open() const { return !impl_->closed; }

void WsClient::close() {
  if (impl_->closed) return;
  beast::error_code ec;
  impl_->ws.close(websocket::close_code::normal, ec);
  impl_->closed = true;
}

void WsClient::drop() {
  beast::error_code ec;
  auto& sock = beast::get_lowest_layer(impl_->ws).socket();
  sock.set_option(asio::socket_base::linger(true, 0), ec);
  sock.close(ec);
  impl_->closed = true;
}

std::deque<Frame> const& WsClient::backlog() const { return impl_->backlog; }

bool is_type(Frame const& f, std::string const& type) {
  auto const* t = f.if_contains("type");
  return t && t->is_string() && t->get_string() == type;
}

std::pair<std::string, std::string> new_visitor(std::uint16_t port, std::string const& name) {
  json::object body;
  body["name"] = name;
  auto r = http(port, "POST", "/api/v1/visitors", json::serialize(body));
  if (r.status != 201) throw std::runtime_error("POST /api/v1/visitors: " + std::to_string(r.status) + " " + r.body);
  auto v = r.json();
  return {std::string(v.at("visitor_id").as_string()), std::string(v.at("token").as_string())};
}

std::string login(std::uint16_t port, std::string const& username, std::string const& password) {
  json::object body;
  body["username"] = username;
  body["password"] = password;
  auto r = http(port, "POST", "/api/v1/login", json::serialize(body));
  if (r.status != 200) throw std::runtime_error("login " + username + ": " + std::to_string(r.status) + " " + r.body);
  return std::string(r.json().at("token").as_string());
}

}  // namespace exceed::test
