// E-mail, sans-io: the messages written (threading, encodings, no header
// injection), and what is read of a customer's reply.
#include "core/mail.hpp"

#include <catch2/catch.hpp>

using namespace exceed::core;
namespace mail = exceed::core::mail;

TEST_CASE("a reply is written threaded, in UTF-8, one header per line") {
  mail::Outgoing m;
  m.from = "Support <support@shop.example>";
  m.to = "casey@example.com";
  m.to_name = "Casey Müller";
  m.reply_to = "reply+t_1.abcd@shop.example";
  m.subject = "Re: Rücksendung [t_1]";
  m.message_id = "<c2.t_1@shop.example>";
  m.in_reply_to = "<c1.t_1@shop.example>";
  m.references = {"<c0.t_1@shop.example>", "<c1.t_1@shop.example>"};
  m.body = "Hello Casey,\nthe refund = done.  \n";
  auto text = mail::render(m, 1'800'000'000'000);
  CHECK(text.find("From: Support <support@shop.example>\r\n") != std::string::npos);
  CHECK(text.find("To: =?UTF-8?B?Q2FzZXkgTcO8bGxlcg==?= <casey@example.com>\r\n") != std::string::npos);
  CHECK(text.find("Reply-To: reply+t_1.abcd@shop.example\r\n") != std::string::npos);
  CHECK(text.find("Subject: =?UTF-8?B?") != std::string::npos);
  CHECK(text.find("Date: Fri, 15 Jan 2027 08:00:00 +0000\r\n") != std::string::npos);
  CHECK(text.find("Message-ID: <c2.t_1@shop.example>\r\n") != std::string::npos);
  CHECK(text.find("In-Reply-To: <c1.t_1@shop.example>\r\n") != std::string::npos);
  CHECK(text.find("References: <c0.t_1@shop.example> <c1.t_1@shop.example>\r\n") != std::string::npos);
  CHECK(text.find("\r\n\r\nHello Casey,\r\nthe refund =3D done. =20\r\n") != std::string::npos);
  SECTION("a plain name is quoted: its commas name no other address") {
    m.to_name = "Evil, \"x\" <all@example.com>";
    auto t = mail::render(m, 0);
    CHECK(t.find("To: \"Evil, \\\"x\\\" <all@example.com>\" <casey@example.com>\r\n") != std::string::npos);
  }
  SECTION("a line break in a header value cannot add a header") {
    m.subject = "Hi\r\nBcc: everyone@example.com";
    auto t = mail::render(m, 0);
    CHECK(t.find("\r\nBcc:") == std::string::npos);
  }
}

TEST_CASE("addresses are read from what mail programs write") {
  CHECK(mail::address_of("Casey <Casey@Example.com>") == std::optional<std::string>("casey@example.com"));
  CHECK(mail::address_of("casey@example.com") == std::optional<std::string>("casey@example.com"));
  CHECK(mail::address_of("\"Casey, C.\" <c@example.com>") == std::optional<std::string>("c@example.com"));
  CHECK_FALSE(mail::address_of("Casey"));
  CHECK_FALSE(mail::address_of("<>"));
  CHECK_FALSE(mail::address_of("casey@example.com\r\nRCPT TO:<all@example.com>"));  // SMTP command injection
  CHECK_FALSE(mail::address_of("casey@exa\x01mple.com"));
  CHECK(mail::addresses_of("\"Support, Shop\" <reply+t_1.ab@shop.example>, other@x.example") ==
        std::vector<std::string>{"reply+t_1.ab@shop.example", "other@x.example"});
}

