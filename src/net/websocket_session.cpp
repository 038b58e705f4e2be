// One WebSocket connection, plain or TLS, after the HTTP session accepted the
// upgrade: Beast answers the handshake, then the session frames by itself
// (net/ws_codec.hpp): a read loop feeding the app's WebSocketHandler, and a
// writer that drains a bounded queue in gathered writes, one in flight. The
// object is also the app's WebSocket handle, so it outlives the socket as
// long as the app holds it.
#include "net/server_state.hpp"
#include "net/ws_codec.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

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

// The bytes of one read on a plain socket: one buffer for the whole event
// loop (a thread), since the bytes are parsed before the next read of any
// socket; what a session cannot use yet it copies to its own pending_.
constexpr std::size_t loop_buffer_bytes = 64 * 1024;
char* loop_buffer() {
  thread_local std::unique_ptr<char[]> buf(new char[loop_buffer_bytes]);
  return buf.get();
}
// A TLS session reads into a buffer of its own (the TLS stream completes
// its reads later, when another session may be using the loop's buffer).
constexpr std::size_t tls_read_bytes = 16 * 1024;
// Frames written by one gathered write at most (two buffers each; Asio
// hands at most 64 to one sendmsg).
constexpr std::size_t write_batch = 32;

template <class Stream>
class WsSession final : public WebSocket,
                        public Connection,
                        public WsSink,
                        public std::enable_shared_from_this<WsSession<Stream>> {
  static constexpr bool plain = std::is_same_v<Stream, tcp::socket>;

 public:
  WsSession(Stream stream, ConnectionGuard guard)
      : handshake_(std::in_place, std::move(stream)),
        state_(guard.state_ptr()),
        id_(guard.id()),
        ip_(guard.ip()),
        timer_(state_->ex),
        guard_(std::move(guard)),
        reader_(state_->opt.limits.max_frame_bytes) {}

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
    enqueue(std::move(frame), ws_opcode::text);
  }

  // Queued frames go first, then the close frame; then the peer's close
  // frame is awaited. If draining and the close handshake together take
  // over twice header_timeout (a peer that reads nothing can stall both),
  // the socket is dropped hard.
  void close(std::uint16_t code, std::string reason) override {
    if (!is_open()) return;
    closing_ = true;
    // The protocol caps a close frame's payload at 125 bytes.
    reason.resize(std::min<std::size_t>(reason.size(), 123));
    std::string payload;
    payload.reserve(2 + reason.size());
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    payload += reason;
    enqueue(std::make_shared<std::string const>(std::move(payload)), ws_opcode::close);
    timer_.expires_after(state_->opt.limits.header_timeout + state_->opt.limits.header_timeout);
    arm_timer();
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
    if (!pending_.empty()) {
      consume(nullptr, 0);
      if (gone_ || stopped_reading()) return;
    }
    read_next();
  }

  // --- Connection (the server's side) ---

  void stop_gracefully() override {
    if (!open_) {
      stop_pending_ = true;  // the handshake is still running; see serve()
      return;
    }
    close(ws_close::going_away, "going away");
  }

  void kill() override { drop(); }

  // --- WsSink (what the reader found) ---

  void ws_message(std::string_view data, bool text) override {
    if (!app_ || closing_ || dropped_) return;  // closing: only the peer's close frame still counts
    try {
      app_->on_message(data, text);
    } catch (std::exception const& e) {
      spdlog::error("net: ws {} on_message threw: {}", id_, e.what());
      close(ws_close::internal_error, "");
    }
  }
  void ws_ping(std::string_view payload) override {
    if (is_open()) enqueue(std::make_shared<std::string const>(payload), ws_opcode::pong);
  }
  void ws_close(std::uint16_t code, std::string_view) override {
    peer_closed_ = true;
    if (!closing_ && !dropped_) {
      // Answered with the same code (none when it gave none), then the
      // server closes the TCP connection first, as RFC 6455 §7.1.1 asks.
      if (code == ws_close::no_status) {
        closing_ = true;
        enqueue(std::make_shared<std::string const>(), ws_opcode::close);
        timer_.expires_after(state_->opt.limits.header_timeout);
        arm_timer();
      } else {
        close(code, "");
      }
    } else if (close_sent_) {
      end_gracefully();
    }
  }
  void ws_refused(std::uint16_t code, std::string_view why) override {
    if (code == ws_close::too_big)
      spdlog::warn("net: ws {} from {} sent a message over {} bytes: closing 1009", id_, ip_,
                   state_->opt.limits.max_frame_bytes);
    else
      spdlog::warn("net: ws {} from {}: {}: closing {}", id_, ip_, why, code);
    close(code, code == ws_close::too_big ? std::string("message too big") : std::string(why));
  }
  bool ws_more() const override { return !paused_ || closing_; }

 private:
  asio::awaitable<void> serve(Request req, HttpRequest app_req);
  tcp::socket& socket() {
    return stream_ ? tcp_socket(beast::get_lowest_layer(*stream_)) : tcp_socket(beast::get_lowest_layer(*handshake_));
  }
  bool stopped_reading() {
    if (peer_closed_) return true;  // nothing after the close frame is read
    if (paused_ && !closing_) {
      parked_ = true;
      return true;
    }
    return false;
  }
  void read_next();
  void on_readable(error_code ec);
  void on_bytes(error_code ec, char* data, std::size_t n);
  void consume(char* data, std::size_t n);
  void arm_timer();
  void on_timer();
  void end_gracefully();
  void finish();
  void enqueue(std::shared_ptr<std::string const> payload, std::uint8_t opcode);
  void flush();
  void written(error_code ec);
  void drop();

  // The handshake runs on Beast's stream; the socket then moves to stream_.
  std::optional<websocket::stream<Stream>> handshake_;
  std::optional<Stream> stream_;
  std::shared_ptr<ServerState> state_;
  std::uint64_t id_;
  std::string ip_;
  // Keep-alive until a close starts, then the close handshake's deadline.
  asio::steady_timer timer_;
  std::optional<ConnectionGuard> guard_;  // reset when the socket is gone
  std::shared_ptr<WebSocketHandler> app_;
  WsReader reader_;
  // Received bytes not parsed yet: a frame cut by the read, or what came
  // after a message while the app asked not to read on. Empty (no heap) the
  // rest of the time.
  std::string pending_;
  std::unique_ptr<char[]> tls_buf_;  // TLS only, see tls_read_bytes

  // FIFO of frames to send (payload and opcode; the header is written at
  // send time): a vector and the index of its head, allocated only while
  // frames wait.
  struct Out {
    std::shared_ptr<std::string const> payload;
    std::uint8_t opcode;
  };
  std::vector<Out> queue_;
  std::size_t head_ = 0;
  std::size_t in_flight_ = 0;  // frames of queue_ (from head_) being written
  // The headers and buffers of the gathered write in flight, kept until it
  // completes; freed with the queue when it drains.
  std::vector<unsigned char> headers_;
  std::vector<asio::const_buffer> buffers_;
  std::size_t queued_bytes_ = 0;  // includes the frames being written
  bool open_ = false;     // handshake done
  bool closing_ = false;  // a close frame is queued or sent; no more sends
  bool close_sent_ = false;
  bool peer_closed_ = false;  // the peer's close frame arrived
  bool dropped_ = false;  // socket closed hard
  bool gone_ = false;     // on_close delivered
  bool writing_ = false;
  bool flush_posted_ = false;
  bool stop_pending_ = false;
  bool paused_ = false;  // the app asked not to read on (backpressure)
  bool parked_ = false;  // a read is owed: resume_reading() issues it
  bool shutting_down_ = false;  // TLS: close_notify exchanged before the socket closes
  bool heard_ = false;   // bytes arrived since the last keep-alive tick
  bool pinged_ = false;  // a keep-alive ping is unanswered
};

