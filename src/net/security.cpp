#include "net/security.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace exceed::net {
namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

bool has(std::vector<Header> const& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](Header const& h) { return same_name(h.name, name); });
}

void add_missing(std::vector<Header>& headers, std::string_view name, std::string_view value) {
  if (!has(headers, name)) headers.push_back(Header{std::string(name), std::string(value)});
}

// Case-insensitive find of an ASCII needle.
std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t from) {
  if (needle.empty() || hay.size() < needle.size()) return std::string_view::npos;
  for (std::size_t i = from; i + needle.size() <= hay.size(); ++i)
    if (same_name(hay.substr(i, needle.size()), needle)) return i;
  return std::string_view::npos;
}

std::string sha256_base64(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<unsigned char const*>(data.data()), data.size(), digest);
  unsigned char out[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(out, digest, SHA256_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char const*>(out), static_cast<std::size_t>(n));
}

// True when the attributes of a <script ...> tag include src=.
bool has_src(std::string_view attributes) {
  for (std::size_t at = ifind(attributes, "src", 0); at != std::string_view::npos;
       at = ifind(attributes, "src", at + 3)) {
    bool starts = at == 0 || std::isspace(static_cast<unsigned char>(attributes[at - 1]));
    std::size_t k = at + 3;
    while (k < attributes.size() && std::isspace(static_cast<unsigned char>(attributes[k]))) ++k;
    if (starts && k < attributes.size() && attributes[k] == '=') return true;
  }
  return false;
}

}  // namespace

void add_security_headers(std::vector<Header>& headers, bool tls) {
  add_missing(headers, "X-Content-Type-Options", "nosniff");
  add_missing(headers, "Referrer-Policy", "no-referrer");
  if (tls) add_missing(headers, "Strict-Transport-Security", "max-age=31536000");
}

std::string page_security_policy(std::string_view html) {
  std::string scripts = "'self'";
  std::size_t pos = 0;
  for (;;) {
    auto open = ifind(html, "<script", pos);
    if (open == std::string_view::npos) break;
    auto const after_name = open + 7;
    // "<scripts>" or "<script-x>" is another tag.
    if (after_name < html.size() && html[after_name] != '>' &&
        !std::isspace(static_cast<unsigned char>(html[after_name]))) {
      pos = after_name;
      continue;
    }
    auto tag_end = html.find('>', after_name);
    if (tag_end == std::string_view::npos) break;
    auto close = ifind(html, "</script", tag_end + 1);
    if (close == std::string_view::npos) break;
    if (!has_src(html.substr(after_name, tag_end - after_name)))
      scripts += " 'sha256-" + sha256_base64(html.substr(tag_end + 1, close - tag_end - 1)) + "'";
    pos = close + 8;
  }
  return "default-src 'self'; script-src " + scripts +
         "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
         "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";
}

std::string page_security_policy_of_file(std::string const& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  if (in) ss << in.rdbuf();
  return page_security_policy(ss.str());
}

}  // namespace exceed::net
