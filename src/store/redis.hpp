// Redis client on Asio: hiredis's async API driven by the io_context through
// the project's own adapter (no thread per request, no extra event loop).
//
// Contract for the whole file:
// - Everything runs on the executor the objects were created with; none of
//   these classes is thread-safe, and none needs to be (one loop a process).
// - A command completes exactly once: with its reply, or with an error code
//   (store::error::disconnected when the link is down or drops before the
//   reply, store::error::timeout when no reply came within the timeout).
// - The connection reconnects by itself with exponential backoff
//   (100 ms doubling up to 5 s, jittered) until stop(); commands issued while
//   disconnected fail at once with store::error::disconnected, never queue.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace exceed::store {

enum class error {
  disconnected = 1,  // no link to Redis, or it dropped before the reply
  timeout,           // no reply within Options::command_timeout
  server,            // Redis answered with an error reply (text in Reply::str)
  protocol,          // the reply did not have the shape the caller expected
};
std::error_category const& category() noexcept;
std::error_code make_error_code(error e) noexcept;

// An owned copy of a redisReply (hiredis frees its own when the callback returns).
struct Reply {
  enum class Kind : std::uint8_t { nil, status, error, integer, string, array };
  Kind kind = Kind::nil;
  long long integer = 0;
  std::string str;             // status, error and string replies
  std::vector<Reply> elements; // array replies

  bool is_nil() const noexcept { return kind == Kind::nil; }
  bool is_error() const noexcept { return kind == Kind::error; }
  bool is_array() const noexcept { return kind == Kind::array; }
};

// redis://[[user]:password@]host[:port][/db]  (also unix:///path/to.sock[?db=N])
struct Endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string unix_path;  // non-empty: connect over this socket instead
  std::string username;   // optional; AUTH user pass (Redis 6 ACL) when set
  std::string password;   // optional; AUTH after every (re)connect
  int db = 0;             // SELECT after every (re)connect when non-zero

  // Redis Sentinel: when `sentinels` is non-empty, every (re)connect first
  // asks them, one after another, SENTINEL get-master-addr-by-name
  // master_name, connects there (host and port above are overwritten with
  // the answer) and checks with ROLE that it is a primary. The credentials
  // and db above are the primary's; sentinels are asked without AUTH.
  struct Sentinel {
    std::string host;
    std::uint16_t port = 26379;
  };
  std::vector<Sentinel> sentinels;
  std::string master_name;

  // Parses a URL as above; std::nullopt with a reason in *why when malformed.
  static std::optional<Endpoint> parse(std::string_view url, std::string* why = nullptr);
  // Sets sentinels from "host:port" items (port 26379 when omitted) and the
  // master name; false with a reason in *why when one is malformed.
  bool use_sentinels(std::vector<std::string> const& host_ports, std::string name, std::string* why = nullptr);
  std::string describe() const;  // "127.0.0.1:6379/0", never the password
};

struct Options {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{5000};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
};

using Args = std::vector<std::string>;

// One command connection. Commands issued in one turn of the loop go out in
// one write (hiredis buffers until the socket is writable), so a caller that
// starts several exec() before awaiting them pipelines for free.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  static std::shared_ptr<Connection> create(boost::asio::any_io_executor ex, Endpoint ep,
                                            Options opt = {});
  virtual ~Connection() = default;

  virtual void start() = 0;  // begin connecting; reconnects until stop()
  virtual void stop() = 0;   // fail pending commands with disconnected, close, stop reconnecting
  virtual bool connected() const noexcept = 0;

  // Called (on the executor) after each successful (re)connect, AUTH and
  // SELECT included, and after each loss of the link.
  virtual void on_up(std::function<void()> f) = 0;
  virtual void on_down(std::function<void()> f) = 0;

  // Sends one command. A Redis error reply is returned as a Reply with
  // kind error and an empty error_code: the transport worked.
  virtual boost::asio::awaitable<std::pair<std::error_code, Reply>> exec(Args args) = 0;

  // Callback form of exec, for hot paths that must not allocate a coroutine
  // frame per command. `done` runs on the executor, never inside hiredis.
  virtual void exec_cb(Args const& args, std::function<void(std::error_code, Reply)> done) = 0;

  // Number of commands sent and not yet answered (for metrics and tests).
  virtual std::size_t in_flight() const noexcept = 0;

  // Why the last connect, AUTH or SELECT failed (e.g. a WRONGPASS reply);
  // empty while none has. Never holds the password.
  virtual std::string last_error() const { return {}; }

  // Whether scripts are tried as Redis Functions (FCALL; see Script): on
  // until Redis answers that it has no FCALL or no such function, on again
  // when the library loads (store::Db::load_scripts).
  bool functions() const noexcept { return functions_.load(std::memory_order_relaxed); }
  void functions(bool on) noexcept { functions_.store(on, std::memory_order_relaxed); }

 private:
  std::atomic<bool> functions_{true};
};

// A Lua script. One with a function name (store::Scripts gives its scripts
// one) is run as that function of a Redis Functions library by FCALL while
// the connection's Redis has functions (Connection::functions); otherwise,
// or when Redis answers that it has no such function, by EVALSHA, loaded
// again by EVAL transparently when Redis answers NOSCRIPT (after a restart
// or SCRIPT FLUSH).
class Script {
 public:
  explicit Script(std::string source, std::string name = {});
  std::string const& source() const noexcept { return source_; }
  std::string const& sha1() const noexcept { return sha1_; }  // hex, computed locally
  std::string const& name() const noexcept { return name_; }  // short; its function's name is built from it
  std::string const& function() const noexcept { return function_; }  // empty: EVALSHA only
  void set_function(std::string function) { function_ = std::move(function); }

  boost::asio::awaitable<std::pair<std::error_code, Reply>>
  run(Connection& conn, std::vector<std::string> const& keys, std::vector<std::string> const& args) const;

 private:
  std::string source_;
  std::string sha1_;
  std::string name_;
  std::string function_;
};

// A pub/sub connection: SUBSCRIBE mode only (hiredis 0.14 allows no other
// command on it). Subscriptions are remembered and replayed after every
// reconnect; on_up fires after they are back, so the owner can catch up
// on anything published while the link was down.
class Subscriber : public std::enable_shared_from_this<Subscriber> {
 public:
  using Handler = std::function<void(std::string_view channel, std::string_view payload)>;
  static std::shared_ptr<Subscriber> create(boost::asio::any_io_executor ex, Endpoint ep,
                                            Handler on_message, Options opt = {});
  virtual ~Subscriber() = default;

  virtual void start() = 0;
  virtual void stop() = 0;
  virtual bool connected() const noexcept = 0;
  virtual void subscribe(std::string channel) = 0;
  virtual void unsubscribe(std::string const& channel) = 0;
  virtual void on_up(std::function<void()> f) = 0;
  virtual void on_down(std::function<void()> f) = 0;
  virtual std::string last_error() const { return {}; }  // as Connection::last_error
};

}  // namespace exceed::store

template <>
struct std::is_error_code_enum<exceed::store::error> : std::true_type {};
