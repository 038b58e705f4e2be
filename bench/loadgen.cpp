// exceed-loadgen: drives an Exceed server (or, for the reference, an MQTT
// broker over WebSocket) with many client connections from one thread and
// measures what arrives. Scenarios (docs/PERFORMANCE.md):
//   relay   C conversations, customers sending at a fixed total rate, agents
//           answering; delivered msgs/s, one-way latency, lost/dup/reordered
//   idle    N authenticated sessions doing nothing (memory per session)
//   storm   N customers connecting, starting a chat, assigned at once
//   resume  N customers dropping and resuming together
//   browse  N visitors browsing the shop (a page every --page-every s, a
//           cart now and then, some in checkout), A consoles watching the
//           live list: server CPU and memory per visitor, and the update
//           rate a console receives
// Several processes can share one run (--shard/--shards with a --barrier
// folder); `exceed-loadgen merge FILES` adds up their result files.
//
// Everything runs on one io_context thread with callbacks for the per-frame
// path (no coroutine frame per message) and coroutines only for connecting.
#include "stats.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace exceed::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

// ------------------------------------------------------------------ options

struct Options {
  std::string scenario;
  std::string mode = "exceed";  // exceed | mqtt
  std::string host = "127.0.0.1";
  unsigned short port = 8080;
  int qos = 1;
  int conversations = 1000;
  int agents = 20;
  int capacity = 50;
  double rate = 20000;     // total message.send per second (both sides), all shards
  int reply = 1;           // 1: agents answer every customer message
  int typing = 0;          // 1: a typing indicator before every message, as a person's client sends
  double warmup = 3;
  double duration = 10;
  double drain = 2;
  // relay: after the measured window, a second one at this rate (0: none),
  // to see latency recover once an overload ends.
  double after_rate = 0;
  double after_duration = 10;
  int size = 64;           // message text bytes
  int sources = 1;         // source addresses 127.0.0.1 .. 127.0.0.N
  int shard = 0, shards = 1;
  std::string barrier;     // folder shared by the shards
  std::vector<int> server_pids;  // CPU and RSS are summed over these
  std::vector<int> redis_pids;   // CPU summed (every primary of a cluster)
  std::string agent_prefix = "bench-agent-";
  std::string password = "bench-password";
  int sessions = 1000;     // idle / storm / resume clients (all shards)
  int parallel = 256;      // connections being set up at once
  int http_parallel = 8;   // HTTP keep-alive connections for tokens
  double hold = 3;         // idle: seconds to hold before measuring
  int resume_msgs = 5;     // resume: messages each customer misses
  double page_every = 20;  // browse: seconds between two pages of one visitor
  int list_limit = 200;    // browse: rows of the live list a console asks for (the console's 200)
  std::string out;         // result file (else printed)
};

[[noreturn]] void usage() {
  std::cerr <<
      "usage: exceed-loadgen SCENARIO [options]      SCENARIO: relay idle storm resume browse\n"
      "       exceed-loadgen merge RESULT_FILE...\n"
      "  --mode exceed|mqtt  --qos 0|1  --host H --port P\n"
      "  --conversations C --agents A --capacity K --rate R(total msgs/s) --reply 0|1 --typing 0|1\n"
      "  --warmup S --duration S --drain S --size BYTES --after-rate R --after-duration S\n"
      "  --sessions N --parallel N --http-parallel N --hold S --resume-msgs M --page-every S --list-limit N\n"
      "  --sources N (127.0.0.1..N) --shard I --shards N --barrier DIR\n"
      "  --server-pid PID[,PID] --redis-pid PID[,PID] --agent-prefix P --password PW --out FILE\n";
  std::exit(2);
}

// "12,34" -> {12, 34}.
std::vector<int> pid_list(std::string const& v) {
  std::vector<int> out;
  for (std::size_t p = 0; p < v.size();) {
    auto comma = v.find(',', p);
    if (comma == std::string::npos) comma = v.size();
    out.push_back(std::stoi(v.substr(p, comma - p)));
    p = comma + 1;
  }
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  if (argc < 2) usage();
  o.scenario = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) usage();
    std::string v = argv[++i];
    if (k == "--mode") o.mode = v;
    else if (k == "--host") o.host = v;
    else if (k == "--port") o.port = static_cast<unsigned short>(std::stoi(v));
    else if (k == "--qos") o.qos = std::stoi(v);
    else if (k == "--conversations") o.conversations = std::stoi(v);
    else if (k == "--agents") o.agents = std::stoi(v);
    else if (k == "--capacity") o.capacity = std::stoi(v);
    else if (k == "--rate") o.rate = std::stod(v);
    else if (k == "--reply") o.reply = std::stoi(v);
    else if (k == "--typing") o.typing = std::stoi(v);
    else if (k == "--warmup") o.warmup = std::stod(v);
    else if (k == "--duration") o.duration = std::stod(v);
    else if (k == "--drain") o.drain = std::stod(v);
    else if (k == "--after-rate") o.after_rate = std::stod(v);
    else if (k == "--after-duration") o.after_duration = std::stod(v);
    else if (k == "--size") o.size = std::stoi(v);
    else if (k == "--sources") o.sources = std::stoi(v);
    else if (k == "--shard") o.shard = std::stoi(v);
    else if (k == "--shards") o.shards = std::stoi(v);
    else if (k == "--barrier") o.barrier = v;
    else if (k == "--server-pid") o.server_pids = pid_list(v);
    else if (k == "--redis-pid") o.redis_pids = pid_list(v);
    else if (k == "--agent-prefix") o.agent_prefix = v;
    else if (k == "--password") o.password = v;
    else if (k == "--sessions") o.sessions = std::stoi(v);
    else if (k == "--parallel") o.parallel = std::stoi(v);
    else if (k == "--http-parallel") o.http_parallel = std::stoi(v);
    else if (k == "--hold") o.hold = std::stod(v);
    else if (k == "--resume-msgs") o.resume_msgs = std::stoi(v);
    else if (k == "--page-every") o.page_every = std::stod(v);
    else if (k == "--list-limit") o.list_limit = std::stoi(v);
    else if (k == "--out") o.out = v;
    else usage();
  }
  return o;
}

// ------------------------------------------------------------------ helpers

using Clock = std::chrono::steady_clock;

std::vector<int> const& g_opt_pids();

// CLOCK_MONOTONIC nanoseconds: the same clock in every process of the
// machine, so a message stamped by one load generator process can be timed
// by another.
std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

