// The Server object, the listener and the registry of live connections.
// Only Asio's socket and TLS-context parts appear here; the Beast-heavy
// session templates live in http_session.cpp and websocket_session.cpp.
#include "net/server_state.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/http/error.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace exceed::net {

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  auto const same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
             return std::tolower(x) == std::tolower(y);
           });
  };
  for (auto const& h : headers)
    if (same(h.name, name)) return std::string_view{h.value};
  return std::nullopt;
}

namespace detail {

std::uint64_t next_id() noexcept {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}

bool is_normal_close(boost::system::error_code ec) noexcept {
  namespace websocket = beast::websocket;
  return ec == asio::error::operation_aborted || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::bad_descriptor || ec == asio::error::not_connected ||
         ec == beast::error::timeout || ec == websocket::error::closed ||
         ec == http::error::end_of_stream || ec == asio::ssl::error::stream_truncated;
}

void fail(boost::system::error_code ec, char const* what, std::uint64_t conn_id) {
  if (is_normal_close(ec)) {
    spdlog::debug("net: conn {} {}: {}", conn_id, what, ec.message());
    return;
  }
  spdlog::warn("net: conn {} {}: {}", conn_id, what, ec.message());
}

// ---------------------------------------------------------------------------
// Registry

ConnectionGuard::ConnectionGuard(std::shared_ptr<ServerState> state, std::uint64_t id,
                                 std::string ip)
    : state_(std::move(state)), id_(id), ip_(std::move(ip)) {}

ConnectionGuard::ConnectionGuard(ConnectionGuard&& other) noexcept
    : state_(std::move(other.state_)), id_(other.id_), ip_(std::move(other.ip_)) {
  other.id_ = 0;
}

ConnectionGuard::~ConnectionGuard() {
  if (state_) state_->forget(id_, ip_);
}

void ConnectionGuard::attach(std::weak_ptr<Connection> session) const {
  auto it = state_->live_.find(id_);
  if (it != state_->live_.end()) it->second = std::move(session);
}

ServerState::ServerState(asio::any_io_executor executor, ServerOptions options, Handler& h)
    : ex(executor), opt(std::move(options)), handler(h), acceptor(executor),
      grace_timer_(executor) {}

std::optional<ConnectionGuard> ServerState::admit(std::string const& ip) {
  auto const& lim = opt.limits;
  char const* refused = nullptr;
  if (live_.size() >= lim.max_connections)
    refused = "max_connections";
  else if (lim.max_connections_per_ip != 0 && per_ip_[ip] >= lim.max_connections_per_ip)
    refused = "max_connections_per_ip";
  if (refused) {
    // A flood of refused sockets must not become a flood of log lines.
    auto const now = std::chrono::steady_clock::now();
    if (now - last_limit_log_ >= std::chrono::seconds(1)) {
      last_limit_log_ = now;
      spdlog::warn("net: refusing connection from {}: {} reached", ip, refused);
    }
    auto it = per_ip_.find(ip);
    if (it != per_ip_.end() && it->second == 0) per_ip_.erase(it);
    return std::nullopt;
  }
  auto const id = next_id();
  live_.emplace(id, std::weak_ptr<Connection>{});
  live_count_.store(live_.size(), std::memory_order_relaxed);
  ++per_ip_[ip];
  return ConnectionGuard{shared_from_this(), id, ip};
}

void ServerState::forget(std::uint64_t id, std::string const& ip) {
  if (live_.erase(id) == 0) return;
  live_count_.store(live_.size(), std::memory_order_relaxed);
  auto it = per_ip_.find(ip);
  if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
  spdlog::debug("net: conn {} from {} gone ({} open)", id, ip, live_.size());
  if (stopping && live_.empty()) finish_stop();
}

void ServerState::kill_all() {
  // Copy first: kill() may end a session synchronously in a later version,
  // which would erase from live_ while we iterate.
  std::vector<std::shared_ptr<Connection>> alive;
  for (auto& [id, weak] : live_)
    if (auto c = weak.lock()) alive.push_back(std::move(c));
  for (auto& c : alive) c->kill();
}

void ServerState::begin_stop(std::chrono::milliseconds grace, std::function<void()> done) {
  if (stopping) {
    // A second stop only adds nothing but its callback; keep the first.
    if (done) asio::post(ex, std::move(done));
    return;
  }
  stopping = true;
  done_ = std::move(done);
  boost::system::error_code ignored;
  acceptor.close(ignored);

  std::vector<std::shared_ptr<Connection>> alive;
  for (auto& [id, weak] : live_)
    if (auto c = weak.lock()) alive.push_back(std::move(c));
  for (auto& c : alive) c->stop_gracefully();

  if (live_.empty()) {
    // Post rather than call: the caller may not expect done inside stop().
    asio::post(ex, [self = shared_from_this()] { self->finish_stop(); });
    return;
  }
  grace_timer_.expires_after(grace);
  grace_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec) return;  // cancelled: everyone left in time
    if (!self->live_.empty())
      spdlog::warn("net: stop grace over, closing {} connection(s) hard", self->live_.size());
    self->kill_all();
    self->finish_stop();
  });
}

