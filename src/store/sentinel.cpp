#include "store/sentinel.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

namespace exceed::store::detail {

SentinelQuery::SentinelQuery(asio::any_io_executor ex, std::vector<Endpoint::Sentinel> sentinels, std::string master,
                             std::chrono::milliseconds per_sentinel, Done done)
    : ex_(ex),
      sentinels_(std::move(sentinels)),
      master_(std::move(master)),
      per_sentinel_(per_sentinel),
      done_(std::move(done)),
      timer_(ex) {}

SentinelQuery::~SentinelQuery() {
  if (link_) link_->close();  // our weak_ptr is dead: the link tells no one
}

void SentinelQuery::start() { try_next(); }

void SentinelQuery::cancel() {
  done_ = nullptr;
  ++gen_;
  timer_.cancel();
  if (auto l = std::move(link_)) l->close();
}

void SentinelQuery::try_next() {
  if (!done_) return;
  if (next_ >= sentinels_.size()) {
    finish(std::nullopt);
    return;
  }
  current_ = next_++;
  auto const& s = sentinels_[current_];
  Endpoint at;
  at.host = s.host;
  at.port = s.port;
  std::string why;
  link_ = Link::open(ex_, at, weak_from_this(), &why);
  if (!link_) {
    failed(why);
    return;
  }
  auto gen = ++gen_;
  timer_.expires_after(per_sentinel_);
  timer_.async_wait([w = weak_from_this(), gen](boost::system::error_code ec) {
    auto self = w.lock();
    if (ec || !self || gen != self->gen_) return;
    self->failed("timed out");
  });
}

void SentinelQuery::failed(std::string why) {
  if (!done_) return;
  auto const& s = sentinels_[current_];
  if (!errors_.empty()) errors_ += "; ";
  errors_ += s.host + ":" + std::to_string(s.port) + ": " + why;
  ++gen_;
  timer_.cancel();
  if (auto l = std::move(link_)) l->close();  // its link_lost is ignored: link_ is no longer it
  try_next();
}

void SentinelQuery::finish(std::optional<Answer> answer) {
  ++gen_;
  timer_.cancel();
  if (auto l = std::move(link_)) l->close();
  auto done = std::move(done_);
  done_ = nullptr;
  auto keep = shared_from_this();  // done() may drop the owner's reference to us
  if (done) done(std::move(answer), errors_);
}

void SentinelQuery::link_connected(Link& link) {
  if (&link != link_.get()) return;
  Args ask{"SENTINEL", "get-master-addr-by-name", master_};
  link.command(ask, Clock::now() + per_sentinel_,
               make_completion([w = weak_from_this(), l = link.weak_from_this()](std::error_code ec, Reply r) {
                 auto self = w.lock();
                 auto link = l.lock();
                 if (!self || !link || link != self->link_) return;
                 self->on_reply(ec, r);
               }));
}

void SentinelQuery::on_reply(std::error_code ec, Reply const& r) {
  if (ec) return failed(ec.message());
  if (r.is_error()) return failed(r.str);
  if (r.is_nil()) return failed("does not know '" + master_ + "'");
  if (!r.is_array() || r.elements.size() != 2) return failed("unexpected reply");
  Answer a;
  a.index = current_;
  a.host = r.elements[0].str;
  auto const& p = r.elements[1].str;
  auto [end, perr] = std::from_chars(p.data(), p.data() + p.size(), a.port);
  if (a.host.empty() || perr != std::errc{} || end != p.data() + p.size() || a.port == 0)
    return failed("unexpected address '" + a.host + ":" + p + "'");
  finish(std::move(a));
}

void SentinelQuery::link_lost(Link& link, std::string const& why) {
  if (&link != link_.get()) return;
  link_.reset();
  failed(why);
}

// ---------------------------------------------------------------- SentinelWatch

SentinelWatch::SentinelWatch(asio::any_io_executor ex, std::vector<Endpoint::Sentinel> sentinels, std::string master,
                             Switched on_switch)
    : ex_(ex), sentinels_(std::move(sentinels)), master_(std::move(master)), on_switch_(std::move(on_switch)),
      timer_(ex) {}

SentinelWatch::~SentinelWatch() {
  if (link_) link_->close();
}

void SentinelWatch::start() { open_next(); }

void SentinelWatch::cancel() {
  stopped_ = true;
  on_switch_ = nullptr;
  timer_.cancel();
  if (auto l = std::move(link_)) l->close();
}

void SentinelWatch::open_next() {
  if (stopped_ || sentinels_.empty()) return;
  auto const& s = sentinels_[next_++ % sentinels_.size()];
  Endpoint at;
  at.host = s.host;
  at.port = s.port;
  std::string why;
  link_ = Link::open(ex_, at, weak_from_this(), &why);
  if (!link_) retry_later();
}

void SentinelWatch::retry_later() {
  if (stopped_) return;
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([w = weak_from_this()](boost::system::error_code ec) {
    if (auto self = w.lock(); self && !ec) self->open_next();
  });
}

void SentinelWatch::link_connected(Link& link) {
  if (&link != link_.get()) return;
  link.subscribe(Args{"+switch-master"});
}

void SentinelWatch::link_lost(Link& link, std::string const&) {
  if (&link != link_.get()) return;
  link_.reset();
  retry_later();
}

// ["message", "+switch-master", "<name> <old ip> <old port> <new ip> <new port>"]
void SentinelWatch::link_push(Link& link, Reply r) {
  if (&link != link_.get() || !r.is_array() || r.elements.size() < 3 || r.elements[0].str != "message") return;
  std::string const& text = r.elements[2].str;
  std::vector<std::string> words;
  for (std::size_t i = 0; i < text.size();) {
    auto sp = text.find(' ', i);
    if (sp == std::string::npos) sp = text.size();
    words.push_back(text.substr(i, sp - i));
    i = sp + 1;
  }
  if (words.size() != 5 || words[0] != master_) return;
  std::uint16_t port = 0;
  auto const& p = words[4];
  auto [end, perr] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (perr != std::errc{} || end != p.data() + p.size() || port == 0) return;
  if (on_switch_) on_switch_(words[3], port);
}

}  // namespace exceed::store::detail
