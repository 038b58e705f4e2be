#include "fault/swarm.hpp"

#include "store/keys.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <dirent.h>
#include <deque>
#include <fstream>
#include <future>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace exceed::fault {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

struct Pending {
  std::string conv;
  std::string text;
  Clock::time_point created;
  Clock::time_point last_sent{};
  bool in_flight = false;
};

}  // namespace

struct Client : std::enable_shared_from_this<Client> {
  Swarm::Impl& sw;
  std::size_t index;
  std::string token, name;
  std::vector<std::uint16_t> ports;
  std::size_t port_at = 0;
  std::vector<ConvView> convs;
  std::string talk_in;

  std::unique_ptr<websocket::stream<beast::tcp_stream>> ws;
  beast::flat_buffer buf;
  std::deque<std::string> out;
  bool writing = false;
  bool open = false;       // welcome received on the current connection
  bool parked = false;
  bool ever_welcomed = false;
  std::uint64_t gen = 0;   // connection generation: stale callbacks check it
  milliseconds backoff{0};
  asio::steady_timer reconnect_timer, tick;

  std::map<std::string, Pending> pending;  // cmid -> not yet acked
  std::map<std::string, Acked> acked;      // cmid -> its ack
  std::int64_t next_cmid = 0;
  std::map<std::string, Clock::time_point> history_asked;  // conv -> last history.get
  std::map<std::string, milliseconds> history_wait;          // conv -> until the next one (1 s doubling to 8 s)
  Clock::time_point welcomed_at{};
  bool resume_error = false;  // an error without id (a resume entry failed) on this connection

  Client(Swarm::Impl& s, std::size_t i, asio::io_context& io)
      : sw(s), index(i), reconnect_timer(io), tick(io) {}

  void connect();
  void on_connected(std::uint64_t g, beast::error_code ec);
  void read(std::uint64_t g);
  void on_frame(std::string const& text);
  void write(std::string s);
  void flush(std::uint64_t g);
  void lost(std::uint64_t g, char const* where);
  void schedule_reconnect();
  void drop();
  void on_tick();
  void send_msg(std::string const& cmid, Pending& p);
  void saw(ConvView& c, std::int64_t seq, bool from_history);
  void fill_gaps(Clock::time_point now);
  ConvView* view(std::string const& id) {
    for (auto& c : convs)
      if (c.id == id) return &c;
    return nullptr;
  }
};

struct Swarm::Impl {
  SwarmOptions opt;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::vector<std::shared_ptr<Client>> clients;
  bool sending = false;
  std::map<std::string, std::int64_t> want;  // conv -> seq every follower should reach
  SwarmFigures fig;
  std::vector<double> latencies;
  std::minstd_rand rng{std::random_device{}()};
  std::thread thread;

  explicit Impl(SwarmOptions o) : opt(o) {
    thread = std::thread([this] { io.run(); });
  }
  ~Impl() {
    sync([this] {
      for (auto& c : clients) {
        c->parked = true;
        c->drop();
        c->tick.cancel();
        c->reconnect_timer.cancel();
      }
    });
    work.reset();
    io.stop();
    thread.join();
  }
  template <class F>
  auto sync(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto fut = task.get_future();
    asio::post(io, [&task] { task(); });
    return fut.get();
  }
  milliseconds jitter(milliseconds lo, milliseconds hi) {
    std::uniform_int_distribution<long long> d(lo.count(), std::max(lo.count(), hi.count()));
    return milliseconds(d(rng));
  }
};

void Client::connect() {
  if (parked) return;
  ++gen;
  auto g = gen;
  open = false;
  resume_error = false;
  writing = false;
  out.clear();
  buf.consume(buf.size());
  ws = std::make_unique<websocket::stream<beast::tcp_stream>>(sw.io);
  auto port = ports[port_at % ports.size()];
  beast::get_lowest_layer(*ws).expires_after(std::chrono::seconds(5));
  beast::get_lowest_layer(*ws).async_connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
      [self = shared_from_this(), g](beast::error_code ec) { self->on_connected(g, ec); });
}

