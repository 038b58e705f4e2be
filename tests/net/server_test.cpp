// The network edge against real sockets: a Server on port 0 with a small
// Handler (echo WebSocket, a few HTTP routes) on a background io_context,
// driven by synchronous Beast clients. Every wait is for an event with a
// deadline; a watchdog ends the process if a broken server would hang a test.
#include "net/client_frame.hpp"
#include "net/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using exceed::net::HttpRequest;
using exceed::net::HttpResponse;
using exceed::net::Server;
using exceed::net::ServerOptions;
using exceed::net::WebSocket;
using exceed::net::WebSocketHandler;

// Ends the process if a test runs past its deadline: a sync client blocked on
// a server that never answers would otherwise hang ctest.
class Watchdog {
 public:
  explicit Watchdog(std::chrono::seconds limit)
      : thread_([this, limit] {
          std::unique_lock lock(m_);
          if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
            std::fprintf(stderr, "net test watchdog: test hung, aborting\n");
            std::_Exit(3);
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(m_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// What the test handler saw, shared between the server thread (writes) and
// the test thread (waits).
struct Seen {
  std::mutex m;
  std::condition_variable cv;
  std::atomic<int> opens{0};
  std::atomic<int> closes{0};
  std::atomic<int> binary_messages{0};
  std::vector<std::uint64_t> open_ids;
  std::vector<std::uint64_t> closed_ids;

  template <class F>
  void update(F f) {
    {
      std::lock_guard lock(m);
      f();
    }
    cv.notify_all();
  }
  // True when pred held within the timeout.
  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, timeout, pred);
  }
};

class TestHandler;

// Echoes text; answers a binary message with the text "got binary".
class Echo final : public WebSocketHandler {
 public:
  Echo(Seen& seen, std::shared_ptr<WebSocket> ws) : seen_(seen), ws_(std::move(ws)) {}
  void on_message(std::string_view data, bool text) override {
    if (!text) {
      seen_.update([&] { ++seen_.binary_messages; });
      ws_->send(std::make_shared<std::string const>("got binary"));
      return;
    }
    ws_->send(std::make_shared<std::string const>(data));
  }
  void on_close() override {
    auto const id = ws_->id();
    seen_.update([&] {
      ++seen_.closes;
      seen_.closed_ids.push_back(id);
    });
  }

 private:
  Seen& seen_;
  std::shared_ptr<WebSocket> ws_;  // a cycle net breaks after on_close
};

class TestHandler final : public exceed::net::Handler {
 public:
  Seen seen;
  std::string file_path;
  std::vector<std::shared_ptr<WebSocket>> sockets;  // server thread only

  asio::awaitable<HttpResponse> on_http(HttpRequest req) override {
    HttpResponse res;
    if (req.method == "GET" && req.target == "/hello") {
      res.body = R"({"hello":"world"})";
    } else if (req.method == "POST" && req.target == "/echo") {
      res.content_type = "text/plain";
      res.body = req.body;
    } else if (req.target.rfind("/n/", 0) == 0) {
      res.content_type = "text/plain";
      res.body = req.target.substr(3);
    } else if (req.target == "/file") {
      res.content_type = "text/plain";
      res.file_path = file_path;
    } else {
      res.status = 404;
      res.body = R"({"error":{"code":"not_found","message":"no route"}})";
    }
    co_return res;
  }

  std::optional<HttpResponse> on_ws_upgrade(HttpRequest const& req) override {
    if (req.header("origin") == std::optional<std::string_view>{"https://evil.example"}) {
      HttpResponse res;
      res.status = 403;
      res.body = R"({"error":{"code":"forbidden","message":"bad origin"}})";
      return res;
    }
    return std::nullopt;
  }

  std::shared_ptr<WebSocketHandler> on_ws_open(std::shared_ptr<WebSocket> ws,
                                               HttpRequest const&) override {
    auto const id = ws->id();
    sockets.push_back(ws);
    seen.update([&] {
      ++seen.opens;
      seen.open_ids.push_back(id);
    });
    return std::make_shared<Echo>(seen, std::move(ws));
  }
};

// A Server on 127.0.0.1:0 running on its own thread, plus an io_context for
// the test's synchronous clients.
class Fixture {
 public:
  explicit Fixture(ServerOptions opt = {}) {
    opt.host = "127.0.0.1";
    opt.port = 0;
    server_ = Server::create(ioc_.get_executor(), std::move(opt), handler);
    server_->start();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~Fixture() { shutdown(); }

  // Runs f on the server's thread and returns its result.
  template <class F>
  auto on_server(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(ioc_, [&task] { task(); });
    return result.get();
  }

  // Stops the server (grace 3 s), waits for done, then joins the thread.
  // Returns whether done came. After this, every callback has run.
  bool shutdown() {
    if (!thread_.joinable()) return stopped_;
    std::promise<void> done;
    auto fut = done.get_future();
    on_server([&] { server_->stop(3000ms, [&done] { done.set_value(); }); });
    stopped_ = fut.wait_for(10s) == std::future_status::ready;
    on_server([this] { handler.sockets.clear(); });
    // No stop(): run() returning on its own proves nothing was left behind
    // (the watchdog catches the opposite).
    work_.reset();
    thread_.join();
    return stopped_;
  }

  std::size_t connections() {
    return on_server([this] { return server_->connections(); });
  }

  tcp::endpoint endpoint() const {
    return {asio::ip::make_address("127.0.0.1"), server_->port()};
  }

  Server& server() { return *server_; }

  Watchdog watchdog{60s};
  TestHandler handler;
  asio::io_context client_ioc;

 private:
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ =
      asio::make_work_guard(ioc_);
  std::unique_ptr<Server> server_;
  std::thread thread_;
  bool stopped_ = false;
};

http::request<http::string_body> make_request(http::verb verb, std::string target,
                                              std::string body = {}) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "localhost");
  if (!body.empty()) {
    req.set(http::field::content_type, "text/plain");
    req.body() = std::move(body);
  }
  req.prepare_payload();
  return req;
}

template <class Stream>
http::response<http::string_body> round_trip(Stream& stream, beast::flat_buffer& buffer,
                                             http::request<http::string_body> const& req) {
  http::write(stream, req);
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return res;
}

// Reads until the server closes; returns the error that ended the read.
beast::error_code read_until_closed(tcp::socket& socket) {
  char sink[4096];
  beast::error_code ec;
  while (!ec) socket.read_some(asio::buffer(sink), ec);
  return ec;
}

bool is_closed_by_peer(beast::error_code ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset;
}

using WsClient = websocket::stream<beast::tcp_stream>;

std::unique_ptr<WsClient> connect_ws(Fixture& f) {
  auto ws = std::make_unique<WsClient>(f.client_ioc);
  beast::get_lowest_layer(*ws).connect(f.endpoint());
  ws->handshake("localhost", "/ws");
  return ws;
}

std::string read_text(WsClient& ws) {
  beast::flat_buffer buffer;
  ws.read(buffer);
  return beast::buffers_to_string(buffer.data());
}

// A temporary directory removed at scope exit.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/exceed-net-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

}  // namespace

