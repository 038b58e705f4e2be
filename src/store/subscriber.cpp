#include "store/session.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace exceed::store {
namespace {

using namespace detail;

class SubscriberImpl final : public Subscriber, public Session {
 public:
  SubscriberImpl(asio::any_io_executor ex, Endpoint ep, Handler on_message, Options opt)
      : Session(ex, std::move(ep), opt, "subscriber"), on_message_(std::move(on_message)) {}

  void start() override { begin(); }
  void stop() override { end(); }
  bool connected() const noexcept override { return up(); }
  void on_up(std::function<void()> f) override { on_up_ = std::move(f); }
  void on_down(std::function<void()> f) override { on_down_ = std::move(f); }
  std::string last_error() const override { return last_error_; }

  // Remembered at once; sent now only if the link is past AUTH, else it is
  // part of the replay that follows the next AUTH.
  void subscribe(std::string channel) override {
    auto [it, inserted] = channels_.insert(std::move(channel));
    if (inserted && link_ && authed_) link_->subscribe(Args{*it});
  }

  void unsubscribe(std::string const& channel) override {
    if (channels_.erase(channel) == 0) return;
    if (link_ && authed_) link_->unsubscribe(channel);
  }

 private:
  void after_auth(Link& link) override {
    authed_ = true;
    if (channels_.empty()) {
      ready(link);
      return;
    }
    awaiting_ = channels_;
    link.subscribe(Args(channels_.begin(), channels_.end()));
  }

  // Frames are [kind, channel, payload-or-count]; anything else is dropped.
  void link_push(Link& link, Reply r) override {
    if (&link != link_.get() || !r.is_array() || r.elements.size() < 3) return;
    auto const& kind = r.elements[0].str;
    auto const& channel = r.elements[1].str;
    if (kind == "message") {
      if (on_message_) on_message_(channel, r.elements[2].str);
    } else if (kind == "subscribe" && !up()) {
      awaiting_.erase(channel);
      if (awaiting_.empty()) ready(link);
    }
  }

  void link_connected(Link& link) override {
    authed_ = false;
    Session::link_connected(link);
  }

  void went_down() override {
    authed_ = false;
    awaiting_.clear();
  }

  Handler on_message_;
  std::set<std::string> channels_;
  std::set<std::string> awaiting_;  // replayed channels not yet confirmed
  bool authed_ = false;
};

}  // namespace

std::shared_ptr<Subscriber> Subscriber::create(boost::asio::any_io_executor ex, Endpoint ep, Handler on_message,
                                               Options opt) {
  auto impl = std::make_shared<SubscriberImpl>(ex, std::move(ep), std::move(on_message), opt);
  impl->bind_self(impl);
  return impl;
}

}  // namespace exceed::store
