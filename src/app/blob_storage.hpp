// Where attachments' bytes are kept, content-addressed: a file is stored
// under the SHA-256 of its bytes, so the same screenshot sent twice is kept
// once and a stored file can never be changed under its name. The local
// disk is the default; other backends implement the same two calls.
#pragma once

#include "store/result.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace exceed::app {

class BlobStorage {
 public:
  virtual ~BlobStorage() = default;
  // Keeps `bytes` under `sha256` (hex, the caller's hash of them); keeping
  // what is there already does nothing.
  virtual boost::asio::awaitable<store::Result<store::Done>> put(std::string sha256, std::string const& bytes) = 0;
  // The bytes, or nullopt when nothing is kept under that hash.
  virtual boost::asio::awaitable<store::Result<std::optional<std::string>>> get(std::string sha256) = 0;
  // A URL the browser may fetch the bytes from directly, answered with
  // these headers (a presigned download), or nullopt: the server serves them.
  virtual std::optional<std::string> download_url(std::string const& /*sha256*/, std::string const& /*content_type*/,
                                                  std::string const& /*disposition*/) {
    return std::nullopt;
  }
};

// Files under `dir`/<first two hex digits>/<sha256>, written to a temporary
// name and renamed, so a reader never sees half a file. Small files and a
// local disk: the calls do their I/O in place.
class LocalDiskStorage final : public BlobStorage {
 public:
  explicit LocalDiskStorage(std::string dir);
  boost::asio::awaitable<store::Result<store::Done>> put(std::string sha256, std::string const& bytes) override;
  boost::asio::awaitable<store::Result<std::optional<std::string>>> get(std::string sha256) override;

 private:
  std::string path_of(std::string const& sha256) const;
  std::string dir_;
};

// SHA-256 of `bytes`, lower-case hex.
std::string sha256_hex(std::string_view bytes);

}  // namespace exceed::app
