// E-mail, sans-io: the messages Exceed writes (RFC 5322, UTF-8, threaded
// by Message-ID/In-Reply-To/References), and what it reads of a customer's
// reply: the headers that find its ticket, the sender, and the new text
// without the quoted mail and the signature under it.
#pragma once

#include "core/domain.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::core::mail {

struct Outgoing {
  std::string from;        // "Support <support@shop.example>"
  std::string to;          // "casey@example.com"
  std::string to_name;
  std::string reply_to;    // "reply+<token>@shop.example", or empty
  std::string subject;     // UTF-8
  std::string message_id;  // "<...@shop.example>"
  std::string in_reply_to; // the thread's last Message-ID, or empty
  std::vector<std::string> references;
  std::string body;        // UTF-8 plain text, any line endings
};

// The whole message, CRLF line endings, Date from `now`; non-ASCII header
// text in RFC 2047 words, the body quoted-printable.
std::string render(Outgoing const& m, Millis now);

// An address's mailbox part, lower-cased: "Casey <Casey@Example.com>" ->
// "casey@example.com"; nullopt when there is none.
std::optional<std::string> address_of(std::string_view header_value);
// Every address of a To/Cc header (comma separated, names and quotes allowed).
std::vector<std::string> addresses_of(std::string_view header_value);

struct Incoming {
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, values unfolded
  std::string body;  // the text/plain part, decoded to UTF-8, LF line endings
  bool readable = true;  // false: its charset is one not read here (the body is then empty)
  std::string header(std::string_view name) const;           // the first, or ""
  std::vector<std::string> all(std::string_view name) const;
};

// Reads a raw message (RFC 5322, as an MTA hands it over): headers, and the
// plain text body (single part, or the first text/plain part of a
// multipart one), quoted-printable or base64 decoded. nullopt when there
// is no header block.
std::optional<Incoming> parse(std::string_view raw);

// A sub-address: plus_address("reply@shop.example", "t_1.ab") ->
// "reply+t_1.ab@shop.example"; plus_tag gives the tag back from an address
// of that form (compared without case), or nullopt.
std::string plus_address(std::string_view base, std::string_view tag);
std::optional<std::string> plus_tag(std::string_view base, std::string_view address);

// The domain of an address ("Support <support@shop.example>" ->
// "shop.example"), or "" when there is none.
std::string domain_of(std::string_view header_value);

bool valid_utf8(std::string_view s);

// The Message-IDs a reply names (In-Reply-To, then References, newest
// first), angle brackets kept.
std::vector<std::string> thread_ids(Incoming const& m);

// What the customer wrote above the quoted mail: cut at the first quote
// header ("On ... wrote:", "Am ... schrieb", "-----Original Message-----",
// "From: "), at a signature ("-- "), and without "> " lines; trimmed.
std::string trim_reply(std::string_view body);

}  // namespace exceed::core::mail
