#include "app/auth.hpp"

#include "store/accounts.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <stdexcept>

namespace exceed::app {
namespace json = boost::json;
namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// {"alg":"HS256","typ":"JWT"}: the only header this server issues or accepts.
constexpr std::string_view fixed_header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

std::string hmac_raw(std::string_view key, std::string_view message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<unsigned char const*>(message.data()), message.size(), out.data(), &len);
  return std::string(reinterpret_cast<char const*>(out.data()), len);
}

std::string random_bytes(std::size_t n) {
  std::string s(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return s;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string pbkdf2(std::string_view password, std::string_view salt, int iterations) {
  std::string out(32, '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<unsigned char const*>(salt.data()), static_cast<int>(salt.size()),
                    iterations, EVP_sha256(), static_cast<int>(out.size()),
                    reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
  } else if (i + 2 == bytes.size()) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    auto pos = alphabet.find(c);
    if (pos == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  return to_hex(hmac_raw(key, message));
}

std::string random_id(std::string_view prefix) { return std::string(prefix) + to_hex(random_bytes(10)); }

std::string TokenSigner::sign(Claims const& c) const {
  json::object payload;
  payload["sub"] = c.subject;
  payload["role"] = core::to_string(c.role);
  payload["name"] = c.name;
  payload["exp"] = c.expires_at / 1000;
  if (c.version) payload["ver"] = c.version;
  std::string signing_input = std::string(fixed_header) + "." + base64url_encode(json::serialize(payload));
  return signing_input + "." + base64url_encode(hmac_raw(secret_, signing_input));
}

std::optional<Claims> TokenSigner::verify(std::string_view token, core::Millis now, TokenProblem* why) const {
  auto fail = [why](TokenProblem p) -> std::optional<Claims> {
    if (why) *why = p;
    return std::nullopt;
  };
  if (token.size() > 4096) return fail(TokenProblem::malformed);
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return fail(TokenProblem::malformed);
  if (token.substr(0, dot1) != fixed_header) return fail(TokenProblem::malformed);
  auto signing_input = token.substr(0, dot2);
  auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!signature || !constant_time_equal(*signature, hmac_raw(secret_, signing_input)))
    return fail(TokenProblem::bad_signature);
  auto payload_text = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload_text) return fail(TokenProblem::malformed);
  std::error_code ec;
  auto payload = json::parse(*payload_text, ec);
  if (ec || !payload.is_object()) return fail(TokenProblem::malformed);
  auto const& o = payload.get_object();
  auto const* sub = o.if_contains("sub");
  auto const* role = o.if_contains("role");
  auto const* name = o.if_contains("name");
  auto const* exp = o.if_contains("exp");
  if (!sub || !sub->is_string() || !role || !role->is_string() || !exp || !exp->is_int64())
    return fail(TokenProblem::malformed);
  auto parsed_role = core::parse_role(role->get_string());
  if (!parsed_role) return fail(TokenProblem::malformed);
  Claims c;
  c.subject = std::string(sub->get_string());
  c.role = *parsed_role;
  if (name && name->is_string()) c.name = std::string(name->get_string());
  c.expires_at = exp->get_int64() * 1000;
  if (auto const* ver = o.if_contains("ver")) {
    if (!ver->is_int64()) return fail(TokenProblem::malformed);
    c.version = ver->get_int64();
  }
  if (now >= c.expires_at) return fail(TokenProblem::expired);
  return c;
}

std::optional<std::string_view> staff_token_refusal(Claims const& c, std::string_view stored_role,
                                                    std::string_view stored_version, std::string_view disabled) {
  if (stored_role.empty() || stored_role != core::to_string(c.role)) return "this account no longer exists";
  if (disabled == "1") return "this account is disabled";
  std::int64_t version = 0;
  for (char ch : stored_version) {
    if (ch < '0' || ch > '9' || version > (1LL << 50)) return "this token was revoked";
    version = version * 10 + (ch - '0');
  }
  if (version != c.version) return "this token was revoked";
  return std::nullopt;
}

std::optional<std::string_view> staff_token_refusal(Claims const& c, store::Account const* account) {
  if (!account) return staff_token_refusal(c, "", "", "");
  return staff_token_refusal(c, account->role, account->token_version, account->disabled ? "1" : "");
}

// "<payload b64>.<signature b64>", signed over "csat." + payload so a CSAT
// link can never pass as a session token or the other way round.
std::string sign_csat_link(std::string_view secret, CsatLink const& link) {
  json::object payload;
  payload["c"] = link.conversation_id;
  payload["v"] = link.visitor_id;
  payload["exp"] = link.expires_at / 1000;
  auto body = base64url_encode(json::serialize(payload));
  return body + "." + base64url_encode(hmac_raw(secret, "csat." + body));
}

std::optional<CsatLink> verify_csat_link(std::string_view secret, std::string_view token, core::Millis now) {
  auto dot = token.find('.');
  if (dot == std::string_view::npos || token.size() > 1024) return std::nullopt;
  auto body = token.substr(0, dot);
  auto signature = base64url_decode(token.substr(dot + 1));
  if (!signature || !constant_time_equal(*signature, hmac_raw(secret, "csat." + std::string(body)))) return std::nullopt;
  auto text = base64url_decode(body);
  if (!text) return std::nullopt;
  std::error_code ec;
  auto v = json::parse(*text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  auto const& o = v.get_object();
  auto const* c = o.if_contains("c");
  auto const* vis = o.if_contains("v");
  auto const* exp = o.if_contains("exp");
  if (!c || !c->is_string() || !vis || !vis->is_string() || !exp || !exp->is_int64()) return std::nullopt;
  CsatLink link{std::string(c->get_string()), std::string(vis->get_string()), exp->get_int64() * 1000};
  if (now >= link.expires_at) return std::nullopt;
  return link;
}

std::string hash_password(std::string_view password, int iterations) {
  auto salt = random_bytes(16);
  return "pbkdf2_sha256$" + std::to_string(iterations) + "$" + base64url_encode(salt) + "$" +
         base64url_encode(pbkdf2(password, salt, iterations));
}

std::string unmatchable_password_hash(int iterations) {
  // A fixed salt and a 32-byte "hash" of zeros: finding a password whose
  // PBKDF2 output is all zeros is as hard as breaking SHA-256.
  return "pbkdf2_sha256$" + std::to_string(iterations) + "$" + base64url_encode(std::string(16, 'x')) + "$" +
         base64url_encode(std::string(32, '\0'));
}

bool verify_password(std::string_view password, std::string_view stored) {
  // pbkdf2_sha256$<iterations>$<salt>$<hash>
  std::array<std::string_view, 4> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    auto end = i == 3 ? stored.size() : stored.find('$', start);
    if (end == std::string_view::npos) return false;
    parts[i] = stored.substr(start, end - start);
    start = end + 1;
  }
  if (parts[0] != "pbkdf2_sha256") return false;
  int iterations = 0;
  for (char ch : parts[1]) {
    if (ch < '0' || ch > '9' || iterations > 100'000'000) return false;
    iterations = iterations * 10 + (ch - '0');
  }
  auto salt = base64url_decode(parts[2]);
  auto hash = base64url_decode(parts[3]);
  if (iterations <= 0 || !salt || !hash) return false;
  return constant_time_equal(pbkdf2(password, *salt, iterations), *hash);
}

}  // namespace exceed::app
