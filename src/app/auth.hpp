// Credentials: signed tokens, password hashes, identity verification and
// random ids. Tokens are compact JWS (HS256 only): the header is fixed and
// compared byte for byte, so a token with another `alg` is refused before
// its signature is looked at.
#pragma once

#include "core/domain.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace exceed::store {
struct Account;
}

namespace exceed::app {

struct Claims {
  std::string subject;  // user or visitor id
  core::Role role = core::Role::customer;
  std::string name;
  core::Millis expires_at = 0;  // ms since epoch
  // Staff tokens: the user's token version when it was signed ("ver"). A
  // token whose version is not the user's current one has been revoked.
  std::int64_t version = 0;
};

enum class TokenProblem { malformed, bad_signature, expired };

class TokenSigner {
 public:
  explicit TokenSigner(std::string secret) : secret_(std::move(secret)) {}
  std::string sign(Claims const& c) const;
  // The claims of a token valid at `now`, or why it is not.
  std::optional<Claims> verify(std::string_view token, core::Millis now, TokenProblem* why = nullptr) const;

 private:
  std::string secret_;
};

// Why a staff token no longer admits its user, from the user's record as
// stored: the account is gone (no role), has another role now, is disabled,
// or its tokens were revoked (the stored token version moved on). nullopt:
// the token stands.
std::optional<std::string_view> staff_token_refusal(Claims const& c, std::string_view stored_role,
                                                    std::string_view stored_version, std::string_view disabled);
// The same against the account as stored (nullptr: there is none).
std::optional<std::string_view> staff_token_refusal(Claims const& c, store::Account const* account);

// A signed link for answering the CSAT question later (in an e-mail): it
// names the conversation and its customer and expires with the CSAT window.
struct CsatLink {
  std::string conversation_id;
  std::string visitor_id;
  core::Millis expires_at = 0;
};
std::string sign_csat_link(std::string_view secret, CsatLink const& link);
std::optional<CsatLink> verify_csat_link(std::string_view secret, std::string_view token, core::Millis now);

// PBKDF2-HMAC-SHA256 with a 16-byte random salt, stored as
// "pbkdf2_sha256$<iterations>$<salt b64>$<hash b64>". Slow on purpose:
// call it off the event loop.
std::string hash_password(std::string_view password, int iterations);
// A stored-hash stand-in that no password matches and that costs exactly
// `iterations` rounds to check: a login for an unknown user is checked
// against it, so the answer time does not tell which usernames exist.
std::string unmatchable_password_hash(int iterations);
bool verify_password(std::string_view password, std::string_view stored);

// Hex HMAC-SHA256(message, key): the widget's `user_hash` for a `user_id`.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);
// Compares in time independent of where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

// A random id: prefix + 20 hex characters (80 bits) from the OS's CSPRNG.
std::string random_id(std::string_view prefix);

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace exceed::app