// ---------------------------------------------------------------------------
// HTTP

TEST_CASE("HTTP requests are answered by the handler", "[net][http]") {
  Fixture f;
  tcp::socket socket(f.client_ioc);
  socket.connect(f.endpoint());
  beast::flat_buffer buffer;

  SECTION("GET returns the route's JSON") {
    auto res = round_trip(socket, buffer, make_request(http::verb::get, "/hello"));
    CHECK(res.result_int() == 200);
    CHECK(res[http::field::content_type] == "application/json");
    CHECK(res.body() == R"({"hello":"world"})");
    CHECK(res.keep_alive());
  }
  SECTION("POST body reaches the handler") {
    auto res = round_trip(socket, buffer, make_request(http::verb::post, "/echo", "hi there"));
    CHECK(res.result_int() == 200);
    CHECK(res.body() == "hi there");
  }
  SECTION("a body sent after Expect: 100-continue waits for the interim answer") {
    asio::write(socket, asio::buffer(std::string("POST /echo HTTP/1.1\r\nHost: localhost\r\n"
                                                 "Content-Length: 5\r\n"
                                                 "Expect: 100-continue\r\n\r\n")));
    std::string interim;
    asio::read_until(socket, asio::dynamic_buffer(interim), "\r\n\r\n");
    CHECK(interim.rfind("HTTP/1.1 100 Continue\r\n", 0) == 0);
    asio::write(socket, asio::buffer(std::string("12345")));
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    CHECK(res.result_int() == 200);
    CHECK(res.body() == "12345");
  }
  SECTION("an unknown route gets the handler's 404") {
    auto res = round_trip(socket, buffer, make_request(http::verb::get, "/nope"));
    CHECK(res.result_int() == 404);
  }
  SECTION("a file response streams the file with its length") {
    TempDir dir;
    auto const path = dir.path / "page.txt";
    std::string content(100'000, 'x');
    content += "end";
    std::ofstream(path) << content;
    f.on_server([&] { f.handler.file_path = path.string(); });
    auto res = round_trip(socket, buffer, make_request(http::verb::get, "/file"));
    CHECK(res.result_int() == 200);
    CHECK(res[http::field::content_length] == std::to_string(content.size()));
    CHECK(res.body() == content);
  }
}

TEST_CASE("A keep-alive connection answers pipelined requests in order", "[net][http]") {
  Fixture f;
  tcp::socket socket(f.client_ioc);
  socket.connect(f.endpoint());
  // Both requests in one write: the second is already buffered while the
  // first is being answered.
  std::string const two =
      "GET /n/first HTTP/1.1\r\nHost: localhost\r\n\r\n"
      "GET /n/second HTTP/1.1\r\nHost: localhost\r\n\r\n";
  asio::write(socket, asio::buffer(two));
  beast::flat_buffer buffer;
  http::response<http::string_body> a, b;
  http::read(socket, buffer, a);
  http::read(socket, buffer, b);
  CHECK(a.body() == "first");
  CHECK(b.body() == "second");
  // Still open for a third.
  auto c = round_trip(socket, buffer, make_request(http::verb::get, "/n/third"));
  CHECK(c.body() == "third");
  CHECK(f.connections() == 1);
}

TEST_CASE("Requests that break the limits get an error and the connection closes",
          "[net][http]") {
  ServerOptions opt;
  opt.limits.max_body_bytes = 1024;
  opt.limits.max_header_bytes = 1024;
  Fixture f(opt);
  tcp::socket socket(f.client_ioc);
  socket.connect(f.endpoint());
  beast::flat_buffer buffer;
  http::response<http::string_body> res;

  SECTION("a body over max_body_bytes gets 413 too_large") {
    http::write(socket, make_request(http::verb::post, "/echo", std::string(4096, 'b')));
    http::read(socket, buffer, res);
    CHECK(res.result_int() == 413);
    CHECK(res[http::field::content_type] == "application/json");
    CHECK(res.body().find(R"("code":"too_large")") != std::string::npos);
  }
  SECTION("a header block over max_header_bytes gets 431") {
    auto req = make_request(http::verb::get, "/hello");
    req.set("X-Padding", std::string(2048, 'p'));
    http::write(socket, req);
    http::read(socket, buffer, res);
    CHECK(res.result_int() == 431);
  }
  SECTION("a malformed request gets 400 bad_request") {
    asio::write(socket, asio::buffer(std::string("THIS IS NOT HTTP\r\n\r\n")));
    http::read(socket, buffer, res);
    CHECK(res.result_int() == 400);
    CHECK(res.body().find(R"("code":"bad_request")") != std::string::npos);
  }
  CHECK_FALSE(res.keep_alive());
  CHECK(is_closed_by_peer(read_until_closed(socket)));
}

TEST_CASE("A client that sends half a request head is cut off after header_timeout",
          "[net][http]") {
  ServerOptions opt;
  opt.limits.header_timeout = 1s;
  Fixture f(opt);
  tcp::socket socket(f.client_ioc);
  socket.connect(f.endpoint());
  auto const start = std::chrono::steady_clock::now();
  asio::write(socket, asio::buffer(std::string("GET /hello HTTP/1.1\r\nHost: loc")));
  auto const ec = read_until_closed(socket);
  auto const elapsed = std::chrono::steady_clock::now() - start;
  CHECK(is_closed_by_peer(ec));
  CHECK(elapsed >= 900ms);
  CHECK(elapsed < 3s);
}

// ---------------------------------------------------------------------------
// WebSocket

TEST_CASE("A WebSocket upgrade the app refuses gets its status and no upgrade",
          "[net][ws]") {
  Fixture f;
  WsClient ws(f.client_ioc);
  beast::get_lowest_layer(ws).connect(f.endpoint());
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(http::field::origin, "https://evil.example");
  }));
  websocket::response_type res;
  beast::error_code ec;
  ws.handshake(res, "localhost", "/ws", ec);
  CHECK(ec == websocket::error::upgrade_declined);
  CHECK(res.result_int() == 403);
  CHECK(res.body().find("forbidden") != std::string::npos);
  f.shutdown();
  CHECK(f.handler.seen.opens == 0);
}