TEST_CASE("a raw reply is read: headers unfolded, the plain text part decoded") {
  std::string raw =
      "From: Casey <casey@example.com>\r\n"
      "To: reply+t_1.ab@shop.example\r\n"
      "Subject: Re: Refund\r\n"
      "In-Reply-To: <c2.t_1@shop.example>\r\n"
      "References: <c1.t_1@shop.example>\r\n <c2.t_1@shop.example>\r\n"
      "Content-Type: multipart/alternative; boundary=\"b1\"\r\n"
      "\r\n"
      "--b1\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n"
      "\r\n"
      "Thanks, it works now! Gr=C3=BC=C3=9Fe\r\n"
      "--b1\r\n"
      "Content-Type: text/html\r\n"
      "\r\n"
      "<p>Thanks</p>\r\n"
      "--b1--\r\n";
  auto m = mail::parse(raw);
  REQUIRE(m);
  CHECK(m->header("from") == "Casey <casey@example.com>");
  CHECK(m->header("references") == "<c1.t_1@shop.example> <c2.t_1@shop.example>");
  CHECK(m->body == "Thanks, it works now! Grüße");  // the line break before a boundary is the boundary's
  CHECK(mail::thread_ids(*m) == std::vector<std::string>{"<c2.t_1@shop.example>", "<c1.t_1@shop.example>"});
  SECTION("base64 bodies too") {
    auto b = mail::parse("From: a@b.c\nContent-Transfer-Encoding: base64\n\nSGVsbG8gdGhlcmU=\n");
    CHECK(b->body == "Hello there");
  }
  CHECK_FALSE(mail::parse("no headers at all"));
}

TEST_CASE("only what the customer wrote is kept: no quoted mail, no signature") {
  CHECK(mail::trim_reply("Thanks, it works now!\n\nOn Mon, 1 Dec 2026 at 10:00, Ann <ann@shop.example> wrote:\n> Try "
                         "again\n> please\n") == "Thanks, it works now!");
  CHECK(mail::trim_reply("Yes please.\n-- \nCasey Customer\nACME Ltd.\n") == "Yes please.");
  CHECK(mail::trim_reply("Ja.\n\nAm 01.12.2026 um 10:00 schrieb Ann:\n> Hallo\n") == "Ja.");
  CHECK(mail::trim_reply("Fine.\n\n-----Original Message-----\nFrom: Ann\n") == "Fine.");
  CHECK(mail::trim_reply("> quoted first\nMy answer below.\n") == "My answer below.");
  CHECK(mail::trim_reply("\n\n") == "");
}

TEST_CASE("reply addresses carry a tag, read back without case") {
  CHECK(mail::plus_address("reply@shop.example", "t_1.ab") == "reply+t_1.ab@shop.example");
  CHECK(mail::plus_tag("reply@shop.example", "Reply+T_1.AB@Shop.Example") == std::optional<std::string>("t_1.ab"));
  CHECK_FALSE(mail::plus_tag("reply@shop.example", "reply@shop.example"));
  CHECK_FALSE(mail::plus_tag("reply@shop.example", "reply+x@evil.example"));
  CHECK_FALSE(mail::plus_tag("reply@shop.example", "other+x@shop.example"));
  CHECK(mail::domain_of("Support <support@Shop.Example>") == "shop.example");
  CHECK(mail::domain_of("nobody") == "");
}

TEST_CASE("bodies are read as UTF-8: Latin-1 converted, unknown charsets and broken bytes not read") {
  auto latin = mail::parse("From: a@b.c\nContent-Type: text/plain; charset=iso-8859-1\n\nGr\xFC\xDF" "e\n");
  REQUIRE(latin);
  CHECK(latin->readable);
  CHECK(latin->body == "Grüße\n");
  auto other = mail::parse("From: a@b.c\nContent-Type: text/plain; charset=koi8-r\n\n\xF0\xD2\xC9\n");
  REQUIRE(other);
  CHECK_FALSE(other->readable);
  CHECK(other->body.empty());
  auto broken = mail::parse("From: a@b.c\nContent-Type: text/plain; charset=utf-8\n\nbad \xC3\x28 bytes\n");
  CHECK_FALSE(broken->readable);
  CHECK(mail::valid_utf8("Grüße €  \xF0\x9F\x98\x80"));
  CHECK_FALSE(mail::valid_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(mail::valid_utf8("\xED\xA0\x80"));      // a surrogate
  CHECK_FALSE(mail::valid_utf8("\xE2\x82"));          // cut short
}
