#include "store/session.hpp"

#include "store/sentinel.hpp"

#include <hiredis/async.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace exceed::store::detail {

// ---------------------------------------------------------------- Session

Session::Session(asio::any_io_executor ex, Endpoint ep, Options opt, char const* kind)
    : ex_(ex), ep_(std::move(ep)), opt_(opt), kind_(kind), phase_timer_(ex), rng_(std::random_device{}()) {}

Session::~Session() {
  if (link_) link_->close();  // our weak_ptr is dead: the link tells no one
}

void Session::begin() {
  if (running_) return;
  running_ = true;
  attempts_ = 0;
  connect_now();
}

void Session::end() {
  running_ = false;
  up_ = false;
  ++phase_gen_;
  phase_timer_.cancel();
  stop_sentinels();
  if (auto link = std::move(link_)) link->close();
  went_down();
}

void Session::connect_now() {
  if (!ep_.sentinels.empty()) {
    ask_sentinels();  // then connect_link() to the primary they name
    return;
  }
  connect_link();
}

void Session::connect_link() {
  std::string why;
  error_noted_ = false;
  link_ = Link::open(ex_, ep_, weak_self_, &why);
  if (!link_) {
    last_error_ = "connect: " + why;
    if (attempts_ == 0) spdlog::warn("redis {} {}: connect failed: {}", kind_, ep_.describe(), why);
    schedule_reconnect();
    return;
  }
  arm_phase_timer(opt_.connect_timeout, &Session::connect_timed_out);
}

void Session::connect_timed_out() {
  if (!link_ || up_) return;
  last_error_ = "connect: timed out";
  error_noted_ = true;
  spdlog::warn("redis {} {}: connect timed out after {} ms", kind_, ep_.describe(), opt_.connect_timeout.count());
  link_->close();  // link_lost follows and schedules the retry
}

// Backoff: backoff_min doubling per failed attempt up to backoff_max, drawn
// uniformly from [d/2, d] so a fleet restarted together does not reconnect
// in lockstep.
void Session::schedule_reconnect() {
  auto d = opt_.backoff_min;
  for (unsigned i = 0; i < attempts_ && d < opt_.backoff_max; ++i) d *= 2;
  d = std::min(d, opt_.backoff_max);
  ++attempts_;
  std::uniform_int_distribution<long long> jitter(d.count() / 2, d.count());
  arm_phase_timer(std::chrono::milliseconds(jitter(rng_)), &Session::connect_now);
}

void Session::arm_phase_timer(std::chrono::milliseconds after, void (Session::*then)()) {
  auto gen = ++phase_gen_;
  phase_timer_.expires_after(after);
  phase_timer_.async_wait([w = weak_self_, gen, then](boost::system::error_code ec) {
    auto self = w.lock();
    if (ec || !self || self->phase_gen_ != gen || !self->running_) return;
    ((*self).*then)();
  });
}

void Session::link_connected(Link& link) {
  if (&link != link_.get()) return;
  if (ep_.password.empty()) {
    authenticated(link);
    return;
  }
  Args auth{"AUTH"};
  if (!ep_.username.empty()) auth.push_back(ep_.username);
  auth.push_back(ep_.password);
  link.command(auth, command_deadline(),
               make_completion([w = weak_self_, l = link.weak_from_this()](std::error_code ec, Reply r) {
                 auto self = w.lock();
                 auto link = l.lock();
                 if (!self || !link || link != self->link_) return;
                 if (ec || r.is_error())
                   self->handshake_failed(*link, "AUTH: " + (ec ? ec.message() : r.str));
                 else
                   self->authenticated(*link);
               }));
}

void Session::handshake_failed(Link& link, std::string why) {
  // A dead link failed the step with disconnected; link_lost tells why.
  if (&link != link_.get() || !link.alive()) return;
  spdlog::error("redis {} {}: {}", kind_, ep_.describe(), why);
  last_error_ = std::move(why);
  error_noted_ = true;
  link.close();
}

void Session::ready(Link& link) {
  if (&link != link_.get()) return;
  ++phase_gen_;
  phase_timer_.cancel();
  up_ = true;
  attempts_ = 0;
  last_error_.clear();
  spdlog::info("redis {} {}: up", kind_, ep_.describe());
  if (on_up_) on_up_();
}

