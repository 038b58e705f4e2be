#include "store/link.hpp"

#include <hiredis/async.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <mutex>

namespace exceed::store::detail {

namespace {

// A peer that closes mid-write must give hiredis EPIPE, not kill the process.
void ignore_sigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

Link* link_of(redisAsyncContext const* ac) { return static_cast<Link*>(ac->data); }

}  // namespace

Reply copy_reply(redisReply const& r) {
  Reply out;
  switch (r.type) {
    case REDIS_REPLY_STATUS:
      out.kind = Reply::Kind::status;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.kind = Reply::Kind::error;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STRING:
      out.kind = Reply::Kind::string;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.kind = Reply::Kind::integer;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.kind = Reply::Kind::array;
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(copy_reply(*r.element[i]));
      break;
    default:
      break;  // nil
  }
  return out;
}

// ---------------------------------------------------------------- Link

Link::Link(Private, asio::any_io_executor ex, redisAsyncContext* ac, std::weak_ptr<LinkOwner> owner)
    : ex_(ex), ac_(ac), owner_(std::move(owner)), fd_(ex) {}

std::shared_ptr<Link> Link::open(asio::any_io_executor ex, Endpoint const& ep,
                                 std::weak_ptr<LinkOwner> owner, std::string* why) {
  ignore_sigpipe();
  redisAsyncContext* ac = ep.unix_path.empty() ? redisAsyncConnect(ep.host.c_str(), ep.port)
                                               : redisAsyncConnectUnix(ep.unix_path.c_str());
  if (ac == nullptr) {
    *why = "out of memory";
    return nullptr;
  }
  if (ac->err != 0) {
    *why = ac->errstr != nullptr ? ac->errstr : "connect failed";
    redisAsyncFree(ac);  // no ev hooks attached yet: nothing calls back
    return nullptr;
  }
  auto link = std::make_shared<Link>(Private{}, ex, ac, std::move(owner));
  boost::system::error_code ec;
  link->fd_.assign(ac->c.fd, ec);
  if (ec) {
    *why = ec.message();
    link->ac_ = nullptr;
    redisAsyncFree(ac);
    return nullptr;
  }
  ac->data = link.get();
  ac->ev.data = link.get();
  ac->ev.addRead = &Link::ev_add_read;
  ac->ev.delRead = &Link::ev_del_read;
  ac->ev.addWrite = &Link::ev_add_write;
  ac->ev.delWrite = &Link::ev_del_write;
  ac->ev.cleanup = &Link::ev_cleanup;
  redisAsyncSetConnectCallback(ac, &Link::on_connect);
  link->self_ = link;
  link->arm_write();  // hiredis reports the connect only on the first I/O event
  return link;
}

template <class F>
void Link::tell_owner(F f) {
  if (owner_.expired()) return;  // e.g. the owner's destructor is closing us
  asio::post(ex_, [owner = owner_, self = shared_from_this(), f = std::move(f)]() mutable {
    if (auto o = owner.lock()) f(*o, *self);
  });
}

void Link::on_connect(redisAsyncContext const* ac, int status) {
  // On REDIS_ERR hiredis frees the context right after: cleanup reports it.
  if (status == REDIS_OK) link_of(ac)->tell_owner([](LinkOwner& o, Link& l) { o.link_connected(l); });
}

void Link::on_reply(redisAsyncContext* ac, void* reply, void*) {
  link_of(ac)->answer(static_cast<redisReply const*>(reply));
}

void Link::on_push(redisAsyncContext* ac, void* reply, void*) {
  if (reply == nullptr) return;  // context going away; cleanup reports it
  link_of(ac)->tell_owner([r = copy_reply(*static_cast<redisReply const*>(reply))](LinkOwner& o, Link& l) mutable {
    o.link_push(l, std::move(r));
  });
}

// hiredis runs reply callbacks in the order the commands were queued, so the
// front of pending_ is always the command being answered.
void Link::answer(redisReply const* reply) {
  if (pending_.empty()) return;
  Pending p = std::move(pending_.front());
  pending_.pop_front();
  if (expired_ > 0) {
    --expired_;
    return;  // its caller already got timeout
  }
  if (reply == nullptr)
    std::move(*p.done).post(ex_, make_error_code(error::disconnected), {});
  else
    std::move(*p.done).post(ex_, {}, copy_reply(*reply));
}

bool Link::send(Args const& args, void (*fn)(redisAsyncContext*, void*, void*)) {
  if (ac_ == nullptr) return false;
  constexpr std::size_t small = 16;
  std::array<char const*, small> argv_small;
  std::array<std::size_t, small> len_small;
  std::vector<char const*> argv_big;
  std::vector<std::size_t> len_big;
  char const** argv = argv_small.data();
  std::size_t* len = len_small.data();
  if (args.size() > small) {
    argv_big.resize(args.size());
    len_big.resize(args.size());
    argv = argv_big.data();
    len = len_big.data();
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    argv[i] = args[i].data();
    len[i] = args[i].size();
  }
  // hiredis only appends to its output buffer and asks for writability
  // (addWrite); the write happens in a later turn, so every command queued
  // in this turn leaves in one write().
  return redisAsyncCommandArgv(ac_, fn, nullptr, static_cast<int>(args.size()), argv, len) == REDIS_OK;
}

bool Link::command(Args const& args, Clock::time_point deadline, std::unique_ptr<Completion> done) {
  pending_.push_back(Pending{deadline, nullptr});
  if (!send(args, &Link::on_reply)) {
    pending_.pop_back();
    std::move(*done).post(ex_, make_error_code(error::disconnected), {});
    return false;
  }
  pending_.back().done = std::move(done);
  return true;
}

bool Link::subscribe(Args const& channels) {
  Args cmd;
  cmd.reserve(channels.size() + 1);
  cmd.emplace_back("SUBSCRIBE");
  cmd.insert(cmd.end(), channels.begin(), channels.end());
  return send(cmd, &Link::on_push);
}

bool Link::unsubscribe(std::string const& channel) {
  Args cmd{"UNSUBSCRIBE", channel};
  return send(cmd, &Link::on_push);
}

bool Link::push_command(Args const& cmd) { return send(cmd, &Link::on_push); }

void Link::close() {
  if (ac_ == nullptr) return;
  auto keep = shared_from_this();  // ev_cleanup drops self_ before hiredis is done with us
  redisAsyncFree(ac_);
}

std::optional<Clock::time_point> Link::expire(Clock::time_point now) {
  while (expired_ < pending_.size()) {
    Pending& p = pending_[expired_];
    if (p.deadline > now) return p.deadline;
    std::move(*p.done).post(ex_, make_error_code(error::timeout), {});
    p.done.reset();
    ++expired_;
  }
  return std::nullopt;
}

// Each direction has at most one async_wait outstanding; the handler asks
// hiredis to do the I/O only if it still wants that direction. hiredis
// re-arms reads after each read and writes while its buffer is non-empty.
void Link::arm_read() {
  want_read_ = true;
  if (read_armed_ || ac_ == nullptr) return;
  read_armed_ = true;
  fd_.async_wait(asio::posix::descriptor_base::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
    self->read_armed_ = false;
    if (!ec && self->ac_ != nullptr && self->want_read_) redisAsyncHandleRead(self->ac_);
  });
}

