// Background steps of a process (offer expiry, grace, heartbeats, due
// follow-ups, ticket auto-close): each runs every `period` while Redis is
// reachable. A step that throws is logged and the next one runs on time;
// stop() cancels them all.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace exceed::app {

class App;

class Periodic {
 public:
  Periodic(App& app, std::string name) : app_(app), name_(std::move(name)) {}

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

  App& app_;
  std::string name_;
  std::vector<std::shared_ptr<boost::asio::steady_timer>> timers_;
  bool stopped_ = false;
};

}  // namespace exceed::app