void Session::link_lost(Link& link, std::string const& why) {
  if (&link != link_.get()) return;
  link_.reset();
  bool const was_up = up_;
  up_ = false;
  if (!running_) return;
  if (was_up) {
    spdlog::warn("redis {} {}: link lost: {}", kind_, ep_.describe(), why);
    went_down();
    if (on_down_) on_down_();
  } else {
    if (!error_noted_) last_error_ = "connect: " + why;
    if (attempts_ == 0) spdlog::warn("redis {} {}: connect failed: {}", kind_, ep_.describe(), why);
    else spdlog::debug("redis {} {}: connect attempt {} failed: {}", kind_, ep_.describe(), attempts_, why);
  }
  if (running_ && !link_) schedule_reconnect();
}

// ---------------------------------------------------------------- with sentinels

void Session::stop_sentinels() {
  if (auto q = std::move(query_)) q->cancel();
  if (auto w = std::move(watch_)) w->cancel();
}

// A failover announced: leave the old primary now (its link may still look
// open) or, between attempts, try again at once.
void Session::primary_switched(std::string const& host, std::uint16_t port) {
  if (!running_) return;
  spdlog::warn("redis {} {}: the sentinels switched the primary to {}:{}", kind_, ep_.describe(), host, port);
  if (up_ && ep_.host == host && ep_.port == port) return;
  if (query_) return;  // asking already; the answer will be the new primary
  if (link_) {
    error_noted_ = true;
    last_error_ = "the primary was switched";
    link_->close();  // link_lost follows and reconnects through the sentinels
    return;
  }
  attempts_ = 0;
  arm_phase_timer(std::chrono::milliseconds(0), &Session::connect_now);
}

void Session::ask_sentinels() {
  error_noted_ = false;
  if (!watch_) {
    watch_ = std::make_shared<SentinelWatch>(ex_, ep_.sentinels, ep_.master_name,
                                             [w = weak_self_](std::string const& host, std::uint16_t port) {
                                               if (auto self = w.lock()) self->primary_switched(host, port);
                                             });
    watch_->start();
  }
  query_ = std::make_shared<SentinelQuery>(
      ex_, ep_.sentinels, ep_.master_name, opt_.connect_timeout,
      [w = weak_self_](std::optional<SentinelQuery::Answer> a, std::string const& why) {
        auto self = w.lock();
        if (!self || !self->running_) return;
        self->query_.reset();
        if (!a) {
          self->last_error_ = "sentinels: " + why;
          if (self->attempts_ == 0)
            spdlog::warn("redis {} {}: no sentinel named the primary: {}", self->kind_, self->ep_.describe(), why);
          self->schedule_reconnect();
          return;
        }
        auto& list = self->ep_.sentinels;
        // The one that answered is asked first next time.
        if (a->index > 0 && a->index < list.size())
          std::rotate(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(a->index),
                      list.begin() + static_cast<std::ptrdiff_t>(a->index) + 1);
        if (a->host != self->ep_.host || a->port != self->ep_.port) {
          self->ep_.host = a->host;
          self->ep_.port = a->port;
          spdlog::info("redis {} {}: the sentinels name this primary", self->kind_, self->ep_.describe());
        }
        self->connect_link();
      });
  query_->start();
}

void Session::authenticated(Link& link) {
  if (ep_.sentinels.empty()) {
    after_auth(link);
    return;
  }
  Args role{"ROLE"};
  link.command(role, command_deadline(),
               make_completion([w = weak_self_, l = link.weak_from_this()](std::error_code ec, Reply r) {
                 auto self = w.lock();
                 auto link = l.lock();
                 if (!self || !link || link != self->link_) return;
                 if (ec) return self->handshake_failed(*link, "ROLE: " + ec.message());
                 if (r.is_array() && !r.elements.empty() && r.elements[0].str == "master")
                   return self->after_auth(*link);
                 std::string what = r.is_error() ? r.str
                                    : r.is_array() && !r.elements.empty() ? r.elements[0].str
                                                                          : std::string("unexpected reply");
                 self->handshake_failed(*link, "ROLE: " + what + ", not a primary; asking the sentinels again");
               }));
}

}  // namespace exceed::store::detail
