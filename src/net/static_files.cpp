#include "net/static_files.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace exceed::net {
namespace fs = std::filesystem;
namespace {

// The characters a served file's path may have: what a URL carries without
// percent-encoding. A file named otherwise is not served (its request path
// would need decoding, and decoding is where traversal tricks live).
bool plain_path(std::string_view p) {
  return std::all_of(p.begin(), p.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '-' ||
           c == '_' || c == '.' || c == '~';
  });
}

// True when `inner` is `outer` or lies below it (both canonical).
bool inside(fs::path const& inner, fs::path const& outer) {
  auto [o, i] = std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
  return o == outer.end();
}

}  // namespace

std::string_view content_type_of(std::string_view file_name) {
  auto dot = file_name.rfind('.');
  auto ext = dot == std::string_view::npos ? std::string_view() : file_name.substr(dot);
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".mp3") return "audio/mpeg";
  return "application/octet-stream";
}

StaticFiles StaticFiles::scan(std::string const& root) {
  StaticFiles out;
  std::error_code ec;
  auto base = fs::canonical(root, ec);
  if (ec || !fs::is_directory(base, ec)) return out;
  out.root_ = base.string();
  // Folder symlinks are not entered (the iterator's default); file symlinks
  // are checked one by one below.
  fs::recursive_directory_iterator it(base, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    auto const& entry = *it;
    auto rel = entry.path().lexically_relative(base);
    bool hidden = std::any_of(rel.begin(), rel.end(), [](fs::path const& part) {
      auto s = part.string();
      return !s.empty() && s[0] == '.';
    });
    if (hidden) {
      if (entry.is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    std::error_code fec;
    if (!entry.is_regular_file(fec)) continue;  // follows a link: is its target a file?
    auto real = fs::canonical(entry.path(), fec);
    std::string key = "/" + rel.generic_string();
    if (fec || !inside(real, base) || !plain_path(key)) {
      ++out.skipped_;
      continue;
    }
    File f;
    f.disk_path = real.string();
    f.content_type = std::string(content_type_of(key));
    f.page = key.size() > 5 && key.compare(key.size() - 5, 5, ".html") == 0;
    out.files_.emplace(std::move(key), std::move(f));
  }
  return out;
}

StaticFiles::Found StaticFiles::find(std::string_view path) const {
  Found out;
  if (path.empty() || path.front() != '/') return out;
  if (path.back() == '/') {
    std::string key(path);
    key += "index.html";
    if (auto it = files_.find(key); it != files_.end()) {
      out.kind = Found::Kind::file;
      out.file = &it->second;
    }
    return out;
  }
  if (auto it = files_.find(path); it != files_.end()) {
    out.kind = Found::Kind::file;
    out.file = &it->second;
    return out;
  }
  // "/console" -> "/console/": only for a folder of the set, whose path
  // is a key's prefix and so has no empty segment.
  std::string dir(path);
  dir += "/";
  if (files_.count(dir + "index.html")) {
    out.kind = Found::Kind::redirect;
    out.location = std::move(dir);
  }
  return out;
}

}  // namespace exceed::net
