// Attachments: the type is read from the bytes, names are names, programs
// are refused whatever they are called.
#include "core/attachment.hpp"

#include <catch2/catch.hpp>

using namespace exceed::core::attachment;
using namespace std::string_literals;

namespace {
std::string const png = "\x89PNG\r\n\x1A\n\0\0\0\rIHDR"s;
std::string const pdf = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj"s;
std::string const exe = "MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF"s;
}  // namespace

TEST_CASE("the content type comes from the bytes, not from the name or the client") {
  CHECK(sniff(png).type == "image/png");
  CHECK(sniff("\xFF\xD8\xFF\xE0\0\x10JFIF"s).type == "image/jpeg");
  CHECK(sniff("GIF89a\x01\0\x01\0"s).type == "image/gif");
  CHECK(sniff("RIFF\x24\0\0\0WEBPVP8 "s).type == "image/webp");
  CHECK(sniff(pdf).type == "application/pdf");
  CHECK(sniff("PK\x03\x04\x14\0"s).type == "application/zip");
  CHECK(sniff("Order 1234 was late.\nThanks, Casey\n").type == "text/plain");
  CHECK(sniff("Grüße aus Köln").type == "text/plain");
  CHECK(sniff("\0\x01\x02\x03binary"s).type == "application/octet-stream");
  SECTION("programs and scripts are told apart, whatever they are called") {
    CHECK(sniff(exe).executable);
    CHECK(sniff("\x7F" "ELF\x02\x01\x01"s).executable);
    CHECK(sniff("\xCF\xFA\xED\xFE\x07\0\0\x01"s).executable);
    CHECK(sniff("#!/bin/sh\nrm -rf /\n").executable);
    CHECK_FALSE(sniff(png).executable);
  }
  SECTION("markup a browser would run is not plain text") {
    CHECK(sniff("<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>").type == "text/html");
    CHECK(sniff("  <!DOCTYPE html><html><script>x</script>").type == "text/html");
  }
  CHECK(is_inline_image("image/png"));
  CHECK_FALSE(is_inline_image("application/pdf"));
  CHECK_FALSE(is_inline_image("image/svg+xml"));
}

TEST_CASE("a file name must be a plain name") {
  CHECK_FALSE(name_refusal("screenshot.png"));
  CHECK_FALSE(name_refusal("Rechnung März 2026.pdf"));
  CHECK(name_refusal("../../etc/passwd").value() == "the file name must be a name, not a path ('/' or '\\' in it)");
  CHECK(name_refusal("C:\\Windows\\win.ini"));
  CHECK(name_refusal("/etc/hosts"));
  CHECK(name_refusal(".."));
  CHECK(name_refusal(".htaccess"));
  CHECK(name_refusal(""));
  CHECK(name_refusal(std::string(256, 'a')));
  CHECK(name_refusal("a\nb.txt"));
  CHECK(name_refusal("nul\0.txt"s));
  CHECK(name_refusal("bad\xC3(.txt"));
  SECTION("names that run are refused, also with a trailing dot or space") {
    CHECK(name_refusal("setup.exe").value() == "files named '*.exe' are not accepted");
    CHECK(name_refusal("invoice.pdf.EXE"));
    CHECK(name_refusal("invoice.exe."));
    CHECK(name_refusal("run.js"));
    CHECK(name_refusal("page.html"));
    CHECK_FALSE(name_refusal("notes.json"));
  }
}

TEST_CASE("an upload is checked for size, name and content, in that order") {
  Policy p;
  p.max_bytes = 64;
  CHECK(check("shot.png", png, p).ok);
  CHECK(check("shot.png", png, p).sniffed.type == "image/png");
  SECTION("over the limit: too large, whatever else") {
    auto v = check("../x", std::string(65, 'a'), p);
    CHECK_FALSE(v.ok);
    CHECK(v.too_large);
    CHECK(v.reason == "the file is 65 bytes; at most 64 are accepted");
  }
  SECTION("a program dressed as a PDF") {
    auto v = check("invoice.pdf", exe, p);
    CHECK_FALSE(v.ok);
    CHECK_FALSE(v.too_large);
    CHECK(v.reason == "the file is a Windows program, whatever its name says: programs are not accepted");
  }
  SECTION("a type not on the list") {
    auto v = check("photos.zip", "PK\x03\x04\x14\0"s, p);
    CHECK_FALSE(v.ok);
    CHECK(v.reason == "the file is a ZIP archive (application/zip), which is not accepted here");
  }
  SECTION("an empty file, a path") {
    CHECK(check("a.txt", "", p).reason == "the file is empty");
    CHECK_FALSE(check("../a.png", png, p).ok);
  }
}
