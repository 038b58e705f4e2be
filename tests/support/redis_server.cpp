#include "support/redis_server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace exceed::test {
namespace {

std::string bulk(std::string const& s) { return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n"; }

// True when the server on 127.0.0.1:port answers PING with +PONG (after AUTH
// when a password is set). A server still loading its AOF answers -LOADING,
// which counts as not ready.
bool answers_ping(std::uint16_t port, std::string const& password) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{0, 500'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string req = password.empty() ? "" : "*2\r\n" + bulk("AUTH") + bulk(password);
    req += "*1\r\n" + bulk("PING");
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      std::string got;
      char buf[256];
      while (got.find("PONG\r\n") == std::string::npos && got.find('-') == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
      }
      ok = got.find("+PONG\r\n") != std::string::npos && got.find('-') == std::string::npos;
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

RedisServer::RedisServer(Options opt) : opt_(std::move(opt)), dir_(make_temp_dir("exceed-redis-")) {
  // free_port() races with other processes grabbing the port before Redis
  // binds it: retry with a fresh port a few times.
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = free_port();
    if (spawn_and_wait(std::chrono::seconds(10))) return;
  }
  std::string tail = log_tail();
  std::filesystem::remove_all(dir_);
  throw std::runtime_error("redis-server did not come up:\n" + tail);
}

RedisServer::~RedisServer() {
  proc_.reset();  // SIGKILL and reap
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

bool RedisServer::spawn_and_wait(std::chrono::milliseconds limit) {
  std::vector<std::string> argv{"redis-server",
                                "--port", std::to_string(port_),
                                "--bind", "127.0.0.1",
                                "--dir", dir_,
                                "--dbfilename", "dump.rdb",
                                "--save", "",
                                "--appendonly", opt_.appendonly ? "yes" : "no",
                                "--appendfsync", opt_.fsync_always ? "always" : "everysec",
                                "--protected-mode", "no",
                                "--daemonize", "no",
                                "--enable-debug-command", "local",
                                "--logfile", ""};
  if (!opt_.password.empty()) {
    argv.emplace_back("--requirepass");
    argv.push_back(opt_.password);
  }
  argv.insert(argv.end(), opt_.more.begin(), opt_.more.end());
  proc_.emplace(std::move(argv), std::vector<std::pair<std::string, std::string>>{}, dir_ + "/redis.log");
  auto const deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!proc_->running()) return false;  // e.g. port taken
    if (answers_ping(port_, opt_.password)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  proc_.reset();
  return false;
}

void RedisServer::start() {
  if (running()) return;
  if (!spawn_and_wait(std::chrono::seconds(10)))
    throw std::runtime_error("redis-server did not restart on port " + std::to_string(port_) + ":\n" + log_tail());
}

void RedisServer::stop() {
  if (!proc_) return;
  proc_->signal(SIGTERM);
  if (proc_->wait(std::chrono::seconds(10)) < 0) proc_->signal(SIGKILL);
  proc_.reset();
}

void RedisServer::kill9() {
  if (!proc_) return;
  proc_->signal(SIGKILL);
  proc_->wait(std::chrono::seconds(10));
  proc_.reset();
}

void RedisServer::freeze() {
  if (!proc_) return;
  proc_->signal(SIGSTOP);
  // The state letter in /proc/<pid>/stat, after the command name in parentheses.
  auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    std::ifstream in("/proc/" + std::to_string(proc_->pid()) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'T') return;
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("redis-server did not stop on SIGSTOP");
    std::this_thread::yield();  // the kernel stops it within microseconds
  }
}

void RedisServer::thaw() {
  if (proc_) proc_->signal(SIGCONT);
}

bool RedisServer::running() { return proc_ && proc_->running(); }

std::string RedisServer::log_tail() const {
  std::ifstream in(dir_ + "/redis.log");
  std::string line, tail;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  for (std::size_t i = lines.size() > 20 ? lines.size() - 20 : 0; i < lines.size(); ++i) tail += lines[i] + "\n";
  return tail;
}

}  // namespace exceed::test