std::uint64_t to_u64(std::string_view s) {
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// "<send ns> <counter> xxxx..." padded to `size` bytes.
std::string stamp_text(std::uint64_t counter, int size) {
  std::string t = std::to_string(now_ns());
  t += ' ';
  t += std::to_string(counter);
  if (static_cast<int>(t.size()) + 1 < size) {
    t += ' ';
    t.append(static_cast<std::size_t>(size) - t.size(), 'x');
  }
  return t;
}

struct Stamp {
  std::uint64_t ns = 0;
  std::uint64_t counter = 0;
};
Stamp read_stamp(std::string_view t) {
  Stamp s;
  auto sp = t.find(' ');
  if (sp == std::string_view::npos) return s;
  s.ns = to_u64(t.substr(0, sp));
  auto rest = t.substr(sp + 1);
  auto sp2 = rest.find(' ');
  s.counter = to_u64(rest.substr(0, sp2));
  return s;
}

double pids_cpu_us(std::vector<int> const& pids) {
  double t = 0;
  for (int p : pids) t += proc_cpu_us(p);
  return t;
}
double servers_cpu_us() { return pids_cpu_us(g_opt_pids()); }
double servers_rss() {
  double t = 0;
  for (int p : g_opt_pids()) t += proc_rss_bytes(p);
  return t;
}

std::string json_quote(std::string_view s) { return json::serialize(json::string_view(s.data(), s.size())); }

// Counters shared by every connection of this process.
struct Stats {
  double errors = 0;
  std::uint64_t window_start = ~0ull, window_end = ~0ull;  // ns; nothing counts before the window
  bool in_window(std::uint64_t ns) const { return ns >= window_start && ns < window_end; }
  // The window after it (relay --after-rate): what was sent then, delivered, and how fast.
  std::uint64_t after_start = ~0ull, after_end = ~0ull;
  bool in_after(std::uint64_t ns) const { return ns >= after_start && ns < after_end; }
  double sent_after = 0, delivered_after = 0;
  Histogram lat_after;
  // The same by the second of the after window a message was sent in: when
  // latency came back.
  std::vector<Histogram> lat_after_by_s;
  void add_after(std::uint64_t sent_ns, std::uint64_t now_ns) {
    auto const us = (now_ns - sent_ns) / 1000;
    lat_after.add(us);
    auto const second = static_cast<std::size_t>((sent_ns - after_start) / 1'000'000'000ull);
    if (lat_after_by_s.size() <= second) lat_after_by_s.resize(second + 1);
    lat_after_by_s[second].add(us);
  }
  double sent_c = 0, acked_c = 0, delivered_c = 0;  // customer -> agent
  double sent_a = 0, acked_a = 0, delivered_a = 0;  // agent -> customer
  double dup = 0, ooo = 0;
  Histogram lat_c2a, lat_a2c, lat_ack;
  int error_lines = 0;
  void error(std::string_view what) {
    ++errors;
    if (error_lines++ < 10) std::cerr << "loadgen: " << what << '\n';
  }
};
Stats g_stats;

// Per-direction receive bookkeeping of one conversation: which counters
// arrived, to count duplicates and reordering.
struct Seen {
  std::vector<bool> got;
  std::uint64_t max = 0;
  void mark(std::uint64_t k) {
    if (k >= got.size()) got.resize(std::max<std::size_t>(k + 1, got.size() * 2), false);
    if (got[k]) {
      ++g_stats.dup;
      return;
    }
    got[k] = true;
    if (k < max) ++g_stats.ooo;
    max = std::max(max, k);
  }
};

// ------------------------------------------------------------------ WebSocket client

class Ws : public std::enable_shared_from_this<Ws> {
 public:
  explicit Ws(asio::io_context& io) : ws_(io) {}
  std::function<void(std::string_view)> on_frame;
  std::function<void()> on_closed;

  websocket::stream<beast::tcp_stream>& stream() { return ws_; }

  void start_reading() { read(); }

  void send(std::string frame) {
    if (closed_) return;
    queue_.push_back(std::move(frame));
    if (!writing_) write_next();
  }

  void close_hard() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).socket().close(ec);
  }
  bool closed() const { return closed_; }

 private:
  void read() {
    ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->finish();
        return;
      }
      auto d = self->buf_.cdata();
      if (self->on_frame) self->on_frame(std::string_view(static_cast<char const*>(d.data()), d.size()));
      self->buf_.consume(self->buf_.size());
      self->read();
    });
  }
  void write_next() {
    writing_ = true;
    ws_.async_write(asio::buffer(queue_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->queue_.pop_front();
      if (ec) {
        self->writing_ = false;
        self->queue_.clear();
        return;
      }
      if (!self->queue_.empty() && !self->closed_) self->write_next();
      else self->writing_ = false;
    });
  }
  void finish() {
    closed_ = true;
    on_frame = nullptr;
    if (on_closed) {
      auto f = std::move(on_closed);
      on_closed = nullptr;
      f();
    }
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buf_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool closed_ = false;
};

struct Net {
  asio::io_context io{1};
  Options opt;
  tcp::endpoint server;
  int next_source = 0;
  int connecting = 0;
  asio::ip::address_v4 source() {
    auto a = asio::ip::make_address_v4("127.0.0.1").to_uint();
    a += static_cast<unsigned>(next_source++ % std::max(1, opt.sources));
    return asio::ip::address_v4(a);
  }
};
Net* g_net = nullptr;
std::vector<int> const& g_opt_pids() { return g_net->opt.server_pids; }

// Opens a TCP connection from the next source address and runs the
// WebSocket handshake (subprotocol "mqtt" for the broker).
awaitable<std::shared_ptr<Ws>> connect_ws(bool mqtt) {
  auto ws = std::make_shared<Ws>(g_net->io);
  auto& sock = beast::get_lowest_layer(ws->stream()).socket();
  sock.open(tcp::v4());
  sock.set_option(tcp::socket::reuse_address(true));
  // Port chosen at connect(), not bind(): a bind to port 0 searches the
  // kernel's bind table for a free port, which with thousands of sockets
  // cost the load generator most of its CPU in a storm.
  int const on = 1;
  ::setsockopt(sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
  sock.bind(tcp::endpoint(g_net->source(), 0));
  co_await sock.async_connect(g_net->server, use_awaitable);
  sock.set_option(tcp::no_delay(true));
  ws->stream().set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  if (mqtt) {
    ws->stream().set_option(websocket::stream_base::decorator(
        [](websocket::request_type& r) { r.set(http::field::sec_websocket_protocol, "mqtt"); }));
    ws->stream().binary(true);
  }
  std::string host = g_net->opt.host + ":" + std::to_string(g_net->opt.port);
  co_await ws->stream().async_handshake(host, mqtt ? "/mqtt" : "/ws", use_awaitable);
  co_return ws;
}

// Waits on the loop until pred() holds or `limit` passes; false on timeout.
awaitable<bool> wait_until(std::function<bool()> pred, double limit_s) {
  asio::steady_timer t(g_net->io);
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limit_s));
  while (!pred()) {
    if (Clock::now() > end) co_return false;
    t.expires_after(std::chrono::milliseconds(5));
    co_await t.async_wait(use_awaitable);
  }
  co_return true;
}

awaitable<void> sleep_s(double s) {
  asio::steady_timer t(g_net->io);
  t.expires_after(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)));
  co_await t.async_wait(use_awaitable);
}

// All shards reach `name` before any goes on (files in the barrier folder).
awaitable<void> barrier(std::string name) {
  auto const& o = g_net->opt;
  if (o.shards <= 1 || o.barrier.empty()) co_return;
  namespace fs = std::filesystem;
  fs::create_directories(o.barrier);
  { std::FILE* f = std::fopen((o.barrier + "/" + name + "." + std::to_string(o.shard)).c_str(), "w"); if (f) std::fclose(f); }
  auto count = [&o, name]() {
    int n = 0;
    for (int s = 0; s < o.shards; ++s)
      if (fs::exists(o.barrier + "/" + name + "." + std::to_string(s))) ++n;
    return n == o.shards;
  };
  if (!co_await wait_until(count, 600)) throw std::runtime_error("barrier " + name + " timed out");
}

// ------------------------------------------------------------------ HTTP tokens

