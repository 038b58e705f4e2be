// libFuzzer target: request paths against the static web clients' set
// (net::StaticFiles). The set is scanned once from a tree made for the
// run: a web root with pages, a folder, a link inside, a link out to a
// secret beside the root, a link to /etc, and hidden files.
// Checks: whatever the path, the answer is nothing, a file of the set whose
// canonical path is inside the root (never the secret, never a hidden
// file), or a redirect to "/<folder>/" of the set, never to "//...".
#include "net/static_files.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>

using exceed::net::StaticFiles;
namespace fs = std::filesystem;

namespace {

void check(bool ok, char const* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_static_path: broken promise: %s\n", what);
    std::abort();
  }
}

void write(fs::path const& p, std::string const& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

struct Tree {
  fs::path top, web;
  StaticFiles files;
  Tree() {
    std::string tmpl = (fs::temp_directory_path() / "exceed-fuzz-static-XXXXXX").string();
    top = fs::path(mkdtemp(tmpl.data()));
    web = top / "web";
    write(top / "secret.txt", "secret");
    write(web / "index.html", "<p>i</p>");
    write(web / "widget.js", "w()");
    write(web / "console" / "index.html", "<p>c</p>");
    write(web / "console" / "console.js", "c()");
    write(web / ".env", "SECRET=1");
    fs::create_symlink(top / "secret.txt", web / "leak");
    fs::create_directory_symlink("/etc", web / "etc");
    fs::create_symlink("widget.js", web / "alias.js");
    files = StaticFiles::scan(web.string());
    check(files.size() == 5, "the tree is scanned");
  }
  ~Tree() {
    std::error_code ec;
    fs::remove_all(top, ec);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  static Tree const tree;
  static std::string const root = fs::canonical(tree.web).string() + "/";
  std::string_view path(reinterpret_cast<char const*>(data), size);
  auto r = tree.files.find(path);
  switch (r.kind) {
    case StaticFiles::Found::Kind::none:
      break;
    case StaticFiles::Found::Kind::file: {
      auto const& p = r.file->disk_path;
      check(p.compare(0, root.size(), root) == 0, "a served file is inside the root");
      check(p.find("/.") == std::string::npos, "no hidden file is served");
      check(p.find("secret") == std::string::npos, "the secret beside the root is never served");
      check(path.size() >= 1 && path[0] == '/' && path.find("//") == std::string_view::npos,
            "only a plain path names a file");
      break;
    }
    case StaticFiles::Found::Kind::redirect:
      check(r.location.size() >= 2 && r.location[0] == '/' && r.location[1] != '/', "a redirect stays on this server");
      check(tree.files.find(r.location).kind == StaticFiles::Found::Kind::file, "a redirect names a folder of the set");
      break;
  }
  return 0;
}
