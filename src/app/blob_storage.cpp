#include "app/blob_storage.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace exceed::app {
namespace asio = boost::asio;
namespace fs = std::filesystem;

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

namespace {
bool hex_name(std::string const& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}
}  // namespace

LocalDiskStorage::LocalDiskStorage(std::string dir) : dir_(std::move(dir)) {}

std::string LocalDiskStorage::path_of(std::string const& sha256) const {
  return (fs::path(dir_) / sha256.substr(0, 2) / sha256).string();
}

asio::awaitable<store::Result<store::Done>> LocalDiskStorage::put(std::string sha256, std::string const& bytes) {
  if (!hex_name(sha256)) co_return store::Failure::protocol("blob storage: not a SHA-256: " + sha256.substr(0, 80));
  auto path = fs::path(path_of(sha256));
  std::error_code ec;
  if (fs::exists(path, ec)) co_return store::Done{};
  fs::create_directories(path.parent_path(), ec);
  if (ec) co_return store::Failure::unavailable("blob storage: cannot make " + path.parent_path().string());
  thread_local std::mt19937_64 gen{std::random_device{}()};
  auto tmp = path;
  tmp += ".tmp" + std::to_string(gen());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      fs::remove(tmp, ec);
      co_return store::Failure::unavailable("blob storage: cannot write " + tmp.string());
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    co_return store::Failure::unavailable("blob storage: cannot rename into " + path.string());
  }
  co_return store::Done{};
}

asio::awaitable<store::Result<std::optional<std::string>>> LocalDiskStorage::get(std::string sha256) {
  if (!hex_name(sha256)) co_return std::optional<std::string>{};
  std::ifstream in(path_of(sha256), std::ios::binary);
  if (!in) co_return std::optional<std::string>{};
  std::ostringstream s;
  s << in.rdbuf();
  co_return std::optional<std::string>(std::move(s).str());
}

}  // namespace exceed::app