void Link::arm_write() {
  want_write_ = true;
  if (write_armed_ || ac_ == nullptr) return;
  write_armed_ = true;
  fd_.async_wait(asio::posix::descriptor_base::wait_write, [self = shared_from_this()](boost::system::error_code ec) {
    self->write_armed_ = false;
    if (!ec && self->ac_ != nullptr && self->want_write_) redisAsyncHandleWrite(self->ac_);
  });
}

void Link::ev_add_read(void* p) { static_cast<Link*>(p)->arm_read(); }
void Link::ev_del_read(void* p) { static_cast<Link*>(p)->want_read_ = false; }
void Link::ev_add_write(void* p) { static_cast<Link*>(p)->arm_write(); }
void Link::ev_del_write(void* p) { static_cast<Link*>(p)->want_write_ = false; }
void Link::ev_cleanup(void* p) { static_cast<Link*>(p)->ended(); }

// hiredis's cleanup hook: the context is being freed (after every pending
// callback got its NULL reply) and will close the fd itself.
void Link::ended() {
  std::string why = ac_->err != 0 && ac_->errstr != nullptr ? ac_->errstr : "closed";
  want_read_ = want_write_ = false;
  boost::system::error_code ignored;
  fd_.cancel(ignored);
  (void)fd_.release();
  ac_ = nullptr;
  tell_owner([why = std::move(why)](LinkOwner& o, Link& l) { o.link_lost(l, why); });
  self_.reset();
}

}  // namespace exceed::store::detail
