#include "app/client.hpp"

#include "protocol/codec.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace exceed::app {
namespace asio = boost::asio;
using protocol::error;

namespace {

core::GateLimits gate_limits(Config::Limits const& l) {
  core::GateLimits g;
  g.messages_per_s = l.messages_per_s;
  g.burst = l.burst;
  g.flood_rejections = l.flood_rejections;
  g.invalid_frames = l.invalid_frames;
  // Frames received and not yet finished (queued or pipelined); past this
  // the client is told to slow down (each frame is still answered, so
  // nothing is silently dropped).
  g.max_pending = 64;
  // Pipelined requests of one connection in flight at once. Each holds its
  // coroutine frames and its store command (a few KB): without a cap,
  // clients sending faster than Redis answers made every connection hold 64
  // of them (550 MB at 20,000 msgs/s offered to 2,000 connections). Eight
  // in flight still lets one connection go as fast as a few thousand
  // requests a second.
  g.max_pipelined = 8;
  return g;
}

}  // namespace

Client::Client(ClientHost& app, std::shared_ptr<net::WebSocket> ws)
    : app_(app), ws_(std::move(ws)), timer_(app.executor()), gate_(gate_limits(app.client_limits()), app.clock().now()) {}

void Client::start() {
  timer_.expires_after(std::chrono::seconds(app_.client_limits().hello_timeout_s));
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->hello_seen_) return;
    self->send(protocol::encode_error(nullptr, error::unauthorized, "no hello within the time allowed"));
    self->close(protocol::close_code::unauthorized, "hello timeout");
  });
}

void Client::authenticate(core::Role role, std::string user_id, std::string name, std::vector<std::string> teams) {
  authenticated_ = true;
  role_ = role;
  user_id_ = std::move(user_id);
  name_ = std::move(name);
  teams_ = std::move(teams);
  teams_csv_.clear();
  for (auto const& t : teams_) {
    if (!teams_csv_.empty()) teams_csv_ += ',';
    teams_csv_ += t;
  }
}

void Client::on_message(std::string_view data, bool text) {
  if (closed_) return;
  if (!text) {
    send(protocol::encode_error(nullptr, error::bad_request, "text frames only"));
    count_invalid();
    return;
  }
  auto frame = protocol::decode(data);
  auto admission = gate_.admit(app_.clock().now());
  if (admission == core::ClientGate::Admission::flood) {
    spdlog::warn("ws {}: closed for flooding", id());
    send(protocol::encode_error(nullptr, error::rate_limited, "too many frames: disconnected"));
    close(protocol::close_code::flood, "flood");
    return;
  }
  if (admission == core::ClientGate::Admission::slow_down) {
    // Echo the id when the frame has one, so the client can match it.
    boost::json::value req_id = nullptr;
    if (auto* r = std::get_if<protocol::Request>(&frame)) req_id = r->id;
    else req_id = std::get<protocol::DecodeError>(frame).id;
    send(protocol::encode_error(req_id, error::rate_limited, "slow down: too many frames"));
    return;
  }
  inbox_.push_back(std::move(frame));
  if (gate_.should_pause() && !reading_paused_) {
    reading_paused_ = true;
    ws_->pause_reading();
  }
  if (!draining_) {
    draining_ = true;
    asio::co_spawn(app_.executor(), drain(shared_from_this()), asio::detached);
  }
}

// Requests that may start before the previous one finished: each begins
// with exactly one store script, issued before the handler first suspends
// (co_spawn dispatches, so the handler runs up to that call at once). One
// Redis connection executes commands in the order they were written, so
// these keep the client's order where it matters: seqs follow the order
// messages were typed, and acks and events go out in that order as the
// replies come back in it. Everything else waits for them and runs alone.
bool Client::may_pipeline(Frame const& frame) const noexcept {
  auto const* req = std::get_if<protocol::Request>(&frame);
  if (!req || !authenticated_) return false;
  return std::holds_alternative<protocol::MessageSend>(req->command) ||
         std::holds_alternative<protocol::Typing>(req->command) ||
         std::holds_alternative<protocol::Read>(req->command) ||
         std::holds_alternative<protocol::HistoryGet>(req->command) ||
         std::holds_alternative<protocol::ConversationAccept>(req->command) ||
         std::holds_alternative<protocol::ConversationDecline>(req->command);
}