awaitable<std::string> http_post(beast::tcp_stream& s, std::string target, std::string body) {
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, g_net->opt.host);
  req.set(http::field::content_type, "application/json");
  req.keep_alive(true);
  req.body() = std::move(body);
  req.prepare_payload();
  co_await http::async_write(s, req, use_awaitable);
  beast::flat_buffer b;
  http::response<http::string_body> res;
  co_await http::async_read(s, b, res, use_awaitable);
  if (res.result_int() >= 300) throw std::runtime_error(target + ": HTTP " + std::to_string(res.result_int()) + " " + res.body());
  co_return res.body();
}

struct TokenJob {
  std::vector<std::string> bodies;  // one request per entry
  std::string target;
  std::vector<std::string> tokens;
  std::size_t next = 0;
  int done_workers = 0;
  std::string failure;
};

awaitable<void> token_worker(TokenJob* job) {
  try {
    beast::tcp_stream s(g_net->io);
    auto& sock = s.socket();
    sock.open(tcp::v4());
    sock.bind(tcp::endpoint(g_net->source(), 0));
    co_await sock.async_connect(g_net->server, use_awaitable);
    while (job->next < job->bodies.size()) {
      auto i = job->next++;
      auto body = co_await http_post(s, job->target, job->bodies[i]);
      auto v = json::parse(body);
      job->tokens[i] = std::string(v.at("token").as_string());
    }
  } catch (std::exception const& e) {
    job->failure = e.what();
  }
  ++job->done_workers;
}

awaitable<std::vector<std::string>> fetch_tokens(std::string target, std::vector<std::string> bodies) {
  TokenJob job;
  job.target = std::move(target);
  job.bodies = std::move(bodies);
  job.tokens.resize(job.bodies.size());
  int workers = std::max(1, std::min<int>(g_net->opt.http_parallel, static_cast<int>(job.bodies.size())));
  for (int i = 0; i < workers; ++i) asio::co_spawn(g_net->io, token_worker(&job), asio::detached);
  TokenJob* jp = &job;
  co_await wait_until([jp, workers]() { return jp->done_workers == workers; }, 3600);
  if (!job.failure.empty()) throw std::runtime_error("tokens: " + job.failure);
  co_return std::move(job.tokens);
}

// ------------------------------------------------------------------ Exceed clients

struct Conv;  // one conversation as the load generator sees it

struct Client {
  std::shared_ptr<Ws> ws;
  std::string token;
  bool agent = false;
  bool welcomed = false;
  bool ready = false;  // customer: assigned; agent: online
  bool failed = false;
  std::uint64_t next_id = 1;
  std::uint64_t t_start_ns = 0;  // storm/resume: when this client began
  std::string conv_id;           // customer: its conversation
  std::unordered_map<std::string, std::uint64_t> last_seq;  // per conversation, order check
  // resume
  std::uint64_t resume_after = 0;
  int resume_got = 0;
  bool resumed = false;
  // browse
  std::uint64_t pages = 0;
};

struct Conv {
  std::string id;
  std::uint64_t sent_c = 0, sent_a = 0;  // counters of each side's messages
  Seen seen_c, seen_a;                   // what the other side received
  Client* agent = nullptr;
};

struct Exceed {
  std::vector<std::unique_ptr<Client>> customers, agents;
  std::unordered_map<std::string, std::unique_ptr<Conv>> convs;
  int assigned = 0, welcomed = 0, online = 0, resumed = 0;
  double agent_acks = 0;  // acks of message.send by agents, any time
  double got_resume_msgs = 0;
  bool sending = true;
  bool storm = false;
  bool resume_phase = false;
  // browse: pages acked (any time); what the consoles received in the window
  int paged = 0;
  double pages_sent = 0, pages_acked = 0;
  double console_frames = 0, console_rows = 0, console_bytes = 0;
  double console_frame_rows_max = 0, console_frame_bytes_max = 0;
};
Exceed g_ex;

Conv& conv(std::string const& id) {
  auto& p = g_ex.convs[id];
  if (!p) {
    p = std::make_unique<Conv>();
    p->id = id;
  }
  return *p;
}

void send_message(Client& c, Conv& cv) {
  bool cust = !c.agent;
  std::uint64_t k = cust ? ++cv.sent_c : ++cv.sent_a;
  auto text = stamp_text(k, g_net->opt.size);
  auto ns = read_stamp(text).ns;
  std::string f;
  f.reserve(160 + text.size());
  f += R"({"type":"message.send","id":)";
  // The id carries the send time, so the ack latency needs no table.
  f += std::to_string(ns);
  f += R"(,"conversation_id":)";
  f += json_quote(cv.id);
  f += R"(,"client_msg_id":")";
  f += cust ? 'c' : 'a';
  f += std::to_string(k);
  f += R"(","text":")";
  f += text;
  f += "\"}";
  if (g_stats.in_window(ns)) (cust ? g_stats.sent_c : g_stats.sent_a) += 1;
  else if (g_stats.in_after(ns)) g_stats.sent_after += 1;
  if (g_net->opt.typing) c.ws->send(R"({"type":"typing","conversation_id":)" + json_quote(cv.id) + R"(,"state":true})");
  c.ws->send(std::move(f));
}

void on_exceed_message(Client& c, json::object const& o) {
  auto const* cid = o.if_contains("conversation_id");
  auto const* from = o.if_contains("from");
  auto const* text = o.if_contains("text");
  auto const* seq = o.if_contains("seq");
  if (!cid || !from || !text || !seq) return;
  std::string id(cid->as_string());
  auto s = static_cast<std::uint64_t>(seq->to_number<std::int64_t>());
  auto& last = c.last_seq[id];
  if (s <= last && !g_ex.resume_phase) ++g_stats.ooo;  // events must come in seq order
  if (s > last) last = s;
  auto role = from->as_object().at("role").as_string();
  if (g_ex.resume_phase && !c.agent) {
    if (s > c.resume_after && role == "agent") {
      ++c.resume_got;
      ++g_ex.got_resume_msgs;
      if (c.resume_got == g_net->opt.resume_msgs && !c.resumed) {
        c.resumed = true;
        ++g_ex.resumed;
        g_stats.lat_c2a.add((now_ns() - c.t_start_ns) / 1000);
      } else if (c.resume_got > g_net->opt.resume_msgs) {
        ++g_stats.dup;
      }
    }
    return;
  }
  bool from_customer = role == "customer";
  if (from_customer == !c.agent) return;  // the echo of our own message
  auto st = read_stamp(std::string_view(text->as_string()));
  auto& cv = conv(id);
  auto now = now_ns();
  if (from_customer) {
    cv.seen_c.mark(st.counter);
    if (g_stats.in_window(st.ns)) {
      ++g_stats.delivered_c;
      g_stats.lat_c2a.add((now - st.ns) / 1000);
    } else if (g_stats.in_after(st.ns)) {
      ++g_stats.delivered_after;
      g_stats.add_after(st.ns, now);
    }
    if (g_net->opt.reply && g_ex.sending) send_message(c, cv);
  } else {
    cv.seen_a.mark(st.counter);
    if (g_stats.in_window(st.ns)) {
      ++g_stats.delivered_a;
      g_stats.lat_a2c.add((now - st.ns) / 1000);
    } else if (g_stats.in_after(st.ns)) {
      ++g_stats.delivered_after;
      g_stats.add_after(st.ns, now);
    }
  }
}

// ------------------------------------------------------------------ browse

