#include "app/s3_storage.hpp"

#include "core/hours.hpp"

#include "net/http_client.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

namespace exceed::app {
namespace asio = boost::asio;

namespace {

std::string hmac(std::string_view key, std::string_view text) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<unsigned char const*>(text.data()),
       text.size(), mac, &len);
  return std::string(reinterpret_cast<char const*>(mac), len);
}

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// SigV4's URI encoding: everything but the unreserved characters, '/' kept
// in paths.
std::string uri_encode(std::string_view s, bool path) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (path && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

// "20130524T000000Z"
std::string amz_date(core::Millis now) {
  auto u = core::local_time(now, core::TimeZone::utc());
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", u.year, u.month, u.day, u.minute_of_day / 60,
                u.minute_of_day % 60, u.second);
  return buf;
}

}  // namespace

std::string presign_parts(std::string const& scheme_host, std::string const& host_header, std::string const& path,
                          std::string const& method, std::vector<std::pair<std::string, std::string>> query,
                          std::string const& region, std::string const& access_key, std::string const& secret_key,
                          int ttl_s, core::Millis now) {
  auto stamp = amz_date(now);
  auto date = stamp.substr(0, 8);
  auto scope = date + "/" + region + "/s3/aws4_request";
  query.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  query.emplace_back("X-Amz-Credential", access_key + "/" + scope);
  query.emplace_back("X-Amz-Date", stamp);
  query.emplace_back("X-Amz-Expires", std::to_string(ttl_s));
  query.emplace_back("X-Amz-SignedHeaders", "host");
  std::vector<std::pair<std::string, std::string>> encoded;
  for (auto const& [k, v] : query) encoded.emplace_back(uri_encode(k, false), uri_encode(v, false));
  std::sort(encoded.begin(), encoded.end());
  std::string canonical_query;
  for (auto const& [k, v] : encoded) canonical_query += (canonical_query.empty() ? "" : "&") + k + "=" + v;
  auto canonical_path = uri_encode(path, true);
  std::string canonical_request = method + "\n" + canonical_path + "\n" + canonical_query + "\nhost:" + host_header +
                                  "\n\nhost\nUNSIGNED-PAYLOAD";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(canonical_request.data(), canonical_request.size(), digest, &len, EVP_sha256(), nullptr);
  std::string to_sign = "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" +
                        hex(std::string_view(reinterpret_cast<char const*>(digest), len));
  auto key = hmac(hmac(hmac(hmac("AWS4" + secret_key, date), region), "s3"), "aws4_request");
  return scheme_host + canonical_path + "?" + canonical_query + "&X-Amz-Signature=" + hex(hmac(key, to_sign));
}

std::string presign(S3Settings const& s, Presign const& p, core::Millis now) {
  std::string why;
  auto url = net::parse_outbound_url(s.endpoint, true, &why);
  if (!url) return {};
  bool default_port = url->port == (url->tls ? 443 : 80);
  std::string host = url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
  if (!default_port) host += ":" + std::to_string(url->port);
  std::string base = (url->tls ? "https://" : "http://") + host;
  std::string prefix = url->target == "/" ? std::string() : url->target;  // an endpoint with a path
  return presign_parts(base, host, prefix + "/" + s.bucket + "/" + p.key, p.method, p.query, s.region, s.access_key,
                       s.secret_key, s.url_ttl_s, now);
}

S3Storage::S3Storage(S3Settings settings, std::function<core::Millis()> now)
    : s_(std::move(settings)), now_(std::move(now)) {}

namespace {
net::OutboundOptions store_options(S3Settings const& s) {
  net::OutboundOptions o;
  o.timeout = std::chrono::seconds(60);
  o.max_response_bytes = std::size_t{1} << 30;
  // The operator named this endpoint: it may well be inside (MinIO next door).
  o.allowed_ranges = {*net::parse_ip_range("0.0.0.0/0"), *net::parse_ip_range("::/0")};
  o.ca_file = s.ca_file;
  return o;
}
}  // namespace

asio::awaitable<store::Result<store::Done>> S3Storage::put(std::string sha256, std::string const& bytes) {
  Presign p;
  p.method = "PUT";
  p.key = sha256;
  std::string why;
  auto url = net::parse_outbound_url(presign(s_, p, now_()), true, &why);
  if (!url) co_return store::Failure::unavailable("object store: the endpoint is not a URL: " + why);
  std::vector<net::Header> headers{{"Content-Type", "application/octet-stream"}};
  std::string method = "PUT";
  auto r = co_await net::send(*url, std::move(method), std::move(headers), bytes, store_options(s_));
  if (r.status == 200) co_return store::Done{};
  spdlog::error("attachments: the object store refused {}: {} {}", sha256, r.status ? "HTTP " + std::to_string(r.status) : r.error,
                r.body.substr(0, 300));
  co_return store::Failure::unavailable("the file store is not available");
}

asio::awaitable<store::Result<std::optional<std::string>>> S3Storage::get(std::string sha256) {
  Presign p;
  p.key = sha256;
  std::string why;
  auto url = net::parse_outbound_url(presign(s_, p, now_()), true, &why);
  if (!url) co_return store::Failure::unavailable("object store: the endpoint is not a URL: " + why);
  std::string method = "GET";
  std::vector<net::Header> headers;
  std::string body;
  auto r = co_await net::send(*url, std::move(method), std::move(headers), std::move(body), store_options(s_));
  if (r.status == 200) co_return std::optional<std::string>(std::move(r.body));
  if (r.status == 404) co_return std::optional<std::string>{};
  spdlog::error("attachments: the object store did not give {}: {}", sha256, r.status ? "HTTP " + std::to_string(r.status) : r.error);
  co_return store::Failure::unavailable("the file store is not available");
}

std::optional<std::string> S3Storage::download_url(std::string const& sha256, std::string const& content_type,
                                                   std::string const& disposition) {
  Presign p;
  p.key = sha256;
  p.query = {{"response-content-type", content_type}, {"response-content-disposition", disposition}};
  return presign(s_, p, now_());
}

}  // namespace exceed::app
