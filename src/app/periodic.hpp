// Background steps of a process (offer expiry, grace, heartbeats, due
// follow-ups, ticket auto-close): each runs every `period` while Redis is
// reachable. A step that throws is logged and the next one runs on time;
// stop() cancels them all.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace exceed::app {

class Periodic {
 public:
  // `ready` says whether the store can be reached (steps are skipped while
  // it cannot).
  Periodic(boost::asio::any_io_executor ex, std::function<bool()> ready, std::string name)
      : ex_(std::move(ex)), ready_(std::move(ready)), name_(std::move(name)) {}

  template <class Owner>
  void every(std::chrono::milliseconds period, Owner* owner, boost::asio::awaitable<void> (Owner::*step)()) {
    start(period, [owner, step] { return (owner->*step)(); });
  }
  void stop();
  bool stopped() const noexcept { return stopped_; }

 private:
  using Step = std::function<boost::asio::awaitable<void>()>;
  void start(std::chrono::milliseconds period, Step step);
  boost::asio::awaitable<void> loop(std::shared_ptr<boost::asio::steady_timer> timer, std::chrono::milliseconds period,
                                    Step step);

  boost::asio::any_io_executor ex_;
  std::function<bool()> ready_;
  std::string name_;
  std::vector<std::shared_ptr<boost::asio::steady_timer>> timers_;
  bool stopped_ = false;
};

}  // namespace exceed::app
