// Internal to the store layer: asking Redis Sentinels where the primary is.
//
// A Session with sentinels (Endpoint::sentinels) runs one SentinelQuery
// before each (re)connect: the sentinels are tried in order (the one that
// answered last first), each bounded by the connect timeout, and the first
// that names the primary wins. The Session then connects there and checks
// ROLE before declaring the link up, so a demoted primary that comes back
// is never written to. Sentinel reconfigures a demoted primary with CLIENT
// KILL, which drops our link and starts a new query.
#pragma once

#include "store/link.hpp"

#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace exceed::store::detail {

class SentinelQuery final : public LinkOwner, public std::enable_shared_from_this<SentinelQuery> {
 public:
  struct Answer {
    std::size_t index = 0;  // which sentinel answered
    std::string host;
    std::uint16_t port = 0;
  };
  // Called once (posted, never inside hiredis): the answer, or nullopt and
  // why every sentinel failed. Not called after cancel().
  using Done = std::function<void(std::optional<Answer>, std::string const& why)>;

  SentinelQuery(asio::any_io_executor ex, std::vector<Endpoint::Sentinel> sentinels, std::string master,
                std::chrono::milliseconds per_sentinel, Done done);
  SentinelQuery(SentinelQuery const&) = delete;
  SentinelQuery& operator=(SentinelQuery const&) = delete;
  ~SentinelQuery();

  void start();   // call once, after make_shared
  void cancel();  // no callback after this

 private:
  void try_next();
  void failed(std::string why);  // the current sentinel did not answer usefully
  void finish(std::optional<Answer> answer);
  void on_reply(std::error_code ec, Reply const& r);

  void link_connected(Link& link) override;
  void link_lost(Link& link, std::string const& why) override;

  asio::any_io_executor ex_;
  std::vector<Endpoint::Sentinel> sentinels_;
  std::string master_;
  std::chrono::milliseconds per_sentinel_;
  Done done_;
  std::shared_ptr<Link> link_;
  asio::steady_timer timer_;
  std::uint64_t gen_ = 0;  // tells a stale timer from the current attempt's
  std::size_t next_ = 0;
  std::size_t current_ = 0;
  std::string errors_;
};

// Keeps a subscription to +switch-master on one sentinel (the next one when
// its link drops, after a second), so a failover is followed at once rather
// than at the next reconnect attempt, and a primary cut off by the network
// is left even while its link still looks open.
class SentinelWatch final : public LinkOwner, public std::enable_shared_from_this<SentinelWatch> {
 public:
  using Switched = std::function<void(std::string const& host, std::uint16_t port)>;
  SentinelWatch(asio::any_io_executor ex, std::vector<Endpoint::Sentinel> sentinels, std::string master,
                Switched on_switch);
  SentinelWatch(SentinelWatch const&) = delete;
  SentinelWatch& operator=(SentinelWatch const&) = delete;
  ~SentinelWatch();

  void start();
  void cancel();

 private:
  void open_next();
  void retry_later();
  void link_connected(Link& link) override;
  void link_lost(Link& link, std::string const& why) override;
  void link_push(Link& link, Reply r) override;

  asio::any_io_executor ex_;
  std::vector<Endpoint::Sentinel> sentinels_;
  std::string master_;
  Switched on_switch_;
  std::shared_ptr<Link> link_;
  asio::steady_timer timer_;
  std::size_t next_ = 0;
  bool stopped_ = false;
};

}  // namespace exceed::store::detail