// A gathered write's buffers as Asio wants a sequence (begin, end, and the
// iterator type its composed write names).
struct BufferRange {
  using value_type = asio::const_buffer;
  using const_iterator = asio::const_buffer const*;
  const_iterator first, last;
  const_iterator begin() const noexcept { return first; }
  const_iterator end() const noexcept { return last; }
};

// Beast answers the handshake; then the socket leaves Beast's stream for
// stream_, the app's handler is made, and the read loop starts.
template <class Stream>
asio::awaitable<void> WsSession<Stream>::serve(Request req, HttpRequest app_req) {
  auto const& lim = state_->opt.limits;
  auto& hs = *handshake_;
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = lim.header_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  hs.set_option(timeouts);
  websocket::permessage_deflate no_deflate;
  no_deflate.server_enable = false;
  no_deflate.client_enable = false;
  hs.set_option(no_deflate);
  // No Server header: what runs here is nobody's business.
  hs.set_option(websocket::stream_base::decorator([](websocket::response_type& res) { res.erase(beast::http::field::server); }));

  auto [aec] = co_await hs.async_accept(req, as_tuple(use_awaitable));
  if (aec || dropped_) {
    if (aec) fail(aec, "ws accept", id_);
    gone_ = true;
    error_code ignored;
    socket().close(ignored);
    guard_.reset();
    co_return;
  }
  stream_.emplace(std::move(hs.next_layer()));
  handshake_.reset();
  if constexpr (plain) {
    error_code ignored;
    stream_->non_blocking(true, ignored);  // read_some after a readiness wait must not block
  }
  open_ = true;
  spdlog::debug("net: ws {} from {} open", id_, ip_);

  try {
    app_ = state_->handler.on_ws_open(this->shared_from_this(), app_req);
  } catch (std::exception const& e) {
    spdlog::error("net: ws {} on_ws_open threw: {}", id_, e.what());
  }
  if (!app_)
    close(ws_close::internal_error, "");
  else if (stop_pending_ || state_->stopping)
    close(ws_close::going_away, "going away");
  if (!closing_) {
    timer_.expires_after(lim.ws_idle_timeout / 2);
    arm_timer();
  }
  read_next();
}

