#include "support/exceed_server.hpp"

#include "support/ws_client.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace exceed::test {

std::string exceed_binary() { return EXCEED_BIN; }

ExceedServer::ExceedServer(std::string redis_url, Env env, std::uint16_t port)
    : redis_url_(std::move(redis_url)), env_(std::move(env)), port_(port ? port : free_port()) {
  log_path_ = make_temp_dir("exceed-log-") + "/exceed.log";
  start();
}

ExceedServer::~ExceedServer() = default;

void ExceedServer::start() {
  if (proc_ && proc_->running()) return;
  // Every test client comes from 127.0.0.1: the per-address and per-user
  // limits are lifted unless a test sets them (the shipped defaults have a
  // test of their own, with the binary started bare).
  Env defaults{{"EXCEED_REDIS_URL", redis_url_},
               {"EXCEED_SERVER_LISTEN", "127.0.0.1:" + std::to_string(port_)},
               {"EXCEED_AUTH_TOKEN_SECRET", test_token_secret},
               {"EXCEED_SERVER_WEB_ROOT", EXCEED_SOURCE_DIR "/web"},
               {"EXCEED_LOG_LEVEL", "debug"},
               {"EXCEED_REDIS_COMMAND_TIMEOUT_MS", "2000"},
               {"EXCEED_METRICS_PUBLIC", "true"},
               {"EXCEED_LIMITS_MAX_CONNECTIONS_PER_IP", "0"},
               {"EXCEED_LIMITS_SESSIONS_PER_USER", "100000"},
               {"EXCEED_LIMITS_VISITORS_PER_ADDRESS_PER_MIN", "1000000"},
               {"EXCEED_LIMITS_LOGINS_PER_ADDRESS_PER_MIN", "1000000"},
               {"EXCEED_LIMITS_TICKETS_PER_CUSTOMER_PER_HOUR", "1000000"},
               {"EXCEED_AUTH_LOGIN_FREE_FAILURES_PER_ADDRESS", "100000"}};
  // A test's own setting replaces the default (the first of two equal
  // names would win in the child's environment).
  Env env;
  for (auto const& kv : defaults) {
    bool overridden = std::any_of(env_.begin(), env_.end(), [&](auto const& o) { return o.first == kv.first; });
    if (!overridden) env.push_back(kv);
  }
  for (auto const& kv : env_) env.push_back(kv);
  proc_.emplace(std::vector<std::string>{exceed_binary(), "serve"}, env, log_path_);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!proc_->running()) throw std::runtime_error("exceed exited at start:\n" + log());
    try {
      if (http(port_, "GET", "/healthz").status == 200) return;
    } catch (std::exception const&) {
      // not listening yet
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a port that is not open yet
  }
  throw std::runtime_error("exceed did not answer /healthz:\n" + log());
}

int ExceedServer::terminate(std::chrono::milliseconds limit) {
  if (!proc_) return -1;
  proc_->signal(SIGTERM);
  return proc_->wait(limit);
}

void ExceedServer::signal(int sig) {
  if (proc_) proc_->signal(sig);
}

int ExceedServer::wait_exit(std::chrono::milliseconds limit) { return proc_ ? proc_->wait(limit) : -1; }

void ExceedServer::kill9() {
  if (!proc_) return;
  proc_->signal(SIGKILL);
  proc_->wait(std::chrono::seconds(5));
}

bool ExceedServer::running() { return proc_ && proc_->running(); }

bool ExceedServer::ready() {
  try {
    return http(port_, "GET", "/readyz").status == 200;
  } catch (std::exception const&) {
    return false;
  }
}

bool ExceedServer::wait_ready(bool want, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready() == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string ExceedServer::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = ss.str();
  return s.size() > 6000 ? s.substr(s.size() - 6000) : s;
}

int add_user(std::string const& redis_url, std::string const& username, std::string const& role,
             std::string const& teams, int capacity, std::string const& password, std::string const& name,
             Env const& env) {
  std::string vars;
  for (auto const& [k, v] : env) vars += k + "='" + v + "' ";
  std::string cmd = "printf '%s\\n' '" + password + "' | " + vars + "EXCEED_AUTH_PASSWORD_ITERATIONS=1000 '" + exceed_binary() +
                    "' user add '" + username + "' --role " + role + " --teams '" + teams + "' --capacity " +
                    std::to_string(capacity) + " --name '" + (name.empty() ? username : name) + "' --redis '" +
                    redis_url + "' > /dev/null";
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace exceed::test
