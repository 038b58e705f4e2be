// Test support: the real build/bin/exceed, started on a free port against
// a given Redis, with settings passed as EXCEED_* environment variables.
#pragma once

#include "support/process.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace exceed::test {

using Env = std::vector<std::pair<std::string, std::string>>;

inline constexpr char const* test_token_secret = "integration-test-secret-0123456789";

class ExceedServer {
 public:
  // Starts the server and returns once /healthz answers; throws with the
  // log's tail if it does not within 15 s.
  ExceedServer(std::string redis_url, Env env = {}, std::uint16_t port = 0);
  ~ExceedServer();

  std::uint16_t port() const noexcept { return port_; }
  void start();                                   // again, same port (after a stop or kill)
  int terminate(std::chrono::milliseconds limit = std::chrono::seconds(10));  // SIGTERM; exit code
  void signal(int sig);
  int wait_exit(std::chrono::milliseconds limit);  // exit code, or -1 if still running
  void kill9();
  bool running();
  // /readyz: true for 200, false for 503.
  bool ready();
  // Polls /readyz until it answers `want`, up to the limit.
  bool wait_ready(bool want, std::chrono::milliseconds limit = std::chrono::seconds(15));
  std::string log() const;

 private:
  std::string redis_url_;
  Env env_;
  std::uint16_t port_;
  std::string log_path_;
  std::optional<Process> proc_;
};

// Runs `exceed user add` with the password on standard input, and `env`'s
// settings (EXCEED_*) in its environment; the exit code.
int add_user(std::string const& redis_url, std::string const& username, std::string const& role,
             std::string const& teams = "support", int capacity = 3, std::string const& password = "password123",
             std::string const& name = "", Env const& env = {});

// The path of the built exceed binary.
std::string exceed_binary();

}  // namespace exceed::test
