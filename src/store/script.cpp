#include "store/redis.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace exceed::store {
namespace {

std::string sha1_hex(std::string const& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), md, &len, EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("EVP_Digest(sha1) failed");
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(digits[md[i] >> 4]);
    hex.push_back(digits[md[i] & 0xf]);
  }
  return hex;
}

Args script_command(std::string const& verb, std::string const& body, std::vector<std::string> const& keys,
                    std::vector<std::string> const& args) {
  Args cmd;
  cmd.reserve(3 + keys.size() + args.size());
  cmd.push_back(verb);
  cmd.push_back(body);
  cmd.push_back(std::to_string(keys.size()));
  cmd.insert(cmd.end(), keys.begin(), keys.end());
  cmd.insert(cmd.end(), args.begin(), args.end());
  return cmd;
}

}  // namespace

Script::Script(std::string source, std::string name)
    : source_(std::move(source)), sha1_(sha1_hex(source_)), name_(std::move(name)) {}

namespace {

// Redis's answers that say FCALL cannot run the function: a Redis without
// functions (before 7.0), or one that lost the library (FUNCTION FLUSH).
bool no_function(Reply const& r) {
  return r.is_error() && (r.str.starts_with("ERR Function not found") || r.str.starts_with("ERR unknown command"));
}

}  // namespace

// FCALL while the connection has functions; then EVALSHA first: the script
// body crosses the wire only when Redis lost it (restart, SCRIPT FLUSH);
// EVAL also caches it again for the next EVALSHA. A call that finds no
// function turns the connection's functions off, so the calls after it go
// by EVALSHA until the library is loaded again (the next link-up).
// `conn`, `keys`, `args` and this Script must outlive the returned awaitable.
boost::asio::awaitable<std::pair<std::error_code, Reply>>
Script::run(Connection& conn, std::vector<std::string> const& keys, std::vector<std::string> const& args) const {
  if (!function_.empty() && conn.functions()) {
    auto result = co_await conn.exec(script_command("FCALL", function_, keys, args));
    if (result.first || !no_function(result.second)) co_return result;
    conn.functions(false);
  }
  Args cmd = script_command("EVALSHA", sha1_, keys, args);
  auto result = co_await conn.exec(cmd);
  if (!result.first && result.second.is_error() && result.second.str.starts_with("NOSCRIPT")) {
    cmd[0] = "EVAL";
    cmd[1] = source_;
    result = co_await conn.exec(std::move(cmd));
  }
  co_return result;
}

}  // namespace exceed::store