TEST_CASE("WebSocket messages reach the handler with their kind", "[net][ws]") {
  Fixture f;
  auto ws = connect_ws(f);

  SECTION("a text message is echoed") {
    ws->text(true);
    ws->write(asio::buffer(std::string("hello")));
    CHECK(read_text(*ws) == "hello");
    ws->write(asio::buffer(std::string("again")));
    CHECK(read_text(*ws) == "again");
  }
  SECTION("messages of every header size, cut by reads or many in one write, arrive whole and in order") {
    // 125/126 and 65535/65536 bytes are where the frame header's length
    // form changes; 60,000 bytes arrive in several reads (the session keeps
    // the cut frame in its pending bytes).
    ws->text(true);
    for (std::size_t size : {1, 125, 126, 2000, 60000, 65535, 65536}) {
      std::string text(size, 'a');
      for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + (i * 7 + size) % 26);
      ws->write(asio::buffer(text));
      CHECK(read_text(*ws) == text);
    }
    // 40 masked frames of 100 bytes written at once: 4,240 bytes in one read.
    std::vector<std::string> texts;
    std::string burst;
    for (int n = 0; n < 40; ++n) {
      texts.push_back("frame " + std::to_string(n) + " ");
      texts.back().resize(100, static_cast<char>('A' + n % 26));
      burst += exceed::test::client_frame(0x1, texts.back());
    }
    asio::write(beast::get_lowest_layer(*ws), asio::buffer(burst));
    for (auto const& text : texts) CHECK(read_text(*ws) == text);
  }
  SECTION("a binary message arrives with text=false") {
    ws->binary(true);
    ws->write(asio::buffer(std::string("\x01\x02", 2)));
    CHECK(read_text(*ws) == "got binary");
    CHECK(f.handler.seen.binary_messages == 1);
  }
  ws->close(websocket::close_code::normal);
  REQUIRE(f.handler.seen.wait([&] { return f.handler.seen.closes == 1; }));
  CHECK(f.shutdown());
  CHECK(f.handler.seen.opens == 1);
  CHECK(f.handler.seen.closes == 1);
}

