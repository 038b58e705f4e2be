#include "store/redis.hpp"

#include <charconv>

namespace exceed::store {
namespace {

class Category final : public std::error_category {
 public:
  char const* name() const noexcept override { return "exceed.store"; }
  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::disconnected: return "not connected to Redis";
      case error::timeout: return "Redis command timed out";
      case error::server: return "Redis error reply";
      case error::protocol: return "unexpected Redis reply";
    }
    return "unknown store error";
  }
};

std::optional<Endpoint> reject(std::string* why, char const* reason) {
  if (why != nullptr) *why = reason;
  return std::nullopt;
}

template <class Int>
bool parse_int(std::string_view s, Int& out, Int lo, Int hi) {
  if (s.empty()) return false;
  Int v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v < lo || v > hi) return false;
  out = v;
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Userinfo may carry %XX escapes (a password with '@', ':' or '/').
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    int hi = i + 1 < in.size() ? hex_digit(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? hex_digit(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

constexpr int max_db = 1 << 20;

}  // namespace

std::error_category const& category() noexcept {
  static Category const c;
  return c;
}

std::error_code make_error_code(error e) noexcept { return {static_cast<int>(e), category()}; }

std::optional<Endpoint> Endpoint::parse(std::string_view url, std::string* why) {
  Endpoint ep;
  constexpr std::string_view redis_scheme = "redis://";
  constexpr std::string_view unix_scheme = "unix://";

  if (url.starts_with(unix_scheme)) {
    std::string_view rest = url.substr(unix_scheme.size());
    std::string_view query;
    if (auto q = rest.find('?'); q != std::string_view::npos) {
      query = rest.substr(q + 1);
      rest = rest.substr(0, q);
    }
    if (rest.size() < 2 || rest.front() != '/') return reject(why, "unix URL needs an absolute socket path");
    ep.unix_path = std::string(rest);
    if (!query.empty()) {
      if (!query.starts_with("db=") || !parse_int(query.substr(3), ep.db, 0, max_db))
        return reject(why, "unix URL query must be db=N");
    }
    return ep;
  }
  if (!url.starts_with(redis_scheme)) return reject(why, "scheme must be redis:// or unix://");

  std::string_view rest = url.substr(redis_scheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) return reject(why, "query or fragment not supported");
  std::string_view authority = rest.substr(0, rest.find('/'));
  std::string_view path = rest.substr(authority.size());

  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) return reject(why, "credentials must be [user]:password@");
    if (!percent_decode(userinfo.substr(0, colon), ep.username) ||
        !percent_decode(userinfo.substr(colon + 1), ep.password))
      return reject(why, "bad %-escape in credentials");
    if (ep.password.empty()) return reject(why, "empty password");
  }

  std::string_view port;
  if (authority.starts_with('[')) {  // [v6]:port
    auto close = authority.find(']');
    if (close == std::string_view::npos) return reject(why, "unterminated [IPv6] host");
    ep.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return reject(why, "junk after [IPv6] host");
      port = after.substr(1);
      if (port.empty()) return reject(why, "empty port");
    }
  } else {
    auto colon = authority.find(':');
    ep.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return reject(why, "empty port");
    }
  }
  if (ep.host.empty()) return reject(why, "missing host");
  if (!port.empty() && !parse_int<std::uint16_t>(port, ep.port, 1, 65535))
    return reject(why, "port must be 1-65535");

  if (path.size() > 1 && !parse_int(path.substr(1), ep.db, 0, max_db))
    return reject(why, "path must be /<db number>");
  return ep;
}

bool Endpoint::use_sentinels(std::vector<std::string> const& host_ports, std::string name, std::string* why) {
  auto fail = [&](std::string reason) {
    if (why != nullptr) *why = std::move(reason);
    return false;
  };
  if (host_ports.empty()) return fail("no sentinel given");
  if (name.empty()) return fail("the master name must not be empty");
  if (!unix_path.empty()) return fail("sentinels name TCP primaries: use a redis:// URL");
  std::vector<Sentinel> out;
  for (auto const& item : host_ports) {
    std::string_view hp = item;
    Sentinel s;
    std::string_view port;
    if (hp.starts_with('[')) {  // [v6]:port
      auto close = hp.find(']');
      if (close == std::string_view::npos) return fail("'" + item + "': unterminated [IPv6] host");
      s.host = std::string(hp.substr(1, close - 1));
      auto after = hp.substr(close + 1);
      if (!after.empty()) {
        if (after.front() != ':') return fail("'" + item + "': junk after [IPv6] host");
        port = after.substr(1);
        if (port.empty()) return fail("'" + item + "': empty port");
      }
    } else {
      auto colon = hp.rfind(':');
      s.host = std::string(hp.substr(0, colon));
      if (colon != std::string_view::npos) {
        port = hp.substr(colon + 1);
        if (port.empty()) return fail("'" + item + "': empty port");
      }
    }
    if (s.host.empty()) return fail("'" + item + "': missing host");
    if (!port.empty() && !parse_int<std::uint16_t>(port, s.port, 1, 65535))
      return fail("'" + item + "': port must be 1-65535");
    out.push_back(std::move(s));
  }
  sentinels = std::move(out);
  master_name = std::move(name);
  return true;
}

std::string Endpoint::describe() const {
  std::string where = unix_path.empty()
                          ? (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port)
                          : "unix:" + unix_path;
  where += "/" + std::to_string(db);
  return sentinels.empty() ? where : "sentinel:" + master_name + " (" + where + ")";
}

}  // namespace exceed::store
