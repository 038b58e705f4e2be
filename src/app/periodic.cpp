#include "app/periodic.hpp"


#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace exceed::app {
namespace asio = boost::asio;

void Periodic::start(std::chrono::milliseconds period, Step step) {
  auto timer = std::make_shared<asio::steady_timer>(ex_);
  timers_.push_back(timer);
  asio::co_spawn(ex_, loop(std::move(timer), period, std::move(step)), asio::detached);
}

void Periodic::stop() {
  stopped_ = true;
  for (auto& t : timers_) t->cancel();
}

asio::awaitable<void> Periodic::loop(std::shared_ptr<asio::steady_timer> timer, std::chrono::milliseconds period,
                                     Step step) {
  while (!stopped_) {
    try {
      if (ready_()) co_await step();
    } catch (std::exception const& e) {
      spdlog::error("{}: background step failed: {}", name_, e.what());
    }
    timer->expires_after(period);
    auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) break;
  }
}

}  // namespace exceed::app