TEST_CASE("An oversize WebSocket message closes with 1009 and on_close runs once",
          "[net][ws]") {
  ServerOptions opt;
  opt.limits.max_frame_bytes = 1024;
  Fixture f(opt);
  auto ws = connect_ws(f);
  ws->write(asio::buffer(std::string(512, 'a')));
  CHECK(read_text(*ws).size() == 512);  // under the limit: fine

  ws->write(asio::buffer(std::string(4096, 'a')));
  beast::flat_buffer buffer;
  beast::error_code ec;
  ws->read(buffer, ec);
  CHECK(ec == websocket::error::closed);
  CHECK(ws->reason().code == websocket::close_code::too_big);
  REQUIRE(f.handler.seen.wait([&] { return f.handler.seen.closes >= 1; }));
  CHECK(f.shutdown());
  // Every callback has run by now: exactly one on_close for one socket.
  CHECK(f.handler.seen.opens == 1);
  CHECK(f.handler.seen.closes == 1);
}

TEST_CASE("A client that never reads is dropped while others keep their frames",
          "[net][ws]") {
  ServerOptions opt;
  opt.limits.out_queue_max_bytes = 256 * 1024;
  Fixture f(opt);
  auto& seen = f.handler.seen;

  auto slow = connect_ws(f);
  REQUIRE(seen.wait([&] { return seen.opens == 1; }));
  auto const slow_id = [&] {
    std::lock_guard lock(seen.m);
    return seen.open_ids.at(0);
  }();
  auto fast = connect_ws(f);
  REQUIRE(seen.wait([&] { return seen.opens == 2; }));

  // Broadcast 32 KiB frames; the fast client reads each one, the slow client
  // none. Kernel buffers absorb a few MiB before the slow queue grows.
  auto const slow_dropped = [&] {
    std::lock_guard lock(seen.m);
    return std::find(seen.closed_ids.begin(), seen.closed_ids.end(), slow_id) !=
           seen.closed_ids.end();
  };
  int sent = 0;
  for (; sent < 3000 && !slow_dropped(); ++sent) {
    auto frame = std::make_shared<std::string const>(std::to_string(sent) + ":" +
                                                     std::string(32 * 1024, 'f'));
    f.on_server([&] {
      for (auto& s : f.handler.sockets)
        if (s->is_open()) s->send(frame);
    });
    auto got = read_text(*fast);
    REQUIRE(got.substr(0, got.find(':')) == std::to_string(sent));
  }
  CHECK(slow_dropped());
  CHECK(sent < 3000);
  // The fast client is untouched: still open and still served.
  fast->write(asio::buffer(std::string("still here")));
  CHECK(read_text(*fast) == "still here");
  CHECK(f.connections() == 1);
  fast->close(websocket::close_code::normal);
  CHECK(f.shutdown());
  CHECK(seen.closes == 2);
}

