// Test support: start and supervise child processes (Linux: prctl).
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace exceed::test {

// One child process (argv[0] looked up in PATH), in its own process group.
// The destructor SIGKILLs and reaps it if it is still running, so a failing
// test never leaks servers; and the kernel SIGKILLs it if the test process
// dies without running destructors (a crash, ctest's kill at the timeout).
// That signal follows the thread that started the child: start children
// from a thread that lives as long as they do (the test's own thread).
class Process {
 public:
  // extra_env adds to (or overrides) the parent's environment. With a
  // log_file, stdout and stderr are appended to it; stdin is /dev/null.
  // Throws std::system_error when the program cannot be started.
  Process(std::vector<std::string> argv, std::vector<std::pair<std::string, std::string>> extra_env = {},
          std::string log_file = "");
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(Process const&) = delete;
  Process& operator=(Process const&) = delete;
  ~Process();

  pid_t pid() const noexcept { return pid_; }
  bool running();
  void signal(int sig);
  // Exit status once the child has ended within `timeout` (128 + signal
  // number when a signal killed it), or -1 if it is still running.
  int wait(std::chrono::milliseconds timeout);

 private:
  bool reap(bool block);
  void kill_and_reap() noexcept;

  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = -1;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read, close).
std::uint16_t free_port();

// A fresh directory under $TMPDIR (or /tmp) named prefix + random suffix.
std::string make_temp_dir(std::string prefix);

}  // namespace exceed::test