void Client::on_connected(std::uint64_t g, beast::error_code ec) {
  if (g != gen) return;
  if (ec) {
    ++port_at;  // a refused port: try the next one (a load balancer's job)
    return lost(g, "connect");
  }
  auto port = ports[port_at % ports.size()];
  ws->read_message_max(1 << 22);
  ws->async_handshake("127.0.0.1:" + std::to_string(port), "/ws", [self = shared_from_this(), g](beast::error_code e) {
    if (g != self->gen) return;
    if (e) {
      ++self->port_at;
      return self->lost(g, "handshake");
    }
    beast::get_lowest_layer(*self->ws).expires_never();
    json::object hello;
    hello["type"] = "hello";
    hello["token"] = self->token;
    json::array resume;
    for (auto const& c : self->convs) {
      json::object r;
      r["conversation_id"] = c.id;
      r["after_seq"] = c.contig;
      resume.push_back(std::move(r));
    }
    if (!resume.empty()) hello["resume"] = std::move(resume);
    self->write(json::serialize(hello));
    self->read(g);
  });
}

void Client::read(std::uint64_t g) {
  ws->async_read(buf, [self = shared_from_this(), g](beast::error_code ec, std::size_t) {
    if (g != self->gen) return;
    if (ec) return self->lost(g, "read");
    auto text = beast::buffers_to_string(self->buf.data());
    self->buf.consume(self->buf.size());
    self->on_frame(text);
    if (g == self->gen) self->read(g);
  });
}

void Client::on_frame(std::string const& text) {
  std::error_code jec;
  auto v = json::parse(text, jec);
  if (jec || !v.is_object()) return;
  auto const& f = v.get_object();
  auto const* type = f.if_contains("type");
  if (!type || !type->is_string()) return;
  auto const& t = type->get_string();
  auto& fig = sw.fig;
  if (t == "welcome") {
    open = true;
    backoff = milliseconds(0);
    ++fig.connected;
    if (ever_welcomed) ++fig.reconnects;
    ever_welcomed = true;
    welcomed_at = Clock::now();
    for (auto& [cmid, p] : pending) p.in_flight = false;  // answers on the old socket are gone: send again
    on_tick();
  } else if (t == "message") {
    auto const* conv = f.if_contains("conversation_id");
    auto const* seq = f.if_contains("seq");
    if (!conv || !seq || !conv->is_string() || !seq->is_int64()) return;
    auto* c = view(std::string(conv->get_string()));
    if (!c) return;
    saw(*c, seq->get_int64(), false);
  } else if (t == "ack" || t == "error") {
    auto const* id = f.if_contains("id");
    if (!id || !id->is_string()) {
      if (t == "error") {
        ++fig.resume_errors;
        resume_error = true;
        if (std::getenv("EXCEED_FAULT_TRACE")) std::fprintf(stderr, "error without id: %s\n", text.c_str());
      }
      return;
    }
    std::string cmid(id->get_string());
    if (cmid.rfind("h:", 0) == 0) {  // a history.get that fills a gap
      auto* c = view(cmid.substr(2));
      auto const* msgs = f.if_contains("messages");
      if (!c || !msgs || !msgs->is_array()) return;
      for (auto const& m : msgs->get_array())
        if (auto const* s = m.as_object().if_contains("seq"); s && s->is_int64()) saw(*c, s->get_int64(), true);
      return;
    }
    auto it = pending.find(cmid);
    if (t == "error") {
      auto const* code = f.if_contains("code");
      bool unavailable = code && code->is_string() && code->get_string() == "unavailable";
      ++(unavailable ? fig.unavailable : fig.other_errors);
      if (it != pending.end()) it->second.in_flight = false;  // retried on a later tick
      return;
    }
    auto seq = f.at("seq").as_int64();
    if (auto a = acked.find(cmid); a != acked.end()) {
      if (a->second.seq != seq) ++fig.ack_conflicts;
      return;
    }
    if (it == pending.end()) return;
    acked[cmid] = Acked{it->second.conv, seq};
    ++fig.acked;
    sw.latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - it->second.created).count());
    pending.erase(it);
  }
}

void Client::saw(ConvView& c, std::int64_t seq, bool from_history) {
  if (!c.seen.insert(seq).second) {
    if (!from_history) {
      ++c.redelivered;
      ++sw.fig.redelivered;
    }
    return;
  }
  while (c.seen.count(c.contig + 1)) ++c.contig;
}