// A visitor's next page: a product (every tenth the checkout), its title
// stamped with the send time, so a console that receives the row times it;
// every third page also a cart.
void send_page(Client& c) {
  auto n = ++c.pages;
  auto ns = now_ns();
  bool checkout = n % 10 == 0;
  std::string f = R"({"type":"visitor.page","id":)" + std::to_string(c.next_id++) + R"(,"url":"https://shop.example/)" +
                  (checkout ? std::string("checkout") : "products/" + std::to_string(n % 97)) +
                  R"(","title":"Page )" + std::to_string(n) + " t" + std::to_string(ns) + R"("})";
  c.ws->send(std::move(f));
  if (g_stats.in_window(ns)) ++g_ex.pages_sent;
  if (n % 3 == 0)
    c.ws->send(R"({"type":"visitor.track","id":)" + std::to_string(c.next_id++) +
               R"(,"event":"cart","data":{"items":)" + std::to_string(1 + n % 4) + R"(,"value":)" +
               std::to_string(20 * (1 + n % 4)) + R"(,"currency":"EUR"}})");
}

// What a console gets: frames, rows and bytes in the window, and for each
// row the time from its page's send (the stamp in its title).
void on_visitors_update(json::object const& o, std::size_t bytes) {
  auto now = now_ns();
  if (!g_stats.in_window(now)) return;
  ++g_ex.console_frames;
  g_ex.console_bytes += static_cast<double>(bytes);
  auto const& rows = o.at("visitors").as_array();
  g_ex.console_frame_rows_max = std::max(g_ex.console_frame_rows_max, static_cast<double>(rows.size()));
  g_ex.console_frame_bytes_max = std::max(g_ex.console_frame_bytes_max, static_cast<double>(bytes));
  for (auto const& row : rows) {
    ++g_ex.console_rows;
    auto const* title = row.as_object().if_contains("page_title");
    if (!title || !title->is_string()) continue;
    std::string_view t = title->get_string();
    auto at = t.rfind(" t");
    if (at == std::string_view::npos) continue;
    auto sent = to_u64(t.substr(at + 2));
    if (sent && sent <= now) g_stats.lat_c2a.add((now - sent) / 1000);
  }
}

void on_exceed_frame(Client* cp, std::string_view data) {
  Client& c = *cp;
  unsigned char mem[8192];
  json::monotonic_resource mr(mem, sizeof mem);
  std::error_code ec;
  auto v = json::parse(json::string_view(data.data(), data.size()), ec, &mr);
  if (ec || !v.is_object()) {
    g_stats.error("unparseable frame");
    return;
  }
  auto const& o = v.get_object();
  auto const* tp = o.if_contains("type");
  if (!tp || !tp->is_string()) return;
  auto type = tp->get_string();
  if (type == "message") {
    on_exceed_message(c, o);
  } else if (type == "ack") {
    auto const* id = o.if_contains("id");
    if (id && o.contains("seq")) {  // message.send: id is the send time
      auto sent = static_cast<std::uint64_t>(id->to_number<std::int64_t>());
      if (c.agent) ++g_ex.agent_acks;
      if (g_stats.in_window(sent)) {
        (c.agent ? g_stats.acked_a : g_stats.acked_c) += 1;
        g_stats.lat_ack.add((now_ns() - sent) / 1000);
      }
    } else if (!c.agent && o.contains("queue_position")) {  // conversation.start
      c.conv_id = std::string(o.at("conversation_id").as_string());
      conv(c.conv_id);
      if (o.at("status").as_string() == "active" && !c.ready) {
        c.ready = true;
        ++g_ex.assigned;
      }
    } else if (c.agent && o.contains("capacity") && !c.ready) {  // agent.status
      c.ready = true;
      ++g_ex.online;
    } else if (o.contains("visit_id")) {  // visitor.page
      ++g_ex.pages_acked;
      if (!c.ready) {
        c.ready = true;
        ++g_ex.paged;
      }
    } else if (c.agent && id && id->is_string() && id->get_string() == "watch" && !c.ready) {  // visitors.subscribe
      c.ready = true;
      ++g_ex.online;
    }
  } else if (type == "visitors.update") {
    on_visitors_update(o, data.size());
  } else if (type == "conversation.offer") {
    std::string f = R"({"type":"conversation.accept","id":)" + std::to_string(c.next_id++) +
                    R"(,"conversation_id":)" + json_quote(o.at("conversation_id").as_string()) + "}";
    c.ws->send(std::move(f));
  } else if (type == "conversation.assigned") {
    auto id = std::string(o.at("conversation_id").as_string());
    if (c.agent) {
      conv(id).agent = cp;
    } else if (!c.ready) {
      c.ready = true;
      ++g_ex.assigned;
      if (g_ex.storm) g_stats.lat_ack.add((now_ns() - c.t_start_ns) / 1000);
    }
  } else if (type == "welcome") {
    c.welcomed = true;
    ++g_ex.welcomed;
    if (c.agent && g_net->opt.scenario == "browse") {
      c.ws->send(R"({"type":"visitors.subscribe","id":"watch","limit":)" + std::to_string(g_net->opt.list_limit) + "}");
    } else if (c.agent) {
      std::string f = R"({"type":"agent.status","id":)" + std::to_string(c.next_id++) +
                      R"(,"status":"online","capacity":)" + std::to_string(g_net->opt.capacity) + "}";
      c.ws->send(std::move(f));
    } else if (g_net->opt.scenario == "browse") {
      send_page(c);
    } else if (!g_ex.resume_phase && g_net->opt.scenario != "idle") {
      c.ws->send(R"({"type":"conversation.start","id":)" + std::to_string(c.next_id++) + "}");
    }
  } else if (type == "error") {
    g_stats.error(std::string("error frame: ") + json::serialize(o));
  }
}

awaitable<void> open_client(Client* c, std::string hello) {
  ++g_net->connecting;
  try {
    c->ws = co_await connect_ws(false);
    c->ws->on_frame = [c](std::string_view d) { on_exceed_frame(c, d); };
    c->ws->on_closed = [c]() {
      if (!c->failed && !g_ex.resume_phase) c->failed = true;
    };
    c->ws->start_reading();
    c->ws->send(std::move(hello));
  } catch (std::exception const& e) {
    c->failed = true;
    g_stats.error(std::string("connect: ") + e.what());
  }
  --g_net->connecting;
}

std::string hello_frame(std::string const& token) { return R"({"type":"hello","token":)" + json_quote(token) + "}"; }

// Starts connections with at most --parallel handshakes in flight.
awaitable<void> open_all(std::vector<std::unique_ptr<Client>>& list) {
  int limit = g_net->opt.parallel;
  for (auto& c : list) {
    if (g_net->connecting >= limit) co_await wait_until([limit]() { return g_net->connecting < limit; }, 600);
    c->t_start_ns = now_ns();
    asio::co_spawn(g_net->io, open_client(c.get(), hello_frame(c->token)), asio::detached);
  }
}

// This shard's share of [0, total).
std::pair<int, int> my_range(int total) {
  auto const& o = g_net->opt;
  int lo = static_cast<int>(static_cast<long long>(total) * o.shard / o.shards);
  int hi = static_cast<int>(static_cast<long long>(total) * (o.shard + 1) / o.shards);
  return {lo, hi};
}

