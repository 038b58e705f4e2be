#include "app/auth.hpp"

#include <catch2/catch.hpp>

using namespace exceed;
using namespace exceed::app;

namespace {
constexpr core::Millis now = 1'700'000'000'000;
Claims agent_claims() { return Claims{"a_1", core::Role::agent, "Ann Agent", now + 3'600'000}; }
}  // namespace

TEST_CASE("a signed token verifies and carries its claims") {
  TokenSigner signer("a-secret-of-at-least-16");
  auto c = signer.verify(signer.sign(agent_claims()), now);
  REQUIRE(c);
  REQUIRE(c->subject == "a_1");
  REQUIRE(c->role == core::Role::agent);
  REQUIRE(c->name == "Ann Agent");
  REQUIRE(c->expires_at == now + 3'600'000);
}

TEST_CASE("expired, forged and altered tokens are refused") {
  TokenSigner signer("a-secret-of-at-least-16");
  auto token = signer.sign(agent_claims());
  TokenProblem why{};
  SECTION("expired") {
    REQUIRE_FALSE(signer.verify(token, now + 3'600'000, &why));
    REQUIRE(why == TokenProblem::expired);
  }
  SECTION("signed under another key") {
    REQUIRE_FALSE(TokenSigner("another-secret-entirely").verify(token, now, &why));
    REQUIRE(why == TokenProblem::bad_signature);
  }
  SECTION("payload changed to another role, signature kept") {
    auto forged = signer.sign(Claims{"a_1", core::Role::supervisor, "Ann Agent", now + 3'600'000});
    auto mixed = token.substr(0, token.find('.') + 1) + forged.substr(forged.find('.') + 1, forged.rfind('.') - forged.find('.') - 1) +
                 token.substr(token.rfind('.'));
    REQUIRE_FALSE(signer.verify(mixed, now, &why));
    REQUIRE(why == TokenProblem::bad_signature);
  }
  SECTION("alg switched to none") {
    auto none = base64url_encode(R"({"alg":"none","typ":"JWT"})") + token.substr(token.find('.'));
    REQUIRE_FALSE(signer.verify(none, now, &why));
    REQUIRE(why == TokenProblem::malformed);
  }
  SECTION("garbage") {
    REQUIRE_FALSE(signer.verify("", now, &why));
    REQUIRE_FALSE(signer.verify("a.b", now, &why));
    REQUIRE_FALSE(signer.verify("a.b.c.d", now, &why));
    REQUIRE(why == TokenProblem::malformed);
  }
}

TEST_CASE("passwords are stored salted and slow, and verify only with the right password") {
  auto stored = hash_password("correct horse", 1000);
  REQUIRE(stored.rfind("pbkdf2_sha256$1000$", 0) == 0);
  REQUIRE(stored != hash_password("correct horse", 1000));  // a new salt each time
  REQUIRE(verify_password("correct horse", stored));
  REQUIRE_FALSE(verify_password("correct horsE", stored));
  REQUIRE_FALSE(verify_password("correct horse", "pbkdf2_sha256$x$y$z"));
  REQUIRE_FALSE(verify_password("correct horse", ""));
}

TEST_CASE("user_hash is the hex HMAC-SHA256 of the user id") {
  // RFC 4231 test case 2.
  REQUIRE(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("base64url round-trips every length") {
  std::string s;
  for (int i = 0; i < 40; ++i) {
    REQUIRE(base64url_decode(base64url_encode(s)) == s);
    s += static_cast<char>(i * 37);
  }
  REQUIRE_FALSE(base64url_decode("a+b/"));
}

TEST_CASE("random ids are prefixed and distinct") {
  auto a = random_id("c_");
  REQUIRE(a.size() == 22);
  REQUIRE(a.rfind("c_", 0) == 0);
  REQUIRE(a != random_id("c_"));
}

TEST_CASE("CSAT links are signed, expire, and never pass as session tokens") {
  CsatLink link{"c_1", "v_1", now + 60'000};
  auto token = sign_csat_link("a-secret-of-at-least-16", link);
  auto back = verify_csat_link("a-secret-of-at-least-16", token, now);
  REQUIRE(back);
  REQUIRE(back->conversation_id == "c_1");
  REQUIRE(back->visitor_id == "v_1");
  REQUIRE_FALSE(verify_csat_link("a-secret-of-at-least-16", token, now + 60'000));  // expired
  REQUIRE_FALSE(verify_csat_link("another-secret-entirely", token, now));
  REQUIRE_FALSE(TokenSigner("a-secret-of-at-least-16").verify(token, now));
  auto session = TokenSigner("a-secret-of-at-least-16").sign(agent_claims());
  REQUIRE_FALSE(verify_csat_link("a-secret-of-at-least-16", session.substr(session.find('.') + 1), now));
}


TEST_CASE("a staff token carries its user's token version, and an older version is revoked") {
  TokenSigner signer("a-secret-of-at-least-16");
  auto claims = agent_claims();
  claims.version = 3;
  auto back = signer.verify(signer.sign(claims), now);
  REQUIRE(back);
  REQUIRE(back->version == 3);
  REQUIRE_FALSE(staff_token_refusal(*back, "agent", "3", ""));
  SECTION("the user's tokens were revoked since") {
    REQUIRE(staff_token_refusal(*back, "agent", "4", "").value() == "this token was revoked");
  }
  SECTION("a user who never had a version, and a token without one") {
    REQUIRE_FALSE(staff_token_refusal(*signer.verify(signer.sign(agent_claims()), now), "agent", "", ""));
  }
  SECTION("the account is disabled, deleted, or has another role now") {
    REQUIRE(staff_token_refusal(*back, "agent", "3", "1").value() == "this account is disabled");
    REQUIRE(staff_token_refusal(*back, "", "", "").value() == "this account no longer exists");
    REQUIRE(staff_token_refusal(*back, "supervisor", "3", "").value() == "this account no longer exists");
  }
  SECTION("a stored version that is not a number refuses") {
    REQUIRE(staff_token_refusal(*back, "agent", "3x", ""));
  }
}

TEST_CASE("ids are random: two made at once share nothing but their prefix") {
  auto a = random_id("c_");
  auto b = random_id("c_");
  REQUIRE(a.size() == 22);
  REQUIRE(a.substr(0, 2) == "c_");
  REQUIRE(a.substr(2, 8) != b.substr(2, 8));  // no common time or counter head
}