// A gap (an event missed, e.g. the store answered but the ack was lost), or
// a conversation behind what the test knows is stored: ask history.get, as
// PROTOCOL.md tells clients to; again after 1 s, doubling to 8 s, while
// still behind (no herd of retries against a server that is struggling).
void Client::fill_gaps(Clock::time_point now) {
  for (auto& c : convs) {
    std::int64_t target = c.seen.empty() ? 0 : *c.seen.rbegin();
    bool gap = c.contig < target;
    // What the test knows is stored counts only once resume has had its
    // chance: figures then show whether resume alone was enough.
    if (auto it = sw.want.find(c.id); it != sw.want.end() && now - welcomed_at > std::chrono::seconds(3))
      target = std::max(target, it->second);
    if (c.contig >= target) {
      history_wait.erase(c.id);
      continue;
    }
    if (!gap && !resume_error && history_asked.find(c.id) == history_asked.end()) ++sw.fig.silent_misses;
    auto& asked = history_asked[c.id];
    auto& wait = history_wait[c.id];
    if (now - asked < wait) continue;
    asked = now;
    wait = std::min<milliseconds>(wait.count() ? wait * 2 : milliseconds(1000), milliseconds(8000));
    ++sw.fig.history_gets;
    json::object h;
    h["type"] = "history.get";
    h["id"] = "h:" + c.id;
    h["conversation_id"] = c.id;
    h["after_seq"] = c.contig;
    h["limit"] = 200;
    write(json::serialize(h));
  }
}

void Client::write(std::string s) {
  out.push_back(std::move(s));
  if (!writing) flush(gen);
}

void Client::flush(std::uint64_t g) {
  if (g != gen || out.empty() || !ws) {
    writing = false;
    return;
  }
  writing = true;
  ws->async_write(asio::buffer(out.front()), [self = shared_from_this(), g](beast::error_code ec, std::size_t) {
    if (g != self->gen) return;
    self->writing = false;
    if (ec) return self->lost(g, "write");
    self->out.pop_front();
    self->flush(g);
  });
}

void Client::lost(std::uint64_t g, char const*) {
  if (g != gen) return;
  if (open) {
    --sw.fig.connected;
    ++sw.fig.disconnects;
  }
  drop();
  schedule_reconnect();
}

void Client::drop() {
  ++gen;
  if (open) open = false;
  writing = false;
  if (ws) {
    beast::error_code ec;
    auto& sock = beast::get_lowest_layer(*ws).socket();
    sock.set_option(asio::socket_base::linger(true, 0), ec);
    sock.close(ec);
  }
}

void Client::schedule_reconnect() {
  if (parked) return;
  auto& o = sw.opt;
  backoff = backoff.count() == 0 ? o.backoff_min : std::min(backoff * 2, o.backoff_max);
  reconnect_timer.expires_after(sw.jitter(backoff / 2, backoff));
  reconnect_timer.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->connect();
  });
}

void Client::send_msg(std::string const& cmid, Pending& p) {
  json::object m;
  m["type"] = "message.send";
  m["id"] = cmid;
  m["conversation_id"] = p.conv;
  m["client_msg_id"] = cmid;
  m["text"] = p.text;
  p.in_flight = true;
  p.last_sent = Clock::now();
  ++sw.fig.attempts;
  write(json::serialize(m));
}

void Client::on_tick() {
  if (!open) return;
  auto now = Clock::now();
  fill_gaps(now);
  int in_flight = 0;
  for (auto& [cmid, p] : pending) {
    if (p.in_flight && now - p.last_sent > sw.opt.retry_after) p.in_flight = false;
    if (!p.in_flight) send_msg(cmid, p);
    ++in_flight;
  }
  if (sw.sending && !talk_in.empty() && in_flight < sw.opt.max_in_flight) {
    auto cmid = "c" + std::to_string(index) + "-" + std::to_string(++next_cmid);
    Pending p{talk_in, cmid + " " + std::string(sw.opt.text_bytes > cmid.size() ? sw.opt.text_bytes - cmid.size() - 1 : 0, 'x'), now};
    auto& slot = pending[cmid] = std::move(p);
    ++sw.fig.sent;
    send_msg(cmid, slot);
  }
}