// Runs the queued frames in the order the gate allows: a pipelined request
// starts as soon as fewer than the cap are in flight; any other waits for
// every earlier one to finish and runs alone.
asio::awaitable<void> Client::drain(std::shared_ptr<Client> self) {
  while (inbox_head_ < inbox_.size() && !closed_) {
    bool const side_by_side = may_pipeline(inbox_[inbox_head_]);
    while (gate_.next(side_by_side) == core::ClientGate::Step::wait && !closed_) co_await settle();
    if (closed_) break;
    Frame frame = std::move(inbox_[inbox_head_++]);
    if (inbox_head_ == inbox_.size()) {
      inbox_.clear();
      inbox_head_ = 0;
    }
    gate_.started(side_by_side);
    if (side_by_side) {
      asio::co_spawn(app_.executor(), pipelined(self, std::move(frame)), asio::detached);
      continue;
    }
    co_await handle_guarded(std::move(frame));
    finished(false);
  }
  draining_ = false;
}

// Waits until a pipelined request finishes (or the client closes).
asio::awaitable<void> Client::settle() {
  settling_ = true;
  timer_.expires_at(asio::steady_timer::time_point::max());
  co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  settling_ = false;
}

asio::awaitable<void> Client::pipelined([[maybe_unused]] std::shared_ptr<Client> self, Frame frame) {
  co_await handle_guarded(std::move(frame));
  finished(true);
  if (settling_) timer_.cancel();
}

asio::awaitable<void> Client::handle_guarded(Frame frame) {
  try {
    co_await handle(std::move(frame));
  } catch (std::exception const& e) {
    spdlog::error("ws {}: handler failed: {}", id(), e.what());
    send(protocol::encode_error(nullptr, error::internal, "internal error"));
  }
}

asio::awaitable<void> Client::handle(Frame frame) {
  if (auto* bad = std::get_if<protocol::DecodeError>(&frame)) {
    if (!hello_seen_) {
      send(protocol::encode_error(bad->id, error::unauthorized, "the first frame must be hello"));
      close(protocol::close_code::unauthorized, "hello expected");
      co_return;
    }
    send(protocol::encode_error(bad->id, bad->code, bad->message));
    if (bad->code == error::bad_request) count_invalid();
    co_return;
  }
  auto& req = std::get<protocol::Request>(frame);
  bool is_hello = std::holds_alternative<protocol::Hello>(req.command);
  if (!hello_seen_) {
    if (!is_hello) {
      send(protocol::encode_error(req.id, error::unauthorized, "the first frame must be hello"));
      close(protocol::close_code::unauthorized, "hello expected");
      co_return;
    }
    hello_seen_ = true;
    timer_.cancel();
    co_await app_.hello(*this, req);
    co_return;
  }
  if (is_hello) {
    send(protocol::encode_error(req.id, error::bad_request, "hello was already received"));
    count_invalid();
    co_return;
  }
  if (!authenticated_) co_return;  // hello failed; the close is on its way
  if (!protocol::allowed(req.command, role_)) {
    send(protocol::encode_error(req.id, error::forbidden,
                                "a " + std::string(core::to_string(role_)) + " may not send " + req.type));
    co_return;
  }
  co_await app_.handle(*this, req);
}

// A request is done: when half the backlog is, the socket is read again.
void Client::finished(bool pipelined) {
  gate_.finished(pipelined);
  if (reading_paused_ && gate_.may_resume()) {
    reading_paused_ = false;
    ws_->resume_reading();
  }
}

// A client that keeps sending malformed frames (at a rate the flood limit
// allows) is broken or probing: past limits.invalid_frames bad_request
// answers within a minute it is closed with 4400 (PROTOCOL.md §3).
void Client::count_invalid() {
  if (closed_ || !gate_.invalid(app_.clock().now())) return;
  spdlog::warn("ws {}: closed after too many invalid frames", id());
  close(protocol::close_code::protocol_violation, "too many invalid frames");
}

void Client::on_close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  inbox_.clear();
  inbox_head_ = 0;
  app_.client_closed(*this);
}

void Client::send(std::shared_ptr<std::string const> frame) {
  if (!closed_) ws_->send(std::move(frame));
}

void Client::send(std::string frame) { send(std::make_shared<std::string const>(std::move(frame))); }

void Client::close(std::uint16_t code, std::string reason) { ws_->close(code, std::move(reason)); }

void Client::send_position(std::string const& conversation_id, int position, int estimated_wait_s) {
  auto [it, inserted] = positions_.try_emplace(conversation_id, position);
  if (!inserted && it->second == position) return;
  it->second = position;
  boost::json::object ev;
  ev["conversation_id"] = conversation_id;
  ev["position"] = position;
  ev["estimated_wait_s"] = estimated_wait_s;
  send(protocol::encode_event("queue.position", std::move(ev)));
}

}  // namespace exceed::app
