#include "support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>

extern char** environ;

namespace exceed::test {
namespace {

std::system_error sys_error(int err, std::string const& what) {
  return std::system_error(err, std::generic_category(), what);
}

int decode_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

// The child's side of the fork: only async-signal-safe calls. An errno that
// stops it before the exec goes to err_fd (close-on-exec, so the parent
// reads nothing once the program runs).
[[noreturn]] void exit_with_errno(int err_fd) {
  int err = errno;
  [[maybe_unused]] auto n = ::write(err_fd, &err, sizeof err);
  ::_exit(127);
}

[[noreturn]] void exec_child(char* const* argv, char* const* envp, char const* log_file, pid_t parent, int err_fd) {
  // The kernel SIGKILLs the child when the test process ends without running
  // its destructors (a crash, an abort, ctest's kill at the timeout), so no
  // server outlives its test or holds ctest's output pipe. If the parent is
  // already gone, getppid() tells.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) exit_with_errno(err_fd);
  if (::getppid() != parent) ::_exit(127);
  // Own process group: a Ctrl-C meant for the test runner reaches the
  // runner, whose destructors then stop the children in order.
  if (::setpgid(0, 0) != 0) exit_with_errno(err_fd);
  int in = ::open("/dev/null", O_RDONLY);
  if (in < 0 || ::dup2(in, 0) < 0) exit_with_errno(err_fd);
  if (log_file != nullptr) {
    int out = ::open(log_file, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) exit_with_errno(err_fd);
  }
  ::execvpe(argv[0], argv, envp);
  exit_with_errno(err_fd);
}

}  // namespace

Process::Process(std::vector<std::string> argv, std::vector<std::pair<std::string, std::string>> extra_env,
                 std::string log_file) {
  if (argv.empty()) throw std::invalid_argument("Process: empty argv");
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (auto const& [k, v] : extra_env) overridden = overridden || k == name;
    if (!overridden) env.emplace_back(entry);
  }
  for (auto const& [k, v] : extra_env) env.push_back(k + "=" + v);
  std::vector<char*> cenv;
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  // fork + exec rather than posix_spawn, which cannot set the parent-death
  // signal (see exec_child).
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw sys_error(errno, "pipe2");
  pid_t const parent = ::getpid();
  char const* log = log_file.empty() ? nullptr : log_file.c_str();
  pid_ = ::fork();
  if (pid_ == 0) exec_child(cargv.data(), cenv.data(), log, parent, err_pipe[1]);
  int const fork_err = errno;
  ::close(err_pipe[1]);
  if (pid_ < 0) {
    ::close(err_pipe[0]);
    throw sys_error(fork_err, "fork for " + argv[0]);
  }
  int child_err = 0;
  ssize_t n;
  do {
    n = ::read(err_pipe[0], &child_err, sizeof child_err);
  } while (n == -1 && errno == EINTR);
  ::close(err_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof child_err)) {
    reap(true);
    pid_ = -1;
    throw sys_error(child_err, "spawn " + argv[0]);
  }
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), reaped_(other.reaped_), status_(other.status_) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    kill_and_reap();
    pid_ = std::exchange(other.pid_, -1);
    reaped_ = other.reaped_;
    status_ = other.status_;
  }
  return *this;
}

Process::~Process() { kill_and_reap(); }

void Process::kill_and_reap() noexcept {
  if (pid_ <= 0 || reaped_) return;
  ::kill(pid_, SIGKILL);
  reap(true);
}

// Collects the child's status once; true when it has ended.
bool Process::reap(bool block) {
  if (pid_ <= 0) return true;
  if (reaped_) return true;
  int st = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
  } while (r == -1 && errno == EINTR);
  if (r == pid_) {
    reaped_ = true;
    status_ = decode_status(st);
    return true;
  }
  if (r == -1) {  // ECHILD: someone else reaped it
    reaped_ = true;
    return true;
  }
  return false;
}

bool Process::running() { return !reap(false); }

void Process::signal(int sig) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

int Process::wait(std::chrono::milliseconds timeout) {
  auto const deadline = std::chrono::steady_clock::now() + timeout;
  while (!reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return status_;
}

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw sys_error(errno, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    throw sys_error(err, "bind 127.0.0.1:0");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string make_temp_dir(std::string prefix) {
  char const* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + prefix + "XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw sys_error(errno, "mkdtemp " + pattern);
  return pattern;
}

}  // namespace exceed::test
