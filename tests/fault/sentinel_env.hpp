// Fault tests: a primary, a replica and three Redis Sentinels (Debian's
// redis-sentinel), all on loopback in one temporary directory.
#pragma once

#include "fault/swarm.hpp"
#include "support/process.hpp"

#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace exceed::fault {

class RedisNode {
 public:
  RedisNode(std::string dir, std::vector<std::string> extra) : dir_(std::move(dir)), extra_(std::move(extra)) {
    std::filesystem::create_directories(dir_);
    start();
  }
  void start() {
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (!port_) port_ = test::free_port();
      std::vector<std::string> argv{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                    "--dir", dir_, "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                                    "--protected-mode", "no", "--daemonize", "no", "--logfile", ""};
      argv.insert(argv.end(), extra_.begin(), extra_.end());
      proc_.emplace(argv, std::vector<std::pair<std::string, std::string>>{}, dir_ + "/redis.log");
      if (poll_until([&] { return redis_command(port_, {"PING"}).at(0) == "PONG"; }, std::chrono::seconds(10)))
        return;
      proc_.reset();
      port_ = 0;
    }
    throw std::runtime_error("redis-server in " + dir_ + " did not start");
  }
  void kill9() {
    if (proc_) {
      proc_->signal(SIGKILL);
      proc_->wait(std::chrono::seconds(5));
    }
    proc_.reset();
  }
  std::uint16_t port() const { return port_; }
  std::string role() { return redis_command(port_, {"ROLE"}).at(0); }

 private:
  std::string dir_;
  std::vector<std::string> extra_;
  std::uint16_t port_ = 0;
  std::optional<test::Process> proc_;
};

class SentinelNode {
 public:
  SentinelNode(std::string dir, std::uint16_t primary_port, int quorum) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    port_ = test::free_port();
    std::ofstream conf(dir_ + "/sentinel.conf");
    conf << "port " << port_ << "\nbind 127.0.0.1\nprotected-mode no\ndaemonize no\ndir " << dir_
         << "\nsentinel monitor mymaster 127.0.0.1 " << primary_port << " " << quorum
         << "\nsentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 4000"
         << "\nsentinel parallel-syncs mymaster 1\n";
    conf.close();
    proc_.emplace(std::vector<std::string>{"redis-sentinel", dir_ + "/sentinel.conf"},
                  std::vector<std::pair<std::string, std::string>>{}, dir_ + "/sentinel.log");
    if (!poll_until([&] { return redis_command(port_, {"PING"}).at(0) == "PONG"; }, std::chrono::seconds(10)))
      throw std::runtime_error("redis-sentinel did not start on " + std::to_string(port_));
  }
  std::uint16_t port() const { return port_; }
  // The primary's port as this sentinel names it.
  std::uint16_t primary() {
    auto r = redis_command(port_, {"SENTINEL", "get-master-addr-by-name", "mymaster"});
    return r.size() == 2 && !r[1].empty() ? static_cast<std::uint16_t>(std::stoi(r[1])) : 0;
  }
  // Other sentinels and replicas this one knows of.
  int known(char const* what) {
    auto r = redis_command(port_, {"SENTINEL", what, "mymaster"});
    int n = 0;
    for (auto const& s : r) n += s == "name";
    return n;
  }

 private:
  std::string dir_;
  std::uint16_t port_ = 0;
  std::optional<test::Process> proc_;
};

}  // namespace exceed::fault