namespace {

void start_ticking(std::shared_ptr<Client> const& c) {
  c->tick.expires_after(c->sw.opt.send_every);
  c->tick.async_wait([c](beast::error_code ec) {
    if (ec || c->parked) return;
    c->on_tick();
    start_ticking(c);
  });
}

}  // namespace

Swarm::Swarm(SwarmOptions opt) : impl_(std::make_unique<Impl>(opt)) {}
Swarm::~Swarm() = default;

std::size_t Swarm::add(std::string token, std::vector<std::uint16_t> ports, std::vector<std::string> convs,
                       std::string talk_in, std::string name) {
  return impl_->sync([&] {
    auto c = std::make_shared<Client>(*impl_, impl_->clients.size(), impl_->io);
    c->token = std::move(token);
    c->name = std::move(name);
    c->ports = std::move(ports);
    for (auto& id : convs) c->convs.push_back(ConvView{id, {}, 0, 0});
    c->talk_in = std::move(talk_in);
    impl_->clients.push_back(c);
    return c->index;
  });
}

bool Swarm::connect_all(milliseconds limit) {
  impl_->sync([this] {
    for (auto& c : impl_->clients) {
      if (c->ws) continue;
      c->connect();
      // Spread the ticks so the load is steady rather than in bursts.
      c->tick.expires_after(impl_->jitter(milliseconds(1), impl_->opt.send_every));
      c->tick.async_wait([c](beast::error_code ec) {
        if (!ec) start_ticking(c);
      });
    }
  });
  return wait_figures([n = size()](SwarmFigures const& f) { return f.connected == static_cast<std::int64_t>(n); },
                      limit);
}

void Swarm::start_sending() {
  impl_->sync([this] { impl_->sending = true; });
}
void Swarm::stop_sending() {
  impl_->sync([this] { impl_->sending = false; });
}

bool Swarm::wait_figures(std::function<bool(SwarmFigures const&)> const& pred, milliseconds limit) {
  auto deadline = Clock::now() + limit;
  for (;;) {
    if (pred(figures())) return true;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));  // polling the clients' state, not waiting for time to pass
  }
}

bool Swarm::wait_all_acked(milliseconds limit) {
  return wait_figures([](SwarmFigures const& f) { return f.unacked == 0; }, limit);
}

bool Swarm::wait_caught_up(std::map<std::string, std::int64_t> const& want, milliseconds limit) {
  impl_->sync([&] { impl_->want = want; });
  auto deadline = Clock::now() + limit;
  for (;;) {
    bool done = impl_->sync([&] {
      for (auto& c : impl_->clients) {
        if (c->parked) continue;
        for (auto& v : c->convs)
          if (auto it = want.find(v.id); it != want.end() && v.contig < it->second) return false;
      }
      return true;
    });
    if (done) return true;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));  // polling, as above
  }
}

void Swarm::drop_all() {
  impl_->sync([this] {
    for (auto& c : impl_->clients) c->lost(c->gen, "drop");
  });
}

void Swarm::park(std::size_t i) { park_range(i, i + 1); }
void Swarm::unpark(std::size_t i) { unpark_range(i, i + 1); }

void Swarm::park_range(std::size_t from, std::size_t to) {
  impl_->sync([this, from, to] {
    for (std::size_t i = from; i < to; ++i) {
      auto& c = impl_->clients.at(i);
      if (c->open) {
        --impl_->fig.connected;
        ++impl_->fig.disconnects;
      }
      c->parked = true;
      c->drop();
      c->reconnect_timer.cancel();
    }
  });
}

void Swarm::hold(std::size_t i) {
  impl_->sync([this, i] { impl_->clients.at(i)->parked = true; });
}

void Swarm::unpark_range(std::size_t from, std::size_t to) {
  impl_->sync([this, from, to] {
    for (std::size_t i = from; i < to; ++i) {
      auto& c = impl_->clients.at(i);
      c->parked = false;
      c->backoff = milliseconds(0);
      c->connect();
      start_ticking(c);
    }
  });
}

SwarmFigures Swarm::figures() {
  return impl_->sync([this] {
    SwarmFigures f = impl_->fig;
    f.unacked = 0;
    for (auto& c : impl_->clients) f.unacked += static_cast<std::int64_t>(c->pending.size());
    auto l = impl_->latencies;
    if (!l.empty()) {
      std::sort(l.begin(), l.end());
      f.latency_p50_ms = l[l.size() / 2];
      f.latency_p99_ms = l[std::min(l.size() - 1, l.size() * 99 / 100)];
      f.latency_max_ms = l.back();
    }
    return f;
  });
}

