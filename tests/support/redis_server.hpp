// Test support: a real redis-server (from PATH) on a free loopback port, in
// its own temporary directory, stopped and restarted at will with its data
// kept (AOF).
#pragma once

#include "support/process.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace exceed::test {

struct RedisServerOptions {
  bool appendonly = true;
  bool fsync_always = false;  // appendfsync always (else everysec)
  std::string password;       // requirepass when non-empty
  std::vector<std::string> more;  // further arguments, e.g. {"--rename-command", "FCALL", "hidden"}
};

class RedisServer {
 public:
  using Options = RedisServerOptions;

  // Starts the server and returns once it answers PING; throws
  // std::runtime_error (with the server log's tail) when it does not.
  explicit RedisServer(Options opt = {});
  RedisServer(RedisServer const&) = delete;
  RedisServer& operator=(RedisServer const&) = delete;
  ~RedisServer();  // kills the server and removes its directory

  void start();  // again, same port and dir; no-op while running
  void stop();   // SIGTERM (clean shutdown), SIGKILL after 10 s
  void kill9();  // SIGKILL: a crash, nothing flushed beyond the AOF policy
  // SIGSTOP / SIGCONT: a Redis that hangs (a long fork, a stalled disk).
  // freeze() returns once the kernel reports the process stopped.
  void freeze();
  void thaw();
  bool running();

  std::uint16_t port() const noexcept { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  std::string const& dir() const noexcept { return dir_; }

 private:
  bool spawn_and_wait(std::chrono::milliseconds limit);
  std::string log_tail() const;

  Options opt_;
  std::string dir_;
  std::uint16_t port_ = 0;
  std::optional<Process> proc_;
};

}  // namespace exceed::test
