// Fault tests: a steady chat load from many WebSocket clients at once, and
// the audit of what Redis holds against what those clients saw acked.
//
// A Swarm runs every client on one io_context in a background thread (Beast
// asynchronous, no thread per client), so thousands fit in one test. Each
// client behaves like the browser widget and the agent console: it sends
// `message.send` with a fresh client_msg_id on a steady tick, keeps every
// message it was not acked for and sends it again, same client_msg_id, after
// an `unavailable` answer, a timeout or a reconnect; it reconnects by itself
// (to the next of its ports when one refuses) with `hello` and `resume`
// after the last seq it holds without a gap, and de-duplicates `message`
// events by seq.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>
#include <exception>
#include <thread>

namespace exceed::fault {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct SwarmOptions {
  milliseconds send_every{200};     // one new message per client per tick while sending
  milliseconds retry_after{2000};   // an unanswered message.send is sent again after this
  milliseconds backoff_min{50};     // reconnect delay: uniform in [min, max], doubling
  milliseconds backoff_max{1000};
  std::size_t text_bytes = 24;      // size of each message's text
  int max_in_flight = 2;            // unacked new messages per client before it waits
};

// What one client saw of one conversation.
struct ConvView {
  std::string id;
  std::set<std::int64_t> seen;  // seqs received as `message` events (resume included)
  std::int64_t contig = 0;      // every seq 1..contig seen
  std::int64_t redelivered = 0; // events for a seq already seen (dropped by the client)
};

// A message this client was acked for.
struct Acked {
  std::string conv;
  std::int64_t seq = 0;
};

struct SwarmFigures {
  std::int64_t sent = 0;          // distinct messages created (each with its own client_msg_id)
  std::int64_t attempts = 0;      // message.send frames written, retries included
  std::int64_t acked = 0;         // distinct messages acked
  std::int64_t unacked = 0;       // created but never acked (still pending)
  std::int64_t unavailable = 0;   // `unavailable` answers
  std::int64_t other_errors = 0;  // any other error answer
  std::int64_t ack_conflicts = 0; // a client_msg_id acked twice with different seqs
  std::int64_t redelivered = 0;   // duplicate `message` events removed by seq
  std::int64_t disconnects = 0;
  std::int64_t reconnects = 0;    // welcomes after the first
  std::int64_t connected = 0;     // clients connected now
  std::int64_t history_gets = 0;  // history.get sent to fill a gap (resume did not)
  std::int64_t resume_errors = 0; // error frames without id (a resume entry the server could not serve)
  std::int64_t silent_misses = 0; // a client behind what is stored after resume, without a gap seen or an error
  double latency_p50_ms = 0, latency_p99_ms = 0, latency_max_ms = 0;  // first send -> ack
};

class Swarm {
 public:
  explicit Swarm(SwarmOptions opt = {});
  ~Swarm();
  Swarm(Swarm const&) = delete;
  Swarm& operator=(Swarm const&) = delete;

  // A client with this token, following these conversations, talking in
  // `talk_in` (empty: only listens). ports: where to connect, the first
  // first; on a refused connect the next is tried. Returns its index.
  std::size_t add(std::string token, std::vector<std::uint16_t> ports, std::vector<std::string> convs,
                  std::string talk_in = "", std::string name = "");
  // Connects every client added (all at once) and waits until each has its
  // welcome; false at the deadline.
  bool connect_all(milliseconds limit);

  void start_sending();
  void stop_sending();
  // True once every created message is acked (messages are retried until then).
  bool wait_all_acked(milliseconds limit);
  // True once every client not parked holds every seq up to `want[conv]` in
  // each conversation it follows (asking history.get for what it lacks).
  bool wait_caught_up(std::map<std::string, std::int64_t> const& want, milliseconds limit);
  // True once `pred` holds for the figures (checked on each poll).
  bool wait_figures(std::function<bool(SwarmFigures const&)> const& pred, milliseconds limit);

  // Resets every client's TCP connection at once (no close frame); they reconnect by themselves.
  void drop_all();
  // Closes these clients' sockets (all at once) and keeps them closed until
  // unpark, which reconnects them all at once.
  void park(std::size_t i);
  void unpark(std::size_t i);
  void park_range(std::size_t from, std::size_t to);
  // Lets this client's connection run until it breaks, and then not reconnect
  // (someone whose laptop went away with the server).
  void hold(std::size_t i);
  void unpark_range(std::size_t from, std::size_t to);

  SwarmFigures figures();
  void reset_latency();  // start latency figures afresh (e.g. after a warm-up)
  std::vector<ConvView> views(std::size_t i);
  std::map<std::string, std::vector<std::pair<std::string, Acked>>> acked_by_conv();  // conv -> (cmid, seq)
  std::size_t size() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// What Redis holds for a conversation, read directly with hiredis.
struct StoredMessage {
  std::int64_t seq = 0;
  std::string uid, cmid;
};
std::vector<StoredMessage> stored_messages(std::uint16_t redis_port, std::string const& conv,
                                           std::string const& prefix = "exceed:");
// One command's reply as strings (an array flattened; a scalar as one item).
std::vector<std::string> redis_command(std::uint16_t redis_port, std::vector<std::string> const& args);

// The audit of a run: every acked message stored once with its seq, seqs
// without gaps, and each client's view complete once de-duplicated by seq.
struct Audit {
  std::int64_t acked = 0;
  std::int64_t stored = 0;       // messages in the streams of the audited conversations
  std::int64_t lost = 0;         // acked but not stored (or stored under another seq)
  std::int64_t duplicates = 0;   // one client_msg_id stored more than once
  std::int64_t gaps = 0;         // seqs missing from a stream
  std::vector<std::string> problems;  // the first few, for the failure message
};
Audit audit(std::uint16_t redis_port, Swarm& swarm, std::string const& prefix = "exceed:");

// Figures printed in one line per fault so docs/RELIABILITY.md can quote them.
void print_figures(std::string const& fault, SwarmFigures const& f, Audit const& a, double recovery_ms,
                   std::string const& extra = "");

// Polls `f` until it returns true or the deadline passes, for state that
// processes report only when asked (Redis keys, a sentinel's view).
template <class F>
bool poll_until(F f, milliseconds limit) {
  auto deadline = Clock::now() + limit;
  for (;;) {
    try {
      if (f()) return true;
    } catch (std::exception const&) {
      // not answering yet
    }
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(50));  // the next look at the state, not a wait for an event
  }
}

// RSS of a process in KiB (from /proc), and the pid of the exceed server listening on a port.
long rss_kib(int pid);
int exceed_pid(std::uint16_t port);

}  // namespace exceed::fault