void Swarm::reset_latency() {
  impl_->sync([this] { impl_->latencies.clear(); });
}

std::vector<ConvView> Swarm::views(std::size_t i) {
  return impl_->sync([this, i] { return impl_->clients.at(i)->convs; });
}

std::map<std::string, std::vector<std::pair<std::string, Acked>>> Swarm::acked_by_conv() {
  return impl_->sync([this] {
    std::map<std::string, std::vector<std::pair<std::string, Acked>>> out;
    for (auto& c : impl_->clients) {
      for (auto& v : c->convs) out[v.id];
      for (auto& [cmid, a] : c->acked) out[a.conv].emplace_back(cmid, a);
    }
    return out;
  });
}

std::size_t Swarm::size() const {
  return impl_->sync([this] { return impl_->clients.size(); });
}

// ---------------------------------------------------------------- Redis reads

namespace {

struct Ctx {
  redisContext* c;
  explicit Ctx(std::uint16_t port) : c(redisConnect("127.0.0.1", port)) {
    if (!c || c->err) {
      std::string why = c ? c->errstr : "out of memory";
      redisFree(c);  // the destructor does not run after a throw here
      throw std::runtime_error("redis connect: " + why);
    }
  }
  ~Ctx() { redisFree(c); }
  redisReply* run(std::vector<std::string> const& args) {
    std::vector<char const*> argv;
    std::vector<std::size_t> lens;
    for (auto const& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data()));
    if (!r) throw std::runtime_error("redis command failed: " + std::string(c->errstr));
    return r;
  }
};

void flatten(redisReply const* r, std::vector<std::string>& out) {
  if (r->type == REDIS_REPLY_ARRAY) {
    for (std::size_t i = 0; i < r->elements; ++i) flatten(r->element[i], out);
  } else if (r->type == REDIS_REPLY_INTEGER) {
    out.push_back(std::to_string(r->integer));
  } else if (r->type == REDIS_REPLY_NIL) {
    out.emplace_back();
  } else {
    out.emplace_back(r->str, r->len);
  }
}

}  // namespace

std::vector<std::string> redis_command(std::uint16_t redis_port, std::vector<std::string> const& args) {
  Ctx ctx(redis_port);
  auto* r = ctx.run(args);
  std::vector<std::string> out;
  flatten(r, out);
  freeReplyObject(r);
  return out;
}

std::vector<StoredMessage> stored_messages(std::uint16_t redis_port, std::string const& conv,
                                           std::string const& prefix) {
  // The stream where the server keeps it: on a cluster tagged by the
  // conversation, on the primary of its slot, which a MOVED answer names.
  std::vector<std::string> const query{"XRANGE", exceed::store::Keys(prefix).messages(conv), "-", "+"};
  auto ctx = std::make_unique<Ctx>(redis_port);
  auto* r = ctx->run(query);
  if (r->type == REDIS_REPLY_ERROR && std::string_view(r->str, r->len).starts_with("MOVED ")) {
    std::string moved(r->str, r->len);
    freeReplyObject(r);
    ctx = std::make_unique<Ctx>(static_cast<std::uint16_t>(std::stoi(moved.substr(moved.rfind(':') + 1))));
    r = ctx->run(query);
  }
  std::vector<StoredMessage> out;
  if (r->type == REDIS_REPLY_ARRAY) {
    for (std::size_t i = 0; i < r->elements; ++i) {
      auto const* e = r->element[i];
      StoredMessage m;
      std::string id(e->element[0]->str, e->element[0]->len);
      m.seq = std::stoll(id.substr(id.find('-') + 1));
      auto const* fields = e->element[1];
      for (std::size_t k = 0; k + 1 < fields->elements; k += 2) {
        std::string key(fields->element[k]->str, fields->element[k]->len);
        std::string val(fields->element[k + 1]->str, fields->element[k + 1]->len);
        if (key == "uid") m.uid = val;
        if (key == "cmid") m.cmid = val;
      }
      out.push_back(std::move(m));
    }
  }
  freeReplyObject(r);
  return out;
}

