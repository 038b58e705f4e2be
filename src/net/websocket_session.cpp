// One WebSocket connection, plain or TLS, after the HTTP session accepted the
// upgrade: a read loop feeding the app's WebSocketHandler, and a writer that
// drains a bounded queue with one write in flight. The object is also the
// app's WebSocket handle, so it outlives the socket as long as the app holds it.
#include "net/server_state.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>
#include <exception>

namespace exceed::net::detail {
namespace {

namespace websocket = beast::websocket;
using asio::as_tuple;
using asio::use_awaitable;
using boost::system::error_code;

// The TCP socket under a session's stream: a plain session runs its
// WebSocket on the bare socket, a TLS one on Beast's tcp_stream.
inline asio::ip::tcp::socket& tcp_socket(asio::ip::tcp::socket& s) { return s; }
inline asio::ip::tcp::socket& tcp_socket(beast::tcp_stream& s) { return s.socket(); }

void report(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (std::exception const& ex) {
    spdlog::error("net: websocket coroutine ended by exception: {}", ex.what());
  } catch (...) {
    spdlog::error("net: websocket coroutine ended by unknown exception");
  }
}

template <class Stream>
class WsSession final : public WebSocket,
                        public Connection,
                        public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream stream, ConnectionGuard guard)
      : ws_(std::move(stream)),
        state_(guard.state_ptr()),
        id_(guard.id()),
        ip_(guard.ip()),
        close_timer_(state_->ex),
        guard_(std::move(guard)) {}

  // Takes over the registry entry from the HTTP session, before the
  // coroutine first runs, so a stop() in between still reaches the socket.
  void attach() { guard_->attach(this->weak_from_this()); }

  static asio::awaitable<void> run(std::shared_ptr<WsSession> self, Request req,
                                   HttpRequest app_req) {
    co_await self->serve(std::move(req), std::move(app_req));
  }

  // --- WebSocket (the app's side) ---

  // Enqueues or, past the byte budget, drops the connection: a client that
  // reads nothing must not grow our memory, and a graceful close would need
  // the very queue it is not draining.
  void send(std::shared_ptr<std::string const> frame) override {
    if (!is_open() || !frame) return;
    auto const limit = state_->opt.limits.out_queue_max_bytes;
    if (queued_bytes_ + frame->size() > limit) {
      spdlog::warn("net: ws {} from {} dropped: slow consumer ({} bytes queued)", id_, ip_,
                   queued_bytes_);
      drop();
      return;
    }
    queued_bytes_ += frame->size();
    queue_.push_back(std::move(frame));
    start_writer();
  }

  // Queued frames go first, then the close frame. If draining and the close
  // handshake together take over twice header_timeout (a peer that reads
  // nothing can stall both), the socket is dropped hard.
  void close(std::uint16_t code, std::string reason) override {
    if (!is_open()) return;
    closing_ = true;
    websocket::close_reason cr;
    cr.code = code;
    // The protocol caps a close reason at 123 bytes; the type throws beyond.
    cr.reason.assign(reason.data(), std::min<std::size_t>(reason.size(), cr.reason.max_size()));
    close_reason_ = cr;
    close_timer_.expires_after(state_->opt.limits.header_timeout +
                               state_->opt.limits.header_timeout);
    close_timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (ec || self->gone_) return;
      spdlog::warn("net: ws {} from {} dropped: close handshake timed out", self->id_, self->ip_);
      self->drop();
    });
    start_writer();
  }

  bool is_open() const noexcept override { return open_ && !closing_ && !dropped_ && !gone_; }
  std::uint64_t id() const noexcept override { return id_; }
  std::string const& remote_ip() const noexcept override { return ip_; }
  std::size_t queued_bytes() const noexcept override { return queued_bytes_; }
  void pause_reading() override { paused_ = true; }
  void resume_reading() override {
    paused_ = false;
    if (!parked_ || gone_) return;
    parked_ = false;
    read_next();
  }

  // --- Connection (the server's side) ---

  void stop_gracefully() override {
    if (!open_) {
      stop_pending_ = true;  // the handshake is still running; see serve()
      return;
    }
    close(websocket::close_code::going_away, "going away");
  }

  void kill() override { drop(); }

 private:
  asio::awaitable<void> serve(Request req, HttpRequest app_req);
  void read_next();
  void on_read(error_code ec);
  void finish();
  void start_writer();
  void pump();
  void written(error_code ec);
  void drop();

  websocket::stream<Stream> ws_;
  std::shared_ptr<ServerState> state_;
  std::uint64_t id_;
  std::string ip_;
  asio::steady_timer close_timer_;
  std::optional<ConnectionGuard> guard_;  // reset when the socket is gone
  std::shared_ptr<WebSocketHandler> app_;
  beast::flat_buffer buffer_;  // the message being read

  // FIFO of frames: a vector and the index of its head. libstdc++'s deque
  // allocates a 512-byte block when it is constructed, which every idle
  // session paid for; this allocates only when frames are queued.
  std::vector<std::shared_ptr<std::string const>> queue_;
  std::size_t head_ = 0;
  // The frame being written: held here, since the read loop may clear the
  // queue while Beast still reads this buffer.
  std::shared_ptr<std::string const> in_flight_;
  std::size_t queued_bytes_ = 0;  // includes the frame being written
  std::optional<websocket::close_reason> close_reason_;
  bool open_ = false;     // handshake done
  bool closing_ = false;  // close() asked for; no more sends
  bool dropped_ = false;  // socket closed hard
  bool gone_ = false;     // read loop over, on_close delivered
  bool writing_ = false;
  bool stop_pending_ = false;
  bool discarding_ = false;  // an oversize message: close requested, read on
  bool first_read_done_ = false;
  bool paused_ = false;  // the app asked not to read on (backpressure)
  bool parked_ = false;  // a read is owed: resume_reading() issues it
};

