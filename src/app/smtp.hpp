// One e-mail handed to an SMTP server through libcurl: STARTTLS required
// (or implicit TLS with smtps://), the server's certificate verified, AUTH
// when a user name is set. Blocking: the mailer runs it on a thread of its own.
#pragma once

#include <string>

namespace exceed::app {

struct SmtpSettings {
  std::string url;  // "smtp://mail.shop.example:587", "smtps://mail.shop.example:465"
  bool require_tls = true;
  std::string username;
  std::string password;
  std::string ca_file;  // trusted besides the system's CAs
  long timeout_ms = 30'000;
};

struct SmtpResult {
  bool sent = false;
  bool permanent = false;  // the server refused for good (5xx): trying again would not help
  long code = 0;           // the server's last reply code, 0 when none came
  std::string error;
};

SmtpResult smtp_send(SmtpSettings const& s, std::string const& envelope_from, std::string const& rcpt,
                     std::string const& message);

}  // namespace exceed::app