Audit audit(std::uint16_t redis_port, Swarm& swarm, std::string const& prefix) {
  Audit a;
  auto note = [&](std::string s) {
    if (a.problems.size() < 8) a.problems.push_back(std::move(s));
  };
  for (auto const& [conv, acks] : swarm.acked_by_conv()) {
    auto stored = stored_messages(redis_port, conv, prefix);
    a.stored += static_cast<std::int64_t>(stored.size());
    std::map<std::string, std::vector<std::int64_t>> by_cmid;
    for (std::size_t i = 0; i < stored.size(); ++i) {
      if (stored[i].seq != static_cast<std::int64_t>(i + 1)) {
        ++a.gaps;
        note(conv + ": stream entry " + std::to_string(i + 1) + " has seq " + std::to_string(stored[i].seq));
      }
      if (!stored[i].cmid.empty()) by_cmid[stored[i].uid + "/" + stored[i].cmid].push_back(stored[i].seq);
    }
    std::map<std::string, std::vector<std::int64_t>> cmid_only;
    for (auto const& [k, seqs] : by_cmid) {
      if (seqs.size() > 1) {
        a.duplicates += static_cast<std::int64_t>(seqs.size() - 1);
        note(conv + ": " + k + " stored " + std::to_string(seqs.size()) + " times");
      }
      auto& v = cmid_only[k.substr(k.find('/') + 1)];
      v.insert(v.end(), seqs.begin(), seqs.end());
    }
    for (auto const& [cmid, ack] : acks) {
      ++a.acked;
      auto it = cmid_only.find(cmid);
      if (it == cmid_only.end() || std::find(it->second.begin(), it->second.end(), ack.seq) == it->second.end()) {
        ++a.lost;
        note(conv + ": " + cmid + " acked with seq " + std::to_string(ack.seq) + " is not stored with it");
      }
    }
  }
  return a;
}

void print_figures(std::string const& fault, SwarmFigures const& f, Audit const& a, double recovery_ms,
                   std::string const& extra) {
  std::printf(
      "FAULT %s: sent=%lld acked=%lld lost=%lld duplicates=%lld gaps=%lld retries=%lld unavailable=%lld "
      "redelivered=%lld history_gets=%lld resume_errors=%lld disconnects=%lld reconnects=%lld recovery_ms=%.0f "
      "latency_ms(p50/p99/max)=%.1f/%.1f/%.1f%s%s\n",
      fault.c_str(), static_cast<long long>(f.sent), static_cast<long long>(a.acked), static_cast<long long>(a.lost),
      static_cast<long long>(a.duplicates), static_cast<long long>(a.gaps),
      static_cast<long long>(f.attempts - f.sent), static_cast<long long>(f.unavailable),
      static_cast<long long>(f.redelivered), static_cast<long long>(f.history_gets),
      static_cast<long long>(f.resume_errors), static_cast<long long>(f.disconnects),
      static_cast<long long>(f.reconnects), recovery_ms, f.latency_p50_ms, f.latency_p99_ms, f.latency_max_ms,
      extra.empty() ? "" : " ", extra.c_str());
  std::fflush(stdout);
}

long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

int exceed_pid(std::uint16_t port) {
  std::string want = "EXCEED_SERVER_LISTEN=127.0.0.1:" + std::to_string(port);
  DIR* d = opendir("/proc");
  if (!d) return -1;
  int found = -1;
  while (auto* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream env("/proc/" + name + "/environ", std::ios::binary);
    std::stringstream ss;
    ss << env.rdbuf();
    auto s = ss.str();
    std::size_t pos = 0;
    bool match = false;
    while (pos < s.size()) {
      auto end = s.find('\0', pos);
      if (end == std::string::npos) end = s.size();
      if (s.compare(pos, end - pos, want) == 0) match = true;
      pos = end + 1;
    }
    if (!match) continue;
    std::ifstream cmd("/proc/" + name + "/cmdline", std::ios::binary);
    std::string argv0;
    std::getline(cmd, argv0, '\0');
    if (argv0.size() >= 6 && argv0.compare(argv0.size() - 6, 6, "exceed") == 0) {
      found = std::stoi(name);
      break;
    }
  }
  closedir(d);
  return found;
}

}  // namespace exceed::fault