TEST_CASE("stop() closes WebSockets with 1001, ends idle HTTP and calls done", "[net][ws]") {
  Fixture f;
  auto ws = connect_ws(f);
  ws->write(asio::buffer(std::string("ping me")));
  CHECK(read_text(*ws) == "ping me");
  tcp::socket idle_http(f.client_ioc);
  idle_http.connect(f.endpoint());
  beast::flat_buffer buffer;
  CHECK(round_trip(idle_http, buffer, make_request(http::verb::get, "/hello")).result_int() == 200);
  CHECK(f.connections() == 2);

  std::promise<std::size_t> done;
  auto done_future = done.get_future();
  f.on_server([&] {
    f.server().stop(5000ms, [&] { done.set_value(f.server().connections()); });
  });

  beast::error_code ec;
  beast::flat_buffer ws_buffer;
  ws->read(ws_buffer, ec);
  CHECK(ec == websocket::error::closed);
  CHECK(ws->reason().code == websocket::close_code::going_away);
  CHECK(is_closed_by_peer(read_until_closed(idle_http)));
  REQUIRE(done_future.wait_for(5s) == std::future_status::ready);
  CHECK(done_future.get() == 0);
  // The listener is closed: a new connection is refused.
  tcp::socket late(f.client_ioc);
  beast::error_code connect_ec;
  late.connect(f.endpoint(), connect_ec);
  CHECK(connect_ec == asio::error::connection_refused);
}

