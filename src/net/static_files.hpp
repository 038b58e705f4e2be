// The static web clients (widget, console, dashboard) as a fixed set of
// files, found once when the server starts. A request names one of them by
// its exact path or gets nothing: no request path is ever joined onto the
// file system, so no spelling of a path (`//etc/passwd`, `%2f`, `\`,
// `..`, NUL, a symlink planted in the tree) reaches a file outside the
// set. Beast-free, so the app, the tests and the fuzz target use it alone.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace exceed::net {

class StaticFiles {
 public:
  struct File {
    std::string disk_path;     // canonical, inside the root
    std::string content_type;  // from the extension
    bool page = false;         // .html: served with the page security policy
  };

  struct Found {
    enum class Kind { none, file, redirect } kind = Kind::none;
    File const* file = nullptr;  // Kind::file
    std::string location;        // Kind::redirect: a path of this server, "/dir/"
  };

  // Walks `root` once. Serves every regular file under it whose name and
  // folders do not start with '.', and a symlink only when its target's
  // canonical path is inside the root's canonical path (a link that leaves
  // the tree is skipped and counted in skipped()). A missing root gives an
  // empty set. Never throws for what it finds on disk.
  static StaticFiles scan(std::string const& root);

  // What a request path names. `path` is the path of the request target as
  // received (still percent-encoded, no query). Only the exact spelling of
  // a file in the set matches: "/" and "/dir/" name their index.html; a
  // folder without its slash ("/console") is redirected to "/console/",
  // never to a path that starts with "//". Anything else: Kind::none.
  Found find(std::string_view path) const;

  std::size_t size() const noexcept { return files_.size(); }
  std::size_t skipped() const noexcept { return skipped_; }
  std::string const& root() const noexcept { return root_; }

 private:
  std::string root_;                   // canonical
  std::map<std::string, File, std::less<>> files_;  // "/console/index.html" -> file
  std::size_t skipped_ = 0;
};

// The MIME type served for a file name's extension.
std::string_view content_type_of(std::string_view file_name);

}  // namespace exceed::net
