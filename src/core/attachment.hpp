// What a file attached to a chat or a ticket is, by its bytes (never by the
// name or the type the client claims), and whether it may be kept: the
// type policy, the size limit and the file name rules. Pure: the bytes in,
// a verdict out.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exceed::core::attachment {

struct Sniffed {
  std::string type;         // a MIME type: "image/png", ..., "application/octet-stream"
  bool executable = false;  // a program or script whatever its name says
  std::string what;         // in words, for refusals ("a Windows program")
};

// The type the content is, from its first bytes: PNG, JPEG, GIF, WebP, PDF,
// ZIP, plain UTF-8 text, or, refused everywhere, a program (Windows PE,
// ELF, Mach-O, a Java class, a script with #!).
Sniffed sniff(std::string_view bytes);

// Images shown inline (as a thumbnail); everything else is a download.
bool is_inline_image(std::string_view type) noexcept;

// Why this file name cannot be kept, or nullopt: it must be a plain name,
// not a path (no '/', '\\', no "." or "..", no control characters, not
// starting with a dot), of 1..255 bytes of valid UTF-8, and its extension
// must not be one that runs (".exe", ".js", ...).
std::optional<std::string> name_refusal(std::string_view name);

struct Policy {
  std::size_t max_bytes = 10 * 1024 * 1024;
  std::vector<std::string> allowed_types{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf",
                                         "text/plain"};
};

struct Verdict {
  bool ok = false;
  bool too_large = false;  // the refusal is the size (413)
  std::string reason;      // why not, for the person who sent it
  Sniffed sniffed;
};

// The whole check of one upload: size, name, content.
Verdict check(std::string_view name, std::string_view bytes, Policy const& policy);

}  // namespace exceed::core::attachment