awaitable<void> make_agents(int total) {
  auto [lo, hi] = my_range(total);
  std::vector<std::string> bodies;
  for (int i = lo; i < hi; ++i)
    bodies.push_back(R"({"username":)" + json_quote(g_net->opt.agent_prefix + std::to_string(i)) +
                     R"(,"password":)" + json_quote(g_net->opt.password) + "}");
  auto tokens = co_await fetch_tokens("/api/v1/login", std::move(bodies));
  for (auto& t : tokens) {
    auto c = std::make_unique<Client>();
    c->agent = true;
    c->token = std::move(t);
    g_ex.agents.push_back(std::move(c));
  }
  co_await open_all(g_ex.agents);
  int n = static_cast<int>(g_ex.agents.size());
  if (!co_await wait_until([n]() { return g_ex.online == n; }, 120))
    throw std::runtime_error("agents: only " + std::to_string(g_ex.online) + " of " + std::to_string(n) + " online");
}

awaitable<void> make_customer_tokens(int total) {
  auto [lo, hi] = my_range(total);
  std::vector<std::string> bodies(static_cast<std::size_t>(hi - lo), R"({"name":"Bench"})");
  auto tokens = co_await fetch_tokens("/api/v1/visitors", std::move(bodies));
  for (auto& t : tokens) {
    auto c = std::make_unique<Client>();
    c->token = std::move(t);
    g_ex.customers.push_back(std::move(c));
  }
}

struct Window {
  double srv0 = 0, redis0 = 0, self0 = 0;
  std::uint64_t t0 = 0;
  void begin() {
    std::cerr << "loadgen: shard " << g_net->opt.shard << ": measuring" << std::endl;
    t0 = now_ns();
    srv0 = servers_cpu_us();
    redis0 = pids_cpu_us(g_net->opt.redis_pids);
    self0 = self_cpu_us();
  }
  void end(Result& r) {
    auto t1 = now_ns();
    r.values["window_s"] = static_cast<double>(t1 - t0) / 1e9;
    r.values["server_cpu_us"] = servers_cpu_us() - srv0;
    r.values["redis_cpu_us"] = pids_cpu_us(g_net->opt.redis_pids) - redis0;
    r.values["loadgen_cpu_us"] = self_cpu_us() - self0;
    r.values["server_rss_end"] = servers_rss();
  }
};

// Sends customer messages at the shard's share of the rate, round robin over
// the conversations, from a 1 ms ticker; returns at `end_ns`.
awaitable<void> pace(std::vector<std::function<void()>> const& senders, double rate, std::uint64_t end_ns) {
  if (senders.empty() || rate <= 0) {
    co_await sleep_s(static_cast<double>(end_ns - std::min(end_ns, now_ns())) / 1e9);
    co_return;
  }
  asio::steady_timer t(g_net->io);
  auto start = now_ns();
  std::uint64_t sent = 0;
  std::size_t rr = 0;
  for (;;) {
    auto now = now_ns();
    if (now >= end_ns) break;
    auto due = static_cast<std::uint64_t>(rate * static_cast<double>(now - start) / 1e9);
    while (sent < due) {
      senders[rr++ % senders.size()]();
      ++sent;
    }
    t.expires_after(std::chrono::microseconds(500));
    co_await t.async_wait(use_awaitable);
  }
}

std::uint64_t after_s(double s) { return now_ns() + static_cast<std::uint64_t>(s * 1e9); }

// The instant the measured window opens, `lead_s` from now, the same for
// every shard (CLOCK_MONOTONIC is the machine's): shard 0 picks it and
// the others read it from the barrier folder. A message counts if it was
// sent inside the window, by the sender's shard and by the receiver's
// alike; with a window per shard, the few sent at its edges were counted
// as sent by one shard and not as delivered by the other ("lost").
awaitable<std::uint64_t> window_opening(double lead_s) {
  auto const& o = g_net->opt;
  if (o.shards <= 1 || o.barrier.empty()) co_return after_s(lead_s);
  std::string const path = o.barrier + "/window.at";
  if (o.shard == 0) {
    auto at = after_s(lead_s);
    {
      std::FILE* f = std::fopen((path + ".tmp").c_str(), "w");
      if (!f) throw std::runtime_error("cannot write " + path);
      std::fprintf(f, "%llu\n", static_cast<unsigned long long>(at));
      std::fclose(f);
    }
    std::filesystem::rename(path + ".tmp", path);
    co_return at;
  }
  if (!co_await wait_until([&path]() { return std::filesystem::exists(path); }, 600))
    throw std::runtime_error("the window's opening was not published");
  unsigned long long at = 0;
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f || std::fscanf(f, "%llu", &at) != 1) throw std::runtime_error("cannot read " + path);
  std::fclose(f);
  co_return static_cast<std::uint64_t>(at);
}

awaitable<void> exceed_relay(Result& r) {
  auto const& o = g_net->opt;
  co_await make_agents(o.agents);
  co_await barrier("agents");
  co_await make_customer_tokens(o.conversations);
  co_await open_all(g_ex.customers);
  int n = static_cast<int>(g_ex.customers.size());
  if (!co_await wait_until([n]() { return g_ex.assigned == n; }, 300))
    throw std::runtime_error("relay: only " + std::to_string(g_ex.assigned) + " of " + std::to_string(n) + " chats assigned");
  co_await barrier("ready");
  std::cerr << "loadgen: shard " << o.shard << ": " << n << " conversations assigned, " << g_ex.agents.size()
            << " agents\n";
  std::vector<std::function<void()>> senders;
  for (auto& cp : g_ex.customers) {
    Client* c = cp.get();
    Conv* cv = &conv(c->conv_id);
    senders.push_back([c, cv]() { send_message(*c, *cv); });
  }
  double customer_rate = o.rate / o.shards / (o.reply ? 2.0 : 1.0);
  // Set before the warm-up ends, so that a message sent between the
  // opening and the moment pace() returns counts as sent, as its ack will.
  auto ws0 = co_await window_opening(o.warmup);
  g_stats.window_start = ws0;
  g_stats.window_end = ws0 + static_cast<std::uint64_t>(o.duration * 1e9);
  co_await pace(senders, customer_rate, ws0);
  Window w;
  w.begin();
  co_await pace(senders, customer_rate, g_stats.window_end);
  w.end(r);
  if (o.after_rate > 0) {
    g_stats.after_start = now_ns();
    g_stats.after_end = g_stats.after_start + static_cast<std::uint64_t>(o.after_duration * 1e9);
    co_await pace(senders, o.after_rate / o.shards / (o.reply ? 2.0 : 1.0), g_stats.after_end);
  }
  g_ex.sending = false;
  co_await sleep_s(o.drain);
  // Connections the server closed (or that failed) during the run: a
  // well-behaved client must not be one of them, even under overload.
  double closed = 0;
  for (auto const& c : g_ex.customers) closed += c->failed ? 1 : 0;
  for (auto const& c : g_ex.agents) closed += c->failed ? 1 : 0;
  r.values["closed"] = closed;
}

// ------------------------------------------------------------------ MQTT 3.1.1 over WebSocket

