#include "core/attachment.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace exceed::core::attachment {
namespace {

bool starts(std::string_view bytes, std::string_view magic) { return bytes.substr(0, magic.size()) == magic; }

// Valid UTF-8 with no control characters but tab, CR, LF and FF; when
// `prefix`, a character cut by the end is fine (a sample of a longer file).
bool plain_text(std::string_view s, bool prefix) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7F) return false;
      ++i;
      continue;
    }
    std::size_t n = c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : 0;
    if (n == 0) return false;
    if (i + n >= s.size()) return prefix;
    for (std::size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n + 1;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

Sniffed sniff(std::string_view b) {
  using namespace std::string_view_literals;
  if (starts(b, "MZ")) return {"application/x-msdownload", true, "a Windows program"};
  if (starts(b, "\x7F" "ELF")) return {"application/x-executable", true, "a Linux program"};
  if (starts(b, "\xFE\xED\xFA\xCE") || starts(b, "\xFE\xED\xFA\xCF") || starts(b, "\xCE\xFA\xED\xFE") ||
      starts(b, "\xCF\xFA\xED\xFE"))
    return {"application/x-mach-binary", true, "a macOS program"};
  if (starts(b, "\xCA\xFE\xBA\xBE")) return {"application/java-vm", true, "a Java class or a macOS program"};
  if (starts(b, "#!")) return {"text/x-script", true, "a script"};
  if (starts(b, "\x89PNG\r\n\x1A\n")) return {"image/png", false, "a PNG image"};
  if (starts(b, "\xFF\xD8\xFF")) return {"image/jpeg", false, "a JPEG image"};
  if (starts(b, "GIF87a") || starts(b, "GIF89a")) return {"image/gif", false, "a GIF image"};
  if (b.size() >= 12 && starts(b, "RIFF") && b.substr(8, 4) == "WEBP") return {"image/webp", false, "a WebP image"};
  if (starts(b, "%PDF-")) return {"application/pdf", false, "a PDF document"};
  if (starts(b, "PK\x03\x04"sv)) return {"application/zip", false, "a ZIP archive"};
  auto head = b.substr(0, 4096);
  auto l = lower(head.substr(0, 512));
  auto first = l.find_first_not_of(" \t\r\n");
  auto lead = first == std::string::npos ? std::string_view() : std::string_view(l).substr(first);
  // Markup a browser would run (HTML, SVG): never served as text here.
  if (lead.rfind("<!doctype html", 0) == 0 || lead.rfind("<html", 0) == 0 || lead.rfind("<svg", 0) == 0 ||
      lead.rfind("<?xml", 0) == 0 || lead.rfind("<script", 0) == 0)
    return {"text/html", false, "a web page or an SVG image"};
  if (plain_text(head, head.size() < b.size())) return {"text/plain", false, "plain text"};
  return {"application/octet-stream", false, "a file of an unknown kind"};
}

bool is_inline_image(std::string_view type) noexcept {
  return type == "image/png" || type == "image/jpeg" || type == "image/gif" || type == "image/webp";
}

std::optional<std::string> name_refusal(std::string_view name) {
  if (name.empty()) return "the file needs a name";
  if (name.size() > 255) return "the file name is longer than 255 bytes";
  if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos)
    return "the file name must be a name, not a path ('/' or '\\' in it)";
  if (name == "." || name == ".." || name.front() == '.') return "the file name must not start with a dot";
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7F) return "the file name has a control character in it";
  if (!plain_text(name, false)) return "the file name is not valid UTF-8";
  static constexpr std::array<std::string_view, 24> running{
      ".exe", ".dll", ".com", ".bat", ".cmd", ".scr", ".msi", ".msp", ".pif", ".cpl", ".js", ".jse",
      ".vbs", ".vbe", ".wsf", ".ps1", ".sh", ".jar", ".apk", ".app", ".lnk", ".hta", ".html", ".svg"};
  auto l = lower(name);
  while (!l.empty() && (l.back() == ' ' || l.back() == '.')) l.pop_back();  // "x.exe." and "x.exe " run on Windows
  for (auto ext : running)
    if (l.size() > ext.size() && l.compare(l.size() - ext.size(), ext.size(), ext) == 0)
      return "files named '*" + std::string(ext) + "' are not accepted";
  return std::nullopt;
}

Verdict check(std::string_view name, std::string_view bytes, Policy const& policy) {
  Verdict v;
  if (bytes.size() > policy.max_bytes) {
    v.too_large = true;
    v.reason = "the file is " + std::to_string(bytes.size()) + " bytes; at most " + std::to_string(policy.max_bytes) +
               " are accepted";
    return v;
  }
  if (bytes.empty()) {
    v.reason = "the file is empty";
    return v;
  }
  if (auto why = name_refusal(name)) {
    v.reason = *why;
    return v;
  }
  v.sniffed = sniff(bytes);
  if (v.sniffed.executable) {
    v.reason = "the file is " + v.sniffed.what + ", whatever its name says: programs are not accepted";
    return v;
  }
  auto const& allowed = policy.allowed_types;
  if (std::find(allowed.begin(), allowed.end(), v.sniffed.type) == allowed.end()) {
    v.reason = "the file is " + v.sniffed.what + " (" + v.sniffed.type + "), which is not accepted here";
    return v;
  }
  v.ok = true;
  return v;
}

}  // namespace exceed::core::attachment