void ServerState::finish_stop() {
  grace_timer_.cancel();
  if (auto done = std::exchange(done_, nullptr)) done();
}

// ---------------------------------------------------------------------------
// Listener

namespace {

// Accepts until the acceptor closes. Every accepted socket is either admitted
// (counted, handed to an HTTP session) or closed at once.
asio::awaitable<void> accept_loop(std::shared_ptr<ServerState> state) {
  using asio::as_tuple;
  using asio::use_awaitable;
  while (state->acceptor.is_open()) {
    tcp::socket socket(state->ex);
    auto [ec] = co_await state->acceptor.async_accept(socket, as_tuple(use_awaitable));
    if (ec == asio::error::operation_aborted || !state->acceptor.is_open()) break;
    if (ec) {
      // Out of file descriptors and friends: back off instead of spinning.
      spdlog::warn("net: accept: {}", ec.message());
      asio::steady_timer pause(state->ex, std::chrono::milliseconds(50));
      co_await pause.async_wait(as_tuple(use_awaitable));
      continue;
    }
    boost::system::error_code ep_ec;
    auto const ep = socket.remote_endpoint(ep_ec);
    if (ep_ec) continue;  // peer already gone
    auto ip = ep.address().to_string();
    auto guard = state->admit(ip);
    if (!guard) {
      socket.close(ep_ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ep_ec);
    spdlog::debug("net: conn {} from {} ({} open)", guard->id(), ip, state->live_count());
    start_http_session(std::move(socket), std::move(*guard));
  }
}

asio::ip::address resolve_host(asio::any_io_executor ex, std::string const& host) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (!ec) return addr;
  tcp::resolver resolver(ex);
  auto results = resolver.resolve(host, "", ec);
  if (ec || results.empty())
    throw std::system_error(ec ? std::error_code(ec) : std::make_error_code(std::errc::invalid_argument),
                            "net: cannot resolve " + host);
  return results.begin()->endpoint().address();
}

class ServerImpl final : public Server {
 public:
  explicit ServerImpl(std::shared_ptr<ServerState> state) : state_(std::move(state)) {}

  ~ServerImpl() override {
    // Sessions may outlive this object (they hold the state), but must not
    // keep serving once the app dropped its Server.
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    state_->kill_all();
  }

  void start() override {
    asio::co_spawn(state_->ex, accept_loop(state_), asio::detached);
  }

  void stop(std::chrono::milliseconds grace, std::function<void()> done) override {
    state_->begin_stop(grace, std::move(done));
  }

  std::uint16_t port() const noexcept override { return port_; }
  std::size_t connections() const noexcept override { return state_->live_count(); }

  std::uint16_t port_ = 0;

 private:
  std::shared_ptr<ServerState> state_;
};

}  // namespace
}  // namespace detail

// Binds and listens before returning, so a bad address or a taken port is an
// exception at start-up rather than a log line later.
std::unique_ptr<Server> Server::create(boost::asio::any_io_executor ex, ServerOptions opt,
                                       Handler& handler) {
  using namespace detail;
  if (opt.tls_cert_file.empty() != opt.tls_key_file.empty())
    throw std::invalid_argument("net: tls_cert_file and tls_key_file must be set together");

  auto state = std::make_shared<ServerState>(ex, std::move(opt), handler);
  auto const& o = state->opt;
  if (!o.tls_cert_file.empty()) {
    auto& ctx = state->tls.emplace(asio::ssl::context::tls_server);
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                    asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    // TLS 1.2 with the configured suites only (forward-secret AEAD by
    // default), chosen in the server's order; no renegotiation, no
    // compression. TLS 1.3 keeps OpenSSL's suites, all of them AEAD.
    SSL_CTX_set_options(ctx.native_handle(),
                        SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    if (SSL_CTX_set_cipher_list(ctx.native_handle(), o.tls_ciphers.c_str()) != 1)
      throw std::invalid_argument("net: no usable TLS 1.2 cipher in '" + o.tls_ciphers + "'");
    try {
      ctx.use_certificate_chain_file(o.tls_cert_file);
      ctx.use_private_key_file(o.tls_key_file, asio::ssl::context::pem);
    } catch (boost::system::system_error const& e) {
      throw std::system_error(e.code(), "net: cannot load TLS certificate or key");
    }
  }

  try {
    tcp::endpoint const endpoint{resolve_host(ex, o.host), o.port};
    auto& acc = state->acceptor;
    acc.open(endpoint.protocol());
    acc.set_option(asio::socket_base::reuse_address(true));
    if (o.reuse_port) {
      using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
      acc.set_option(reuse_port(true));
    }
    acc.bind(endpoint);
    acc.listen(asio::socket_base::max_listen_connections);
  } catch (boost::system::system_error const& e) {
    // The header promises std::system_error; Boost's is a different type.
    throw std::system_error(e.code(), "net: cannot listen on " + o.host + ":" +
                                          std::to_string(o.port));
  }
  auto server = std::make_unique<ServerImpl>(state);
  server->port_ = state->acceptor.local_endpoint().port();
  spdlog::info("net: listening on {}:{}{}", o.host, server->port_,
               state->tls ? " (tls)" : "");
  return server;
}

}  // namespace exceed::net
