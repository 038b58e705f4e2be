// Live figures for supervisors and counters for operators.
//
// Supervisors: `metrics.subscribe` gets a full snapshot at once, then a
// `metrics` event at most once a second and only when a figure changed. The
// figures are the deployment's, not this process's: the gauges come from
// Redis in one script (O(teams + agents)), and the rolling windows from the
// stream of samples every process's scripts append to (first responses,
// queue waits, breaches, assessments), which each process reads on from
// where it left off into a core::LiveWindow. Nothing scans conversations.
//
// The reading costs Redis a few milliseconds per thousand agents, so a
// process reads every second only while a supervisor of its own watches;
// otherwise once a minute (for the charts' series) and on a scrape.
//
// Operators: GET /metrics in the Prometheus text format. Counters and
// histograms are this process's (Prometheus sums them over instances);
// queue_length and followups_overdue are deployment-wide gauges.
#pragma once

#include "app/config.hpp"
#include "app/periodic.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/prometheus.hpp"
#include "store/figures.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::app {

class Client;

class Metrics {
 public:
  struct Deps {
    store::FigureStore& store;
    core::Clock const& clock;
    Config::Metrics const& config;
    boost::asio::any_io_executor executor;
    std::function<bool()> store_up;
    // Whether this process's events go on the bus (App::bus_publishing).
    std::function<bool()> bus_publishing;
    // This process's authenticated sessions of a role (the Hub's count).
    std::function<std::size_t(core::Role)> sessions;
  };
  explicit Metrics(Deps deps);
  ~Metrics();

  void start();
  void stop();

  // A supervisor asked for live figures (the ack is the caller's).
  void subscribe(std::shared_ptr<Client> const& client);

  // What handlers report as it happens.
  void message_received() noexcept { *messages_in_ += 1; }
  void messages_delivered(std::size_t n) noexcept { *messages_out_ += static_cast<double>(n); }
  void queue_wait(core::Millis ms) { queue_wait_->observe(static_cast<double>(ms) / 1000.0); }
  void first_response(core::Millis ms) { first_response_->observe(static_cast<double>(ms) / 1000.0); }
  void sla_breach(std::string_view metric);
  void assessed(std::string_view level);
  // A login refused: password, disabled, throttled, rate_limited or busy.
  void login_refused(std::string_view reason);
  // A request refused by a rate limit (visitors, tickets, sessions).
  void rate_limited(std::string_view what);
  // Invitations to chat (shown, dismissed, accepted, chat) and the visitors on the site.
  void invitation(std::string_view event);
  void visitors_live(std::size_t n);
  core::prom::Histogram* redis_latency() noexcept { return redis_latency_; }
  // For features that count their own (webhooks).
  core::prom::Registry& registry() noexcept { return registry_; }

  // GET /metrics (reads the deployment's gauges first when the last
  // reading is more than a few seconds old).
  boost::asio::awaitable<std::string> prometheus();

  // The last snapshot sent or ready to send (tests and the HTTP API).
  boost::json::object const& last() const noexcept { return last_; }

 private:
  boost::asio::awaitable<void> tick();
  boost::asio::awaitable<void> refresh(bool broadcast);
  boost::asio::awaitable<void> read_samples(core::Millis now);
  void publish(store::LiveReading const& live, core::Millis now, bool broadcast);
  std::string render_prometheus();
  struct Subscriber {
    std::weak_ptr<Client> client;
    std::string sent;  // the figures last sent to it (without as_of)
  };

  Deps d_;
  Periodic periodic_;
  core::LiveWindow window_;
  std::string cursor_;  // the last stream entry read ("" before the first)
  bool busy_ = false;
  std::vector<Subscriber> subscribers_;
  std::vector<std::weak_ptr<Client>> waiting_;  // subscribed, not yet sent their first snapshot
  boost::json::object last_;
  std::string last_text_;  // last_ without as_of: what "changed" compares
  core::Millis last_reading_ = 0;
  core::Millis last_minute_ = -1;

  core::prom::Registry registry_;
  double* messages_in_;
  double* messages_out_;
  core::prom::Histogram* queue_wait_;
  core::prom::Histogram* first_response_;
  core::prom::Histogram* redis_latency_;
};

}  // namespace exceed::app
