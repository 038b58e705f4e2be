// Internal to the store layer: the reconnect loop over a Link, shared by
// Connection and Subscriber (and the cluster's node sessions): connect
// timeout, AUTH, backoff, the up/down notifications, and with sentinels the
// question where the primary is (store/sentinel.hpp) before each connect.
// Not part of the public interface.
#pragma once

#include "store/link.hpp"

namespace exceed::store::detail {

class SentinelQuery;  // store/sentinel.hpp
class SentinelWatch;

// Reconnect loop, connect timeout, AUTH, and the up/down notifications;
// Connection and Subscriber add what follows AUTH (after_auth).
class Session : public LinkOwner {
 public:
  Session(asio::any_io_executor ex, Endpoint ep, Options opt, char const* kind);
  Session(Session const&) = delete;
  Session& operator=(Session const&) = delete;
  virtual ~Session();

  // The factory calls this right after make_shared: timers and links hold
  // only this weak reference.
  void bind_self(std::shared_ptr<Session> const& self) { weak_self_ = self; }

 protected:
  void begin();  // start(): connect now unless already running
  void end();    // stop(): close the link, stop reconnecting; no on_down
  bool up() const noexcept { return up_; }
  // Declares the link usable: resets the backoff and fires on_up.
  void ready(Link& link);
  // A handshake step failed: remember why, close, and let backoff retry.
  void handshake_failed(Link& link, std::string why);
  // Runs after AUTH (or at once without a password) on the current link.
  virtual void after_auth(Link& link) = 0;
  virtual void went_down() {}
  Clock::time_point command_deadline() const { return Clock::now() + opt_.command_timeout; }

  void link_connected(Link& link) override;
  void link_lost(Link& link, std::string const& why) override;

  asio::any_io_executor ex_;
  Endpoint ep_;
  Options opt_;
  char const* kind_;
  std::weak_ptr<Session> weak_self_;
  std::shared_ptr<Link> link_;
  std::function<void()> on_up_, on_down_;
  std::string last_error_;

 private:
  void connect_now();   // asks the sentinels first when there are any
  void connect_link();  // opens a link to ep_ as it stands
  void ask_sentinels();                // sentinel.cpp
  void authenticated(Link& link);      // sentinel.cpp: ROLE check with sentinels, then after_auth
  void stop_sentinels();               // sentinel.cpp
  void primary_switched(std::string const& host, std::uint16_t port);  // sentinel.cpp
  void schedule_reconnect();
  void arm_phase_timer(std::chrono::milliseconds after, void (Session::*then)());
  void connect_timed_out();

  asio::steady_timer phase_timer_;  // connect timeout, then backoff
  std::uint64_t phase_gen_ = 0;     // tells a stale timer completion from a live one
  bool running_ = false;
  bool up_ = false;
  bool error_noted_ = false;  // last_error_ already says why this attempt failed
  unsigned attempts_ = 0;  // failed attempts since the link was last up
  std::minstd_rand rng_;
  std::shared_ptr<SentinelQuery> query_;  // the sentinels being asked, if any
  std::shared_ptr<SentinelWatch> watch_;  // +switch-master subscription, with sentinels
};

}  // namespace exceed::store::detail