// The handshake, then the app's handler, then the read loop (read_next).
template <class Stream>
asio::awaitable<void> WsSession<Stream>::serve(Request req, HttpRequest app_req) {
  auto const& lim = state_->opt.limits;

  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = lim.header_timeout;
  timeouts.idle_timeout = lim.ws_idle_timeout;
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  websocket::permessage_deflate no_deflate;
  no_deflate.server_enable = false;
  no_deflate.client_enable = false;
  ws_.set_option(no_deflate);
  ws_.read_message_max(0);  // unlimited for Beast: see the read loop
  // No Server header: what runs here is nobody's business.
  ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) { res.erase(beast::http::field::server); }));

  auto [aec] = co_await ws_.async_accept(req, as_tuple(use_awaitable));
  if (aec) {
    fail(aec, "ws accept", id_);
    gone_ = true;
    error_code ignored;
    tcp_socket(beast::get_lowest_layer(ws_)).close(ignored);
    guard_.reset();
    co_return;
  }
  open_ = true;
  ws_.text(true);
  spdlog::debug("net: ws {} from {} open", id_, ip_);

  try {
    app_ = state_->handler.on_ws_open(this->shared_from_this(), app_req);
  } catch (std::exception const& e) {
    spdlog::error("net: ws {} on_ws_open threw: {}", id_, e.what());
  }
  if (!app_)
    close(websocket::close_code::internal_error, "");
  else if (stop_pending_ || state_->stopping)
    close(websocket::close_code::going_away, "going away");

  read_next();
}