// The read loop, on completion handlers (a coroutine frame per connection
// was most of an idle session's memory). A plain socket waits for
// readiness without a buffer and then reads into the loop's buffer; an
// idle session holds no read buffer at all.
template <class Stream>
void WsSession<Stream>::read_next() {
  if (gone_) return;
  if constexpr (plain) {
    stream_->async_wait(tcp::socket::wait_read,
                        [self = this->shared_from_this()](error_code ec) { self->on_readable(ec); });
  } else {
    if (!tls_buf_) tls_buf_.reset(new char[tls_read_bytes]);
    stream_->async_read_some(asio::buffer(tls_buf_.get(), tls_read_bytes),
                             [self = this->shared_from_this()](error_code ec, std::size_t n) {
                               self->on_bytes(ec, self->tls_buf_.get(), n);
                             });
  }
}

template <class Stream>
void WsSession<Stream>::on_readable(error_code ec) {
  if (gone_) return;
  if (ec) {
    on_bytes(ec, nullptr, 0);
    return;
  }
  char* buf = loop_buffer();
  error_code rec;
  auto const n = stream_->read_some(asio::buffer(buf, loop_buffer_bytes), rec);
  if (rec == asio::error::would_block || rec == asio::error::try_again) {
    read_next();  // woken for nothing (another reader took it, or a spurious wake-up)
    return;
  }
  on_bytes(rec, buf, n);
}

template <class Stream>
void WsSession<Stream>::on_bytes(error_code ec, char* data, std::size_t n) {
  if (gone_) return;
  if (ec) {
    fail(ec, "ws read", id_);
    finish();
    return;
  }
  heard_ = true;
  consume(data, n);
  if (gone_ || stopped_reading()) return;
  read_next();
}

// Parses what arrived (after what was pending); what the reader could not
// use yet is kept in pending_, and pending_ is freed once used up.
template <class Stream>
void WsSession<Stream>::consume(char* data, std::size_t n) {
  if (pending_.empty()) {
    auto const used = reader_.feed(data, n, *this);
    if (used < n && !gone_) pending_.assign(data + used, n - used);
    return;
  }
  if (n > 0) pending_.append(data, n);
  auto const used = reader_.feed(pending_.data(), pending_.size(), *this);
  if (gone_) return;
  if (used == pending_.size()) pending_ = std::string();
  else pending_.erase(0, used);
}

template <class Stream>
void WsSession<Stream>::arm_timer() {
  timer_.async_wait([weak = this->weak_from_this()](error_code ec) {
    auto self = weak.lock();
    if (!ec && self) self->on_timer();
  });
}

// Keep-alive: a peer silent for half ws_idle_timeout is pinged; silent for
// the other half too, it is gone. During a close: the handshake's deadline.
template <class Stream>
void WsSession<Stream>::on_timer() {
  if (gone_ || dropped_) return;
  if (closing_) {
    spdlog::warn("net: ws {} from {} dropped: close handshake timed out", id_, ip_);
    drop();
    return;
  }
  // A socket we stopped reading (backpressure) is not a silent peer.
  if (heard_ || parked_) {
    heard_ = false;
    pinged_ = false;
  } else if (!pinged_) {
    pinged_ = true;
    enqueue(std::make_shared<std::string const>(), ws_opcode::ping);
  } else {
    spdlog::debug("net: ws {} from {} dropped: idle", id_, ip_);
    drop();
    return;
  }
  timer_.expires_after(state_->opt.limits.ws_idle_timeout / 2);
  arm_timer();
}

