// The attachments' bytes in an S3-compatible object store (AWS S3, MinIO,
// Ceph, ...), content-addressed like the local disk: the object key is the
// SHA-256. Every request is a presigned URL (AWS Signature Version 4 in the
// query string): the server PUTs and GETs through them, and a download is
// answered with a redirect to a short-lived presigned GET, so the bytes go
// from the store to the browser directly. Uploads pass through the server
// on purpose: their type is sniffed and they are scanned before they are
// kept, which a browser uploading straight to the store would skip.
#pragma once

#include "app/blob_storage.hpp"
#include "core/domain.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace exceed::app {

struct S3Settings {
  std::string endpoint;  // "https://s3.eu-central-1.amazonaws.com", "http://127.0.0.1:4568"
  std::string bucket;
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  int url_ttl_s = 300;  // a presigned download stays valid this long
  std::string ca_file;  // trusted besides the system's CAs (https endpoints)
};

// A presigned URL (SigV4, path-style: <endpoint>/<bucket>/<key>), valid for
// `ttl_s` from `now`, with extra query parameters signed along (the
// response-content-* overrides of a download). Pure but for the HMACs.
struct Presign {
  std::string method = "GET";
  std::string key;
  std::vector<std::pair<std::string, std::string>> query;
};
std::string presign(S3Settings const& s, Presign const& p, core::Millis now);
// The same for a URL given by its parts (the test against AWS's own example
// uses virtual-hosted style).
std::string presign_parts(std::string const& scheme_host, std::string const& host_header, std::string const& path,
                          std::string const& method, std::vector<std::pair<std::string, std::string>> query,
                          std::string const& region, std::string const& access_key, std::string const& secret_key,
                          int ttl_s, core::Millis now);

class S3Storage final : public BlobStorage {
 public:
  explicit S3Storage(S3Settings settings, std::function<core::Millis()> now);
  boost::asio::awaitable<store::Result<store::Done>> put(std::string sha256, std::string const& bytes) override;
  boost::asio::awaitable<store::Result<std::optional<std::string>>> get(std::string sha256) override;
  std::optional<std::string> download_url(std::string const& sha256, std::string const& content_type,
                                          std::string const& disposition) override;

 private:
  S3Settings s_;
  std::function<core::Millis()> now_;
};

}  // namespace exceed::app
