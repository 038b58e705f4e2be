#include "support/webhook_receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace exceed::test {

WebhookReceiver::WebhookReceiver(std::function<Reply(std::size_t)> script) : script_(std::move(script)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0)
    throw std::runtime_error("webhook receiver: cannot listen");
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

WebhookReceiver::~WebhookReceiver() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
}

std::string WebhookReceiver::url(std::string const& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void WebhookReceiver::script(std::function<Reply(std::size_t)> s) {
  std::lock_guard lock(mu_);
  script_ = std::move(s);
}

std::vector<Delivery> WebhookReceiver::received() const {
  std::lock_guard lock(mu_);
  return received_;
}

bool WebhookReceiver::wait_for(std::function<bool(std::vector<Delivery> const&)> const& done,
                               std::chrono::milliseconds limit) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, limit, [&] { return done(received_); });
}

void WebhookReceiver::accept_loop() {
  for (;;) {
    pollfd p{listen_fd_, POLLIN, 0};
    ::poll(&p, 1, 200);
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    if (!(p.revents & POLLIN)) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void WebhookReceiver::serve(int fd) {
  std::string data;
  char buf[8192];
  std::size_t head_end = std::string::npos, need = 0;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (head_end == std::string::npos && (head_end = data.find("\r\n\r\n")) != std::string::npos) {
      auto lower = data.substr(0, head_end);
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      auto cl = lower.find("content-length:");
      need = cl == std::string::npos ? 0 : std::stoul(lower.substr(cl + 15));
    }
    if (head_end != std::string::npos && data.size() >= head_end + 4 + need) break;
  }
  if (head_end == std::string::npos) {
    ::close(fd);
    return;
  }
  Delivery d;
  auto first_line = data.substr(0, data.find("\r\n"));
  auto sp1 = first_line.find(' '), sp2 = first_line.rfind(' ');
  d.path = first_line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (std::size_t pos = data.find("\r\n") + 2; pos < head_end;) {
    auto eol = data.find("\r\n", pos);
    auto line = data.substr(pos, eol - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      auto name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      d.headers[name] = value;
    }
    pos = eol + 2;
  }
  d.body = data.substr(head_end + 4, need);
  Reply r;
  {
    std::lock_guard lock(mu_);
    auto n = requests_++;
    if (script_) r = script_(n);
  }
  if (r.delay.count() > 0) std::this_thread::sleep_for(r.delay);  // the slow receiver under test
  d.answered = r.status;
  std::string answer = "HTTP/1.1 " + std::to_string(r.status) + " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  (void)!::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
  ::close(fd);
  {
    std::lock_guard lock(mu_);
    received_.push_back(std::move(d));
  }
  changed_.notify_all();
}

}  // namespace exceed::test