// Both close frames went through: a TLS session says close_notify first
// (the peer's TLS layer expects it, and would see a reset without it); the
// close handshake's timer still bounds the wait.
template <class Stream>
void WsSession<Stream>::end_gracefully() {
  if constexpr (plain) {
    finish();
  } else {
    if (shutting_down_ || gone_) return;
    shutting_down_ = true;
    stream_->async_shutdown([self = this->shared_from_this()](error_code) { self->finish(); });
  }
}

// The end of a connection, whatever ended it: closes the socket, calls
// on_close exactly once (when on_ws_open ran) and releases the connection
// count.
template <class Stream>
void WsSession<Stream>::finish() {
  if (gone_) return;
  gone_ = true;
  error_code ignored;
  socket().close(ignored);
  timer_.cancel();
  // A write in flight still owns its buffers until it completes (aborted);
  // written() frees the queue then. pending_ may be the bytes the reader is
  // parsing right now (a close frame ends it): the destructor frees it.
  if (!writing_) {
    std::vector<Out>().swap(queue_);
    head_ = 0;
  }
  queued_bytes_ = 0;
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

// The single writer. Frames queued in one turn of the event loop (an ack
// and the sender's own event, a burst of events to one agent) leave in one
// gathered write: the first send posts the flush, later ones join it, and
// each header is written beside its payload, which is shared with every
// other recipient of the frame. Never more than one write is in flight.
template <class Stream>
void WsSession<Stream>::enqueue(std::shared_ptr<std::string const> payload, std::uint8_t opcode) {
  queued_bytes_ += payload->size();
  queue_.push_back(Out{std::move(payload), opcode});
  if (writing_ || flush_posted_ || gone_ || dropped_ || !stream_) return;
  flush_posted_ = true;
  asio::post(state_->ex, [self = this->shared_from_this()] {
    self->flush_posted_ = false;
    self->flush();
  });
}

template <class Stream>
void WsSession<Stream>::flush() {
  if (writing_ || gone_ || dropped_ || head_ == queue_.size()) return;
  auto const count = std::min(queue_.size() - head_, write_batch);
  headers_.resize(count * 10);
  buffers_.clear();
  buffers_.reserve(count * 2);
  for (std::size_t k = 0; k < count; ++k) {
    auto const& out = queue_[head_ + k];
    unsigned char* h = headers_.data() + 10 * k;
    buffers_.emplace_back(h, ws_frame_header(out.opcode, out.payload->size(), h));
    if (!out.payload->empty()) buffers_.emplace_back(out.payload->data(), out.payload->size());
  }
  in_flight_ = count;
  writing_ = true;
  asio::async_write(*stream_, BufferRange{buffers_.data(), buffers_.data() + buffers_.size()},
                    [self = this->shared_from_this()](error_code ec, std::size_t) { self->written(ec); });
}

template <class Stream>
void WsSession<Stream>::written(error_code ec) {
  writing_ = false;
  if (gone_) {
    std::vector<Out>().swap(queue_);
    head_ = in_flight_ = 0;
    return;
  }
  bool sent_close = false;
  for (std::size_t k = 0; k < in_flight_; ++k) {
    auto& out = queue_[head_++];
    queued_bytes_ -= out.payload->size();
    sent_close = sent_close || out.opcode == ws_opcode::close;
    out.payload.reset();
  }
  in_flight_ = 0;
  if (head_ == queue_.size()) {
    // Drained: an idle session keeps none of the writer's memory.
    std::vector<Out>().swap(queue_);
    std::vector<unsigned char>().swap(headers_);
    std::vector<asio::const_buffer>().swap(buffers_);
    head_ = 0;
  }
  if (ec) {
    fail(ec, "ws write", id_);
    drop();
    return;
  }
  if (sent_close) {
    close_sent_ = true;
    // Both close frames are through: the server closes the TCP connection.
    if (peer_closed_) {
      end_gracefully();
      return;
    }
  }
  flush();  // what was queued meanwhile goes in the next gathered write
}

// Hard close: the socket closes now; on_close follows from a posted
// handler (never inside the app's own call that caused the drop).
template <class Stream>
void WsSession<Stream>::drop() {
  if (dropped_ || gone_) return;
  dropped_ = true;
  error_code ignored;
  socket().close(ignored);
  asio::post(state_->ex, [self = this->shared_from_this()] { self->finish(); });
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