void put_len(std::string& s, std::size_t n) {
  do {
    unsigned char b = n % 128;
    n /= 128;
    if (n) b |= 0x80;
    s += static_cast<char>(b);
  } while (n);
}
void put_str(std::string& s, std::string_view v) {
  s += static_cast<char>(v.size() >> 8);
  s += static_cast<char>(v.size() & 0xff);
  s += v;
}
std::string packet(unsigned char head, std::string const& body) {
  std::string p;
  p += static_cast<char>(head);
  put_len(p, body.size());
  return p + body;
}
std::string mqtt_connect(std::string const& client_id) {
  std::string b;
  put_str(b, "MQTT");
  b += '\x04';        // 3.1.1
  b += '\x02';        // clean session
  b += '\0';
  b += '\0';          // keep alive off
  put_str(b, client_id);
  return packet(0x10, b);
}
std::string mqtt_subscribe(std::uint16_t pid, std::string const& topic, int qos) {
  std::string b;
  b += static_cast<char>(pid >> 8);
  b += static_cast<char>(pid & 0xff);
  put_str(b, topic);
  b += static_cast<char>(qos);
  return packet(0x82, b);
}
std::string mqtt_publish(std::string const& topic, std::uint16_t pid, int qos, std::string const& payload) {
  std::string b;
  put_str(b, topic);
  if (qos) {
    b += static_cast<char>(pid >> 8);
    b += static_cast<char>(pid & 0xff);
  }
  b += payload;
  return packet(static_cast<unsigned char>(0x30 | (qos << 1)), b);
}
std::string mqtt_puback(std::uint16_t pid) {
  std::string b;
  b += static_cast<char>(pid >> 8);
  b += static_cast<char>(pid & 0xff);
  return packet(0x40, b);
}

struct MqttClient;
struct MqttConv {
  int index = 0;
  std::string topic_c, topic_a;  // conv/<i> (customer publishes), conv/<i>/a (agent answers)
  std::uint64_t sent_c = 0, sent_a = 0;
  Seen seen_c, seen_a;
  MqttClient* customer = nullptr;
  MqttClient* agent = nullptr;
};

struct MqttClient {
  std::shared_ptr<Ws> ws;
  bool agent = false;
  bool connacked = false;
  int subacks_wanted = 0, subacks = 0;
  std::uint16_t next_pid = 1;
  std::string in;  // bytes not yet parsed (packets may span frames)
  std::unordered_map<std::uint16_t, std::uint64_t> inflight;  // pid -> send ns (QoS 1)
  std::vector<std::string> topics;
  std::unordered_map<std::string, MqttConv*> by_topic;
};

struct Mqtt {
  std::vector<std::unique_ptr<MqttClient>> customers, agents;
  std::vector<std::unique_ptr<MqttConv>> convs;
  int connacked = 0, subscribed = 0;
  bool sending = true;
};
Mqtt g_mq;

void mqtt_send_message(MqttClient& c, MqttConv& cv) {
  bool cust = !c.agent;
  std::uint64_t k = cust ? ++cv.sent_c : ++cv.sent_a;
  auto text = stamp_text(k, g_net->opt.size);
  auto ns = read_stamp(text).ns;
  int qos = g_net->opt.qos;
  std::uint16_t pid = 0;
  if (qos) {
    pid = c.next_pid++;
    if (c.next_pid == 0) c.next_pid = 1;
    c.inflight[pid] = ns;
  }
  if (g_stats.in_window(ns)) {
    (cust ? g_stats.sent_c : g_stats.sent_a) += 1;
    if (!qos) (cust ? g_stats.acked_c : g_stats.acked_a) += 1;  // QoS 0 has no ack: counted as sent
  }
  c.ws->send(mqtt_publish(cust ? cv.topic_c : cv.topic_a, pid, qos, text));
}

void mqtt_packet(MqttClient& c, unsigned char head, std::string_view body) {
  switch (head >> 4) {
    case 2:  // CONNACK
      if (body.size() >= 2 && body[1] == 0) {
        c.connacked = true;
        ++g_mq.connacked;
        std::uint16_t pid = 1;
        for (auto const& t : c.topics) c.ws->send(mqtt_subscribe(pid++, t, g_net->opt.qos));
        c.next_pid = pid;
        if (c.topics.empty()) ++g_mq.subscribed;
      } else {
        g_stats.error("mqtt connack refused");
      }
      break;
    case 9:  // SUBACK
      if (++c.subacks == c.subacks_wanted) ++g_mq.subscribed;
      break;
    case 4: {  // PUBACK of our publish
      if (body.size() < 2) break;
      auto pid = static_cast<std::uint16_t>((static_cast<unsigned char>(body[0]) << 8) | static_cast<unsigned char>(body[1]));
      auto it = c.inflight.find(pid);
      if (it == c.inflight.end()) break;
      if (g_stats.in_window(it->second)) {
        (c.agent ? g_stats.acked_a : g_stats.acked_c) += 1;
        g_stats.lat_ack.add((now_ns() - it->second) / 1000);
      }
      c.inflight.erase(it);
      break;
    }
    case 3: {  // PUBLISH to us
      int qos = (head >> 1) & 3;
      if (body.size() < 2) break;
      std::size_t tl = (static_cast<unsigned char>(body[0]) << 8) | static_cast<unsigned char>(body[1]);
      if (body.size() < 2 + tl) break;
      std::string topic(body.substr(2, tl));
      std::size_t p = 2 + tl;
      if (qos) {
        if (body.size() < p + 2) break;
        auto pid = static_cast<std::uint16_t>((static_cast<unsigned char>(body[p]) << 8) | static_cast<unsigned char>(body[p + 1]));
        p += 2;
        c.ws->send(mqtt_puback(pid));
      }
      auto payload = body.substr(p);
      auto it = c.by_topic.find(topic);
      if (it == c.by_topic.end()) break;
      auto& cv = *it->second;
      auto st = read_stamp(payload);
      auto now = now_ns();
      if (c.agent) {
        cv.seen_c.mark(st.counter);
        if (g_stats.in_window(st.ns)) {
          ++g_stats.delivered_c;
          g_stats.lat_c2a.add((now - st.ns) / 1000);
        }
        if (g_net->opt.reply && g_mq.sending) mqtt_send_message(c, cv);
      } else {
        cv.seen_a.mark(st.counter);
        if (g_stats.in_window(st.ns)) {
          ++g_stats.delivered_a;
          g_stats.lat_a2c.add((now - st.ns) / 1000);
        }
      }
      break;
    }
    default:
      break;
  }
}

void on_mqtt_bytes(MqttClient* cp, std::string_view data) {
  auto& c = *cp;
  c.in.append(data);
  std::size_t pos = 0;
  for (;;) {
    if (c.in.size() - pos < 2) break;
    std::size_t len = 0, mult = 1, i = pos + 1;
    bool complete = false;
    for (; i < c.in.size() && i < pos + 5; ++i) {
      auto b = static_cast<unsigned char>(c.in[i]);
      len += (b & 0x7f) * mult;
      mult *= 128;
      if (!(b & 0x80)) {
        complete = true;
        ++i;
        break;
      }
    }
    if (!complete || c.in.size() - i < len) break;
    mqtt_packet(c, static_cast<unsigned char>(c.in[pos]), std::string_view(c.in).substr(i, len));
    pos = i + len;
  }
  c.in.erase(0, pos);
}

awaitable<void> open_mqtt(MqttClient* c, std::string id) {
  ++g_net->connecting;
  try {
    c->ws = co_await connect_ws(true);
    c->ws->on_frame = [c](std::string_view d) { on_mqtt_bytes(c, d); };
    c->ws->start_reading();
    c->subacks_wanted = static_cast<int>(c->topics.size());
    c->ws->send(mqtt_connect(id));
  } catch (std::exception const& e) {
    g_stats.error(std::string("mqtt connect: ") + e.what());
  }
  --g_net->connecting;
}

