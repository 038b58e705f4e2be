// Test support: an HTTP receiver of webhook deliveries on loopback, whose
// behaviour the test scripts request by request (fail with a status, answer
// late, or take it). Plain sockets and a thread per connection (the server
// sends one request per connection), so it costs nothing to compile.
// Waits end as soon as the awaited deliveries arrived: no sleeps.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace exceed::test {

struct Delivery {
  std::string path;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  int answered = 0;  // the status it was given
};

// What to do with the n-th request (0-based): a status, and how long to
// wait before answering.
struct Reply {
  int status = 200;
  std::chrono::milliseconds delay{0};
};

class WebhookReceiver {
 public:
  explicit WebhookReceiver(std::function<Reply(std::size_t n)> script = {});
  ~WebhookReceiver();
  WebhookReceiver(WebhookReceiver const&) = delete;
  WebhookReceiver& operator=(WebhookReceiver const&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  std::string url(std::string const& path = "/hooks") const;
  void script(std::function<Reply(std::size_t n)> s);

  // Every request so far, in arrival order.
  std::vector<Delivery> received() const;
  // Waits until `done(received)` holds, up to `limit`; false at the deadline.
  bool wait_for(std::function<bool(std::vector<Delivery> const&)> const& done, std::chrono::milliseconds limit);

 private:
  void accept_loop();
  void serve(int fd);

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::function<Reply(std::size_t)> script_;
  std::vector<Delivery> received_;
  std::size_t requests_ = 0;
  bool stopping_ = false;
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

}  // namespace exceed::test