TEST_CASE("Connections over a limit are accepted and closed at once", "[net]") {
  ServerOptions opt;
  SECTION("max_connections_per_ip") { opt.limits.max_connections_per_ip = 2; }
  SECTION("max_connections") { opt.limits.max_connections = 2; }
  Fixture f(opt);
  beast::flat_buffer b1, b2;
  tcp::socket first(f.client_ioc), second(f.client_ioc), third(f.client_ioc);
  first.connect(f.endpoint());
  second.connect(f.endpoint());
  // An answer proves the server admitted the socket before the next connects.
  CHECK(round_trip(first, b1, make_request(http::verb::get, "/n/1")).body() == "1");
  CHECK(round_trip(second, b2, make_request(http::verb::get, "/n/2")).body() == "2");

  third.connect(f.endpoint());
  CHECK(is_closed_by_peer(read_until_closed(third)));
  CHECK(f.connections() == 2);

  // Room again once one leaves.
  first.close();
  auto const deadline = std::chrono::steady_clock::now() + 5s;
  while (f.connections() != 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  REQUIRE(f.connections() == 1);
  tcp::socket fourth(f.client_ioc);
  fourth.connect(f.endpoint());
  beast::flat_buffer b4;
  CHECK(round_trip(fourth, b4, make_request(http::verb::get, "/n/4")).body() == "4");
}

// ---------------------------------------------------------------------------
// TLS

TEST_CASE("With a certificate, the server speaks HTTPS and WSS only", "[net][tls]") {
  TempDir dir;
  auto const cert = (dir.path / "cert.pem").string();
  auto const key = (dir.path / "key.pem").string();
  auto const cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost"
                   " -keyout " + key + " -out " + cert + " >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);

  ServerOptions opt;
  opt.tls_cert_file = cert;
  opt.tls_key_file = key;
  Fixture f(opt);
  asio::ssl::context client_tls(asio::ssl::context::tls_client);
  client_tls.set_verify_mode(asio::ssl::verify_none);  // self-signed, test only

  SECTION("HTTPS GET") {
    beast::ssl_stream<beast::tcp_stream> stream(f.client_ioc, client_tls);
    beast::get_lowest_layer(stream).connect(f.endpoint());
    stream.handshake(asio::ssl::stream_base::client);
    beast::flat_buffer buffer;
    auto res = round_trip(stream, buffer, make_request(http::verb::get, "/hello"));
    CHECK(res.result_int() == 200);
    CHECK(res.body() == R"({"hello":"world"})");
  }
  SECTION("WSS echo") {
    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(f.client_ioc, client_tls);
    beast::get_lowest_layer(ws).connect(f.endpoint());
    ws.next_layer().handshake(asio::ssl::stream_base::client);
    ws.handshake("localhost", "/ws");
    ws.write(asio::buffer(std::string("secure hello")));
    beast::flat_buffer buffer;
    ws.read(buffer);
    CHECK(beast::buffers_to_string(buffer.data()) == "secure hello");
    ws.close(websocket::close_code::normal);
  }
  SECTION("plain HTTP gets no answer") {
    tcp::socket socket(f.client_ioc);
    socket.connect(f.endpoint());
    http::write(socket, make_request(http::verb::get, "/hello"));
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    beast::error_code ec;
    http::read(socket, buffer, res, ec);
    CHECK(ec);
  }
  CHECK(f.shutdown());
}

TEST_CASE("Only a matching certificate and key pair starts a TLS server", "[net][tls]") {
  asio::io_context ioc;
  TestHandler handler;
  ServerOptions opt;
  opt.port = 0;
  opt.tls_cert_file = "/nonexistent/cert.pem";
  SECTION("cert without key") {
    CHECK_THROWS_AS(Server::create(ioc.get_executor(), opt, handler), std::invalid_argument);
  }
  SECTION("unreadable files") {
    opt.tls_key_file = "/nonexistent/key.pem";
    CHECK_THROWS_AS(Server::create(ioc.get_executor(), opt, handler), std::system_error);
  }
}

TEST_CASE("A client's ping is answered with its payload, and frames sent in one turn arrive whole and in order",
          "[net][ws]") {
  Fixture f;
  auto ws = connect_ws(f);
  REQUIRE(f.handler.seen.wait([&] { return f.handler.seen.opens == 1; }));
  std::string pong;
  ws->control_callback([&](websocket::frame_type kind, beast::string_view payload) {
    if (kind == websocket::frame_type::pong) pong = std::string(payload);
  });
  ws->ping("are you there");
  // The pong is read before the echo that follows it.
  ws->write(asio::buffer(std::string("after the ping")));
  CHECK(read_text(*ws) == "after the ping");
  CHECK(pong == "are you there");

  // 120 frames of every length class (7-bit, 16-bit and one 64-bit length)
  // queued in one turn of the server's loop leave in gathered writes, under
  // the out queue's 1 MiB; the client reads each one, in order.
  std::vector<std::shared_ptr<std::string const>> frames;
  for (int i = 0; i < 120; ++i) {
    std::size_t const size = i == 5 ? 70'000 : i % 3 == 0 ? 10 : i % 3 == 1 ? 300 : 20'000;
    frames.push_back(std::make_shared<std::string const>(std::to_string(i) + ":" + std::string(size, 'z')));
  }
  f.on_server([&] {
    for (auto const& fr : frames) f.handler.sockets.at(0)->send(fr);
  });
  for (int i = 0; i < 120; ++i) REQUIRE(read_text(*ws) == *frames[static_cast<std::size_t>(i)]);
  ws->close(websocket::close_code::normal);
  CHECK(f.shutdown());
}

TEST_CASE("A client's close is answered with its code, and the server closes the connection", "[net][ws]") {
  Fixture f;
  auto ws = connect_ws(f);
  REQUIRE(f.handler.seen.wait([&] { return f.handler.seen.opens == 1; }));
  // Beast's close waits for the server's close frame and the end of the
  // TCP connection, and throws if either does not come.
  ws->close(websocket::close_reason(static_cast<websocket::close_code>(4000), "done here"));
  CHECK(ws->reason().code == 4000);
  REQUIRE(f.handler.seen.wait([&] { return f.handler.seen.closes == 1; }));
  CHECK(f.shutdown());
}

TEST_CASE("A frame that breaks the protocol is closed with 1002, text that is not UTF-8 with 1007", "[net][ws]") {
  Fixture f;
  {
    auto ws = connect_ws(f);
    ws->write(asio::buffer(std::string("caf\xC3")));  // Beast's client sends it as it is
    beast::flat_buffer buffer;
    beast::error_code ec;
    ws->read(buffer, ec);
    CHECK(ec == websocket::error::closed);
    CHECK(ws->reason().code == websocket::close_code::bad_payload);
  }
  {
    // An unmasked frame, written by hand after a Beast handshake.
    auto ws = connect_ws(f);
    auto& sock = ws->next_layer();
    std::string const unmasked = "\x81\x02hi";
    asio::write(sock, asio::buffer(unmasked));
    beast::flat_buffer buffer;
    beast::error_code ec;
    ws->read(buffer, ec);
    CHECK(ec == websocket::error::closed);
    CHECK(ws->reason().code == websocket::close_code::protocol_error);
  }
  REQUIRE(f.handler.seen.wait([&] { return f.handler.seen.closes == 2; }));
  CHECK(f.shutdown());
}

TEST_CASE("A silent client is pinged after half the idle timeout, and one that answers stays", "[net][ws]") {
  ServerOptions opt;
  opt.limits.ws_idle_timeout = std::chrono::seconds(2);
  Fixture f(opt);
  auto ws = connect_ws(f);
  REQUIRE(f.handler.seen.wait([&] { return f.handler.seen.opens == 1; }));
  std::mutex m;
  std::condition_variable cv;
  int pings = 0;
  ws->control_callback([&](websocket::frame_type kind, beast::string_view) {
    if (kind != websocket::frame_type::ping) return;  // Beast answers each with a pong
    std::lock_guard lock(m);
    ++pings;
    cv.notify_all();
  });
  // A ping after 1 s of silence; answered, the server hears the pong, so
  // at 2 s it does not drop the client, and at 3 s it pings again. Two pings
  // seen: the client outlived the idle timeout by answering.
  std::thread nudge([&] {
    std::unique_lock lock(m);
    cv.wait_for(lock, 10s, [&] { return pings >= 2; });
    lock.unlock();
    f.on_server([&] { f.handler.sockets.at(0)->send(std::make_shared<std::string const>("still here")); });
  });
  CHECK(read_text(*ws) == "still here");
  nudge.join();
  CHECK(pings >= 2);
  CHECK(f.handler.seen.closes == 0);
  ws->close(websocket::close_code::normal);
  CHECK(f.shutdown());
}