awaitable<void> open_all_mqtt(std::vector<std::unique_ptr<MqttClient>>& list, char const* prefix) {
  int limit = g_net->opt.parallel;
  int i = 0;
  for (auto& c : list) {
    if (g_net->connecting >= limit) co_await wait_until([limit]() { return g_net->connecting < limit; }, 600);
    std::string id = std::string(prefix) + std::to_string(g_net->opt.shard) + "-" + std::to_string(i++);
    asio::co_spawn(g_net->io, open_mqtt(c.get(), std::move(id)), asio::detached);
  }
}

awaitable<void> mqtt_relay(Result& r) {
  auto const& o = g_net->opt;
  auto [lo, hi] = my_range(o.conversations);
  auto [alo, ahi] = my_range(o.agents);
  int na = std::max(1, ahi - alo);
  for (int i = 0; i < na; ++i) {
    auto a = std::make_unique<MqttClient>();
    a->agent = true;
    g_mq.agents.push_back(std::move(a));
  }
  for (int i = lo; i < hi; ++i) {
    auto cv = std::make_unique<MqttConv>();
    cv->index = i;
    cv->topic_c = "conv/" + std::to_string(i);
    cv->topic_a = cv->topic_c + "/a";
    auto c = std::make_unique<MqttClient>();
    cv->customer = c.get();
    cv->agent = g_mq.agents[static_cast<std::size_t>(i - lo) % g_mq.agents.size()].get();
    c->topics.push_back(cv->topic_a);
    c->by_topic[cv->topic_a] = cv.get();
    cv->agent->topics.push_back(cv->topic_c);
    cv->agent->by_topic[cv->topic_c] = cv.get();
    g_mq.customers.push_back(std::move(c));
    g_mq.convs.push_back(std::move(cv));
  }
  co_await open_all_mqtt(g_mq.agents, "a");
  co_await open_all_mqtt(g_mq.customers, "c");
  int total = static_cast<int>(g_mq.agents.size() + g_mq.customers.size());
  if (!co_await wait_until([total]() { return g_mq.subscribed == total; }, 300))
    throw std::runtime_error("mqtt: only " + std::to_string(g_mq.subscribed) + " of " + std::to_string(total) + " subscribed");
  co_await barrier("ready");
  std::vector<std::function<void()>> senders;
  for (auto& cvp : g_mq.convs) {
    MqttConv* cv = cvp.get();
    senders.push_back([cv]() { mqtt_send_message(*cv->customer, *cv); });
  }
  double customer_rate = o.rate / o.shards / (o.reply ? 2.0 : 1.0);
  // Set before the warm-up ends, so that a message sent between the
  // opening and the moment pace() returns counts as sent, as its ack will.
  auto ws0 = co_await window_opening(o.warmup);
  g_stats.window_start = ws0;
  g_stats.window_end = ws0 + static_cast<std::uint64_t>(o.duration * 1e9);
  co_await pace(senders, customer_rate, ws0);
  Window w;
  w.begin();
  co_await pace(senders, customer_rate, g_stats.window_end);
  w.end(r);
  g_mq.sending = false;
  co_await sleep_s(o.drain);
}

// ------------------------------------------------------------------ idle

void kernel_base(Result& r) {
  r.values["base_rss"] = servers_rss();
  r.values["base_kernel_tcp"] = kernel_tcp_mem_bytes();
  r.values["base_kernel_slab"] = kernel_slab_bytes();
}

awaitable<void> idle(Result& r) {
  auto const& o = g_net->opt;
  auto [lo, hi] = my_range(o.sessions);
  int n = hi - lo;
  std::uint64_t t0 = 0;
  if (o.mode == "mqtt") {
    co_await barrier("start");
    kernel_base(r);
    for (int i = 0; i < n; ++i) g_mq.customers.push_back(std::make_unique<MqttClient>());
    t0 = now_ns();
    co_await open_all_mqtt(g_mq.customers, "i");
    if (!co_await wait_until([n]() { return g_mq.subscribed == n; }, 600))
      g_stats.error("idle: only " + std::to_string(g_mq.subscribed) + " of " + std::to_string(n) + " connected");
    r.values["sessions"] = g_mq.subscribed;
  } else {
    co_await make_customer_tokens(o.sessions);
    co_await barrier("start");
    kernel_base(r);
    t0 = now_ns();
    co_await open_all(g_ex.customers);
    if (!co_await wait_until([n]() { return g_ex.welcomed == n; }, 600))
      g_stats.error("idle: only " + std::to_string(g_ex.welcomed) + " of " + std::to_string(n) + " welcomed");
    r.values["sessions"] = g_ex.welcomed;
  }
  r.values["connect_s_max"] = static_cast<double>(now_ns() - t0) / 1e9;
  co_await barrier("connected");
  co_await sleep_s(o.hold);
  r.values["server_rss_full"] = servers_rss();
  r.values["kernel_tcp_full"] = kernel_tcp_mem_bytes();
  r.values["kernel_slab_full"] = kernel_slab_bytes();
  r.values["window_s"] = o.hold;
  co_await barrier("measured");
}

// ------------------------------------------------------------------ storm

awaitable<void> storm(Result& r) {
  auto const& o = g_net->opt;
  g_ex.storm = true;
  co_await make_agents(o.agents);
  co_await make_customer_tokens(o.sessions);
  co_await barrier("ready");
  int n = static_cast<int>(g_ex.customers.size());
  int const welcomed0 = g_ex.welcomed;  // the agents
  Window w;
  w.begin();
  auto t0 = now_ns();
  double t_welcomed = 0;
  asio::co_spawn(g_net->io, open_all(g_ex.customers), asio::detached);
  asio::steady_timer t(g_net->io);
  auto limit = after_s(o.duration);
  while (g_ex.assigned < n && now_ns() < limit) {
    if (t_welcomed == 0 && g_ex.welcomed - welcomed0 == n) t_welcomed = static_cast<double>(now_ns() - t0) / 1e9;
    t.expires_after(std::chrono::milliseconds(1));
    co_await t.async_wait(use_awaitable);
  }
  double t_assigned = static_cast<double>(now_ns() - t0) / 1e9;
  if (t_welcomed == 0) t_welcomed = t_assigned;
  w.end(r);
  r.values["customers"] = n;
  r.values["welcomed"] = g_ex.welcomed - welcomed0;
  r.values["assigned"] = g_ex.assigned;
  r.values["connect_s_max"] = t_welcomed;
  r.values["assign_s_max"] = t_assigned;
  r.hists["lat_assign"] = g_stats.lat_ack;
  if (g_ex.assigned < n) g_stats.error("storm: " + std::to_string(n - g_ex.assigned) + " chats not assigned in time");
  // This shard's agents take chats of the other shards' customers too: they
  // keep accepting offers until every shard is done.
  co_await barrier("storm-done");
}

// ------------------------------------------------------------------ resume

