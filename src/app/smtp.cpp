#include "app/smtp.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace exceed::app {
namespace {

struct Reader {
  std::string const& text;
  std::size_t at = 0;
};

std::size_t read_cb(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* r = static_cast<Reader*>(user);
  std::size_t len = std::min(size * n, r->text.size() - r->at);
  std::memcpy(buf, r->text.data() + r->at, len);
  r->at += len;
  return len;
}

}  // namespace

SmtpResult smtp_send(SmtpSettings const& s, std::string const& envelope_from, std::string const& rcpt,
                     std::string const& message) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  SmtpResult out;
  CURL* curl = curl_easy_init();
  if (!curl) {
    out.error = "libcurl could not start";
    return out;
  }
  Reader reader{message};
  curl_slist* rcpts = curl_slist_append(nullptr, ("<" + rcpt + ">").c_str());
  char err[CURL_ERROR_SIZE] = {0};
  std::string from = "<" + envelope_from + ">";
  curl_easy_setopt(curl, CURLOPT_URL, s.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(s.require_tls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!s.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, s.ca_file.c_str());
  if (!s.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, s.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, s.password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(curl, CURLOPT_READDATA, &reader);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, s.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(s.timeout_ms, 10'000L));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.code);
  if (rc == CURLE_OK) {
    out.sent = true;
  } else {
    out.error = std::string(curl_easy_strerror(rc)) + (err[0] ? std::string(": ") + err : std::string());
    if (out.code) out.error += " (SMTP " + std::to_string(out.code) + ")";
    // 5xx is a refusal for good (no such mailbox, policy); a failed login
    // is the operator's to fix, and retried until then.
    out.permanent = out.code >= 500 && out.code < 600 && rc != CURLE_LOGIN_DENIED;
  }
  curl_slist_free_all(rcpts);
  curl_easy_cleanup(curl);
  return out;
}

}  // namespace exceed::app
