// The static web clients: only the files found under web_root at start are
// served, by their exact path; no spelling of a request path reaches
// anything else on the machine.
#include "net/static_files.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using exceed::net::StaticFiles;
namespace fs = std::filesystem;
using Kind = StaticFiles::Found::Kind;

namespace {

void write(fs::path const& p, std::string const& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// A web root beside a secret the server must never hand out:
//   <tmp>/secret.txt
//   <tmp>/web/index.html, app.js, console/index.html, .env, has space.js
//   <tmp>/web/leak -> ../secret.txt, web/etc -> /etc, web/alias.js -> app.js
struct Tree {
  fs::path top;
  fs::path web;
  Tree() {
    std::string tmpl = (fs::temp_directory_path() / "exceed-static-XXXXXX").string();
    top = fs::path(mkdtemp(tmpl.data()));
    web = top / "web";
    write(top / "secret.txt", "the token secret");
    write(web / "index.html", "<p>widget</p>");
    write(web / "app.js", "ok()");
    write(web / "console" / "index.html", "<p>console</p>");
    write(web / ".env", "SECRET=1");
    write(web / ".git" / "config", "[core]");
    write(web / "has space.js", "x");
    fs::create_symlink(top / "secret.txt", web / "leak");
    fs::create_directory_symlink("/etc", web / "etc");
    fs::create_symlink("app.js", web / "alias.js");
  }
  ~Tree() {
    std::error_code ec;
    fs::remove_all(top, ec);
  }
};

}  // namespace

TEST_CASE("the web clients' files are served by their exact paths") {
  Tree t;
  auto files = StaticFiles::scan(t.web.string());
  REQUIRE(files.size() == 4);  // index.html, app.js, console/index.html, alias.js

  auto index = files.find("/");
  REQUIRE(index.kind == Kind::file);
  REQUIRE(index.file->disk_path == fs::canonical(t.web / "index.html").string());
  REQUIRE(index.file->page);
  REQUIRE(index.file->content_type == "text/html; charset=utf-8");

  REQUIRE(files.find("/index.html").kind == Kind::file);
  auto js = files.find("/app.js");
  REQUIRE(js.kind == Kind::file);
  REQUIRE_FALSE(js.file->page);
  REQUIRE(js.file->content_type == "text/javascript; charset=utf-8");
  REQUIRE(files.find("/console/").file->disk_path == fs::canonical(t.web / "console" / "index.html").string());

  SECTION("a link that stays inside the folder is served as its target") {
    REQUIRE(files.find("/alias.js").file->disk_path == fs::canonical(t.web / "app.js").string());
  }
  SECTION("a folder without its slash is redirected to the folder, on this server") {
    auto r = files.find("/console");
    REQUIRE(r.kind == Kind::redirect);
    REQUIRE(r.location == "/console/");
  }
}

TEST_CASE("no request path reaches a file outside the web clients' set") {
  Tree t;
  auto files = StaticFiles::scan(t.web.string());
  auto const secret = (t.top / "secret.txt").string();
  std::vector<std::string> const attempts{
           "//etc/passwd", "//etc/hostname", "///etc/passwd", "/%2fetc/passwd", "/%2Fetc/hostname",
           "//" + secret, "/" + secret, "/..%2fsecret.txt", "/%2e%2e/secret.txt", "/../secret.txt",
           "/console/../../secret.txt", "/./index.html", "/console//index.html", "//console/",
           "/console\\..\\..\\secret.txt", "/%5c..%5csecret.txt", "/index.html%00.js", std::string("/index.html\0.js", 15),
           "/leak", "/etc/passwd", "/etc/hostname", "/.env", "/.git/config", "/has space.js",
           "/has%20space.js", "/%63onsole/", "/CONSOLE/", "/app.js/", "/app.js?x", "", "index.html",
           "/index.html/..", "/console/.", "http://x/index.html"};
  for (auto const& path : attempts) {
    INFO(path);
    auto r = files.find(path);
    REQUIRE(r.kind == Kind::none);
  }
}

TEST_CASE("a folder whose name starts with two slashes is never a redirect target") {
  Tree t;
  auto files = StaticFiles::scan(t.web.string());
  for (std::string path : {"//etc", "//console", "///console", "//evil.example", "//console/"}) {
    INFO(path);
    REQUIRE(files.find(path).kind == Kind::none);
  }
}

TEST_CASE("what is left out is counted, and a missing web root serves nothing") {
  Tree t;
  auto files = StaticFiles::scan(t.web.string());
  REQUIRE(files.skipped() == 2);  // the link out of the folder and the name with a space
  auto none = StaticFiles::scan((t.top / "no-such-folder").string());
  REQUIRE(none.size() == 0);
  REQUIRE(none.find("/").kind == Kind::none);
}