awaitable<void> resume(Result& r) {
  auto const& o = g_net->opt;
  co_await make_agents(o.agents);
  co_await barrier("agents");
  co_await make_customer_tokens(o.sessions);
  co_await open_all(g_ex.customers);
  int n = static_cast<int>(g_ex.customers.size());
  if (!co_await wait_until([n]() { return g_ex.assigned == n; }, 300))
    throw std::runtime_error("resume: only " + std::to_string(g_ex.assigned) + " assigned");
  co_await sleep_s(0.5);
  // Customers drop; while they are away their agents write resume_msgs each.
  g_ex.resume_phase = true;
  for (auto& c : g_ex.customers) {
    c->resume_after = c->last_seq[c->conv_id];
    c->ws->close_hard();
  }
  co_await barrier("dropped");
  for (auto& [id, cv] : g_ex.convs)
    if (cv->agent)
      for (int i = 0; i < o.resume_msgs; ++i) send_message(*cv->agent, *cv);
  // Every agent message is stored (acked) before anyone resumes.
  double want = static_cast<double>(g_ex.convs.size()) * o.resume_msgs;
  if (!co_await wait_until([want]() { return g_ex.agent_acks >= want; }, 120))
    throw std::runtime_error("resume: the agents' messages were not all acked");
  co_await barrier("written");
  Window w;
  w.begin();
  auto t0 = now_ns();
  int limit = o.parallel;
  for (auto& cp : g_ex.customers) {
    Client* c = cp.get();
    if (g_net->connecting >= limit) co_await wait_until([limit]() { return g_net->connecting < limit; }, 600);
    c->t_start_ns = now_ns();
    std::string hello = R"({"type":"hello","token":)" + json_quote(c->token) + R"(,"resume":[{"conversation_id":)" +
                        json_quote(c->conv_id) + R"(,"after_seq":)" + std::to_string(c->resume_after) + "}]}";
    c->last_seq.clear();
    asio::co_spawn(g_net->io, open_client(c, std::move(hello)), asio::detached);
  }
  co_await wait_until([n]() { return g_ex.resumed == n; }, o.duration);
  double t_all = static_cast<double>(now_ns() - t0) / 1e9;
  w.end(r);
  r.values["clients"] = n;
  r.values["resumed"] = g_ex.resumed;
  r.values["expected_msgs"] = static_cast<double>(n) * o.resume_msgs;
  r.values["got_msgs"] = g_ex.got_resume_msgs;
  r.values["resume_s_max"] = t_all;
  r.hists["lat_resume"] = g_stats.lat_c2a;
}

// ------------------------------------------------------------------ browse

awaitable<void> browse(Result& r) {
  auto const& o = g_net->opt;
  co_await make_agents(o.agents);  // consoles watching the list (visitors.subscribe)
  co_await make_customer_tokens(o.sessions);
  co_await barrier("ready");
  co_await sleep_s(1);
  r.values["base_rss"] = servers_rss();
  int n = static_cast<int>(g_ex.customers.size());
  co_await open_all(g_ex.customers);
  if (!co_await wait_until([n]() { return g_ex.paged == n; }, 600))
    g_stats.error("browse: only " + std::to_string(g_ex.paged) + " of " + std::to_string(n) + " visitors reported a page");
  co_await barrier("browsing");
  std::cerr << "loadgen: shard " << o.shard << ": " << g_ex.paged << " visitors browsing, " << g_ex.agents.size()
            << " consoles watching\n";
  std::vector<std::function<void()>> senders;
  for (auto& cp : g_ex.customers) {
    Client* c = cp.get();
    senders.push_back([c]() { send_page(*c); });
  }
  // Visitors page independently: in the order they came, the newest visits
  // (the rows a console's list shows) would all move in the same second.
  std::shuffle(senders.begin(), senders.end(), std::mt19937(static_cast<unsigned>(17 + o.shard)));
  double rate = static_cast<double>(n) / std::max(0.1, o.page_every);
  auto ws0 = co_await window_opening(o.warmup);
  g_stats.window_start = ws0;
  g_stats.window_end = ws0 + static_cast<std::uint64_t>(o.duration * 1e9);
  co_await pace(senders, rate, ws0);
  Window w;
  w.begin();
  co_await pace(senders, rate, g_stats.window_end);
  w.end(r);
  r.values["visitors"] = g_ex.paged;
  r.values["consoles"] = static_cast<double>(g_ex.agents.size());
  r.values["pages_sent"] = g_ex.pages_sent;
  r.values["pages_acked"] = g_ex.pages_acked;
  r.values["console_frames"] = g_ex.console_frames;
  r.values["console_rows"] = g_ex.console_rows;
  r.values["console_bytes"] = g_ex.console_bytes;
  r.values["console_frame_rows_max"] = g_ex.console_frame_rows_max;
  r.values["console_frame_bytes_max"] = g_ex.console_frame_bytes_max;
  r.hists["lat_console"] = g_stats.lat_c2a;
  co_await barrier("measured");
}

// ------------------------------------------------------------------ main

awaitable<void> run(Result& r, int& rc) {
  auto const& o = g_net->opt;
  try {
    if (o.scenario == "relay") {
      if (o.mode == "mqtt") co_await mqtt_relay(r);
      else co_await exceed_relay(r);
      r.hists["lat_c2a"] = g_stats.lat_c2a;
      r.hists["lat_a2c"] = g_stats.lat_a2c;
      r.hists["lat_ack"] = g_stats.lat_ack;
      r.values["sent_c"] = g_stats.sent_c;
      r.values["sent_a"] = g_stats.sent_a;
      r.values["acked_c"] = g_stats.acked_c;
      r.values["acked_a"] = g_stats.acked_a;
      r.values["delivered_c"] = g_stats.delivered_c;
      r.values["delivered_a"] = g_stats.delivered_a;
      r.values["sent_after"] = g_stats.sent_after;
      r.values["delivered_after"] = g_stats.delivered_after;
      r.values["after_s"] = o.after_rate > 0 ? o.after_duration : 0;
      r.hists["lat_after"] = g_stats.lat_after;
      for (std::size_t i = 0; i < g_stats.lat_after_by_s.size(); ++i) {
        char key[32];
        std::snprintf(key, sizeof key, "lat_after_s%03zu", i);
        r.hists[key] = g_stats.lat_after_by_s[i];
      }
    } else if (o.scenario == "idle") {
      co_await idle(r);
    } else if (o.scenario == "storm") {
      co_await storm(r);
    } else if (o.scenario == "resume") {
      co_await resume(r);
    } else if (o.scenario == "browse") {
      co_await browse(r);
    } else {
      usage();
    }
  } catch (std::exception const& e) {
    std::cerr << "loadgen: shard " << o.shard << ": " << e.what() << '\n';
    g_stats.errors += 1;
    rc = 1;
  }
  r.values["dup"] = g_stats.dup;
  r.values["ooo"] = g_stats.ooo;
  r.values["errors"] = g_stats.errors;
  g_net->io.stop();
}

}  // namespace
}  // namespace exceed::bench

int main(int argc, char** argv) {
  using namespace exceed::bench;
  if (argc >= 2 && std::string_view(argv[1]) == "merge") return merge_main(std::vector<std::string>(argv + 2, argv + argc));
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  Net net;
  g_net = &net;
  net.opt = parse(argc, argv);
  net.server = tcp::endpoint(asio::ip::make_address(net.opt.host), net.opt.port);
  Result r;
  r.tags["scenario"] = net.opt.scenario;
  r.tags["mode"] = net.opt.mode == "mqtt" ? "mqtt-qos" + std::to_string(net.opt.qos) : "exceed";
  int rc = 0;
  asio::co_spawn(net.io, run(r, rc), asio::detached);
  net.io.run();
  if (net.opt.out.empty()) print_result(r);
  else r.write(net.opt.out);
  // Thousands of sockets and the handlers that hold them: the kernel closes
  // them faster than destructors would, and nothing is left to flush.
  std::cout.flush();
  std::_Exit(rc);
}
