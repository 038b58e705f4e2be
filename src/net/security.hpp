// Security headers of HTTP answers. Beast-free, so the app and the tests
// can use them without compiling the server's templates.
#pragma once

#include "net/server.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace exceed::net {

// Adds what every answer carries unless the app already set that header:
// X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer, and over
// TLS Strict-Transport-Security (one year; subdomains are the operator's
// business, so they are not included). Nothing here limits who may load a
// script or image: the widget's widget.js must stay loadable by any site.
void add_security_headers(std::vector<Header>& headers, bool tls);

// The Content-Security-Policy of one of the HTML pages in web/: scripts
// only from this origin plus the page's own inline scripts, each allowed
// by its SHA-256 hash (so editing a page needs no policy change), inline
// styles allowed (the pages use style attributes), connections (fetch and
// the WebSocket) only to this origin, no plugins, no <base>, and framing
// only by pages of this origin (the console and the dashboard must not be
// framed by another site: clickjacking).
std::string page_security_policy(std::string_view html);

// The same for an HTML file on disk; a file that cannot be read gets the
// policy of a page without inline scripts.
std::string page_security_policy_of_file(std::string const& path);

}  // namespace exceed::net