// The read loop, on completion handlers like the writer: a coroutine frame
// per connection (with the upgrade request and the handshake's state in it)
// was most of an idle session's memory.
//
// The message limit is enforced here rather than by read_message_max:
// Beast 1.81 fails an oversize message by sending 1009 and then closing
// the socket after one read, so the unread rest of the message turns into
// a RST that can destroy the close frame before the peer sees it. Reading
// in bounded pieces lets us close with 1009 and discard the rest until
// the peer's close frame arrives (the close timer bounds how long).
template <class Stream>
void WsSession<Stream>::read_next() {
  std::size_t const room = discarding_ ? 16 * 1024 : state_->opt.limits.max_frame_bytes + 1 - buffer_.size();
  ws_.async_read_some(buffer_, room,
                      [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
}

template <class Stream>
void WsSession<Stream>::on_read(error_code ec) {
  if (ec) {
    fail(ec, "ws read", id_);
    finish();
    return;
  }
  auto const max = state_->opt.limits.max_frame_bytes;
  if (discarding_ || !app_ || closing_ || dropped_) {
    buffer_.consume(buffer_.size());
  } else if (buffer_.size() > max) {
    spdlog::warn("net: ws {} from {} sent a message over {} bytes: closing 1009", id_, ip_, max);
    buffer_.consume(buffer_.size());
    discarding_ = true;
    close(websocket::close_code::too_big, "message too big");
  } else if (ws_.is_message_done()) {
    auto const* data = static_cast<char const*>(buffer_.data().data());
    try {
      app_->on_message(std::string_view{data, buffer_.size()}, ws_.got_text());
    } catch (std::exception const& e) {
      spdlog::error("net: ws {} on_message threw: {}", id_, e.what());
      close(websocket::close_code::internal_error, "");
    }
    buffer_.consume(buffer_.size());
    // Most sessions send hello and then wait (a widget on an open page):
    // they should not keep the buffer the token needed.
    if (!first_read_done_) {
      first_read_done_ = true;
      buffer_.shrink_to_fit();
    }
    // The app cannot take more now (its requests wait on the store): the
    // next read waits for resume_reading(). A close in progress reads on,
    // to see the peer's close frame.
    if (paused_ && !closing_ && !discarding_) {
      parked_ = true;
      return;
    }
  }
  read_next();
}

// The end of a connection, whatever ended the read loop: closes the socket,
// calls on_close exactly once (when on_ws_open ran) and releases the
// connection count.
template <class Stream>
void WsSession<Stream>::finish() {
  gone_ = true;
  error_code ignored;
  tcp_socket(beast::get_lowest_layer(ws_)).close(ignored);
  close_timer_.cancel();
  queue_.clear();
  head_ = 0;
  queued_bytes_ = 0;
  buffer_ = beast::flat_buffer{};
  spdlog::debug("net: ws {} from {} closed", id_, ip_);
  // Moved out first: the app's handler usually holds our shared_ptr, and
  // releasing it here breaks that cycle.
  if (auto app = std::move(app_)) {
    try {
      app->on_close();
    } catch (std::exception const& e) {
      spdlog::error("net: ws {} on_close threw: {}", id_, e.what());
    }
  }
  guard_.reset();
}

// The single writer, driven by completion handlers rather than a coroutine:
// every delivered frame used to pay for spawning a coroutine (a frame
// allocation and a post) whenever the queue had drained, which on a chat
// server is nearly every frame. Now the first frame is handed to Beast in
// the caller's turn (the kernel usually takes it at once) and each
// completion starts the next one. It drains the queue in order, then
// performs the close handshake if one was asked for. Never more than one
// write is in flight (writing_).
template <class Stream>
void WsSession<Stream>::start_writer() {
  if (writing_ || gone_ || dropped_) return;
  writing_ = true;
  pump();
}

template <class Stream>
void WsSession<Stream>::pump() {
  if (head_ < queue_.size() && !gone_ && !dropped_) {
    in_flight_ = queue_[head_];
    ws_.async_write(asio::buffer(*in_flight_),
                    [self = this->shared_from_this()](error_code ec, std::size_t) { self->written(ec); });
    return;
  }
  if (closing_ && close_reason_ && !gone_ && !dropped_) {
    auto reason = *close_reason_;
    close_reason_.reset();
    ws_.async_close(reason, [self = this->shared_from_this()](error_code ec) {
      if (ec) fail(ec, "ws close", self->id_);
      self->writing_ = false;
    });
    return;
  }
  writing_ = false;
}

template <class Stream>
void WsSession<Stream>::written(error_code ec) {
  auto frame = std::move(in_flight_);
  // The read loop may have ended and cleared the queue meanwhile.
  if (head_ < queue_.size() && queue_[head_] == frame) {
    queue_[head_++].reset();
    queued_bytes_ -= frame->size();
    if (head_ == queue_.size()) {
      queue_.clear();
      head_ = 0;
    }
  }
  if (ec) {
    fail(ec, "ws write", id_);
    drop();
    writing_ = false;
    return;
  }
  pump();
}

// Hard close: pending operations fail, the read loop ends and runs on_close.
template <class Stream>
void WsSession<Stream>::drop() {
  if (dropped_ || gone_) return;
  dropped_ = true;
  error_code ignored;
  tcp_socket(beast::get_lowest_layer(ws_)).close(ignored);
}

template <class Stream>
void spawn(Stream stream, Request req, HttpRequest app_req, ConnectionGuard guard) {
  auto ex = guard.state().ex;
  auto session = std::make_shared<WsSession<Stream>>(std::move(stream), std::move(guard));
  session->attach();
  asio::co_spawn(ex, WsSession<Stream>::run(std::move(session), std::move(req), std::move(app_req)),
                 report);
}

}  // namespace

// Plain sessions drop the tcp_stream the HTTP session used for its
// timeouts: the WebSocket has its own timer, and an idle session saves the
// stream's two timers and its shared state.
void start_websocket_session(PlainStream stream, Request req, HttpRequest app_req,
                             ConnectionGuard guard) {
  spawn(stream.release_socket(), std::move(req), std::move(app_req), std::move(guard));
}

void start_websocket_session(TlsStream stream, Request req, HttpRequest app_req,
                             ConnectionGuard guard) {
  spawn(std::move(stream), std::move(req), std::move(app_req), std::move(guard));
}

}  // namespace exceed::net::detail
