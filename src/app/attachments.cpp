#include "app/attachments.hpp"

#include "app/auth.hpp"
#include "core/attachment.hpp"
#include "net/clamd.hpp"
#include "protocol/codec.hpp"

#include <spdlog/spdlog.h>

#include <cctype>

namespace exceed::app {
namespace asio = boost::asio;
namespace json = boost::json;
using protocol::error;

std::string content_disposition(bool inline_, std::string_view name) {
  std::string ascii, encoded;
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : name) {
    bool plain = c >= 0x20 && c < 0x7F && c != '"' && c != '\\' && c != ';' && c != '%';
    ascii += plain ? static_cast<char>(c) : '_';
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += hex[c >> 4];
      encoded += hex[c & 15];
    }
  }
  return std::string(inline_ ? "inline" : "attachment") + "; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

json::object Attachments::to_json(store::Attachment const& a) {
  json::object j;
  j["id"] = a.id;
  j["name"] = a.name;
  j["content_type"] = a.content_type;
  j["size"] = a.size;
  j["inline"] = core::attachment::is_inline_image(a.content_type);
  j["url"] = "/api/v1/attachments/" + a.id + "/content";
  j["created_at"] = a.created_at;
  j["uploaded_by"] = a.uploaded_by;
  if (!a.conversation_id.empty()) j["conversation_id"] = a.conversation_id;
  if (!a.ticket_id.empty()) j["ticket_id"] = a.ticket_id;
  return j;
}

asio::awaitable<net::HttpResponse> Attachments::http(Actor actor, std::string method, std::string rest, Query query,
                                                     std::string body) {
  if (rest.empty() || rest == "/") {
    if (method != "POST") co_return error_response(error::bad_request, "use POST with the file as the body");
    co_return co_await upload(actor, query, std::move(body));
  }
  auto slash = rest.find('/', 1);
  std::string id = rest.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  std::string action = slash == std::string::npos ? "" : rest.substr(slash);
  if (id.empty() || id.size() > protocol::max_id_chars) co_return error_response(error::not_found, "no such attachment");
  if (method != "GET") co_return error_response(error::bad_request, "use GET");
  if (action != "" && action != "/content") co_return error_response(error::not_found, "no such endpoint");
  auto a = co_await visible(actor, id);
  if (!a) co_return from_failure(a.failure());
  if (action.empty()) co_return json_response(200, to_json(*a));
  bool shown = core::attachment::is_inline_image(a->content_type);
  auto url = query_value(query, "direct") == "1"
                 ? d_.blobs.download_url(a->sha256, a->content_type, content_disposition(shown, a->name))
                 : std::nullopt;
  if (url) {
    // The store serves it itself (a presigned URL, valid a few minutes),
    // with these headers: for links followed without the token. Pages get
    // the bytes through the server (their CSP allows only this origin).
    net::HttpResponse r;
    r.status = 302;
    r.content_type.clear();
    r.headers.push_back({"Location", *url});
    secure_headers(r);
    co_return r;
  }
  auto bytes = co_await d_.blobs.get(a->sha256);
  if (!bytes) co_return from_failure(bytes.failure());
  if (!*bytes) {
    spdlog::error("attachments: the bytes of {} ({}) are missing from the storage", a->id, a->sha256);
    co_return error_response(error::not_found, "the file is missing from the storage");
  }
  net::HttpResponse r;
  r.content_type = a->content_type;
  r.body = std::move(**bytes);
  r.headers.push_back({"Content-Disposition", content_disposition(shown, a->name)});
  // Whatever a file holds, it runs nothing in this origin.
  r.headers.push_back({"Content-Security-Policy", "default-src 'none'; img-src 'self'; sandbox"});
  secure_headers(r);
  co_return r;
}

asio::awaitable<store::Result<store::Attachment>> Attachments::visible(Actor const& actor, std::string id) {
  auto a = co_await d_.store.get(id);
  if (!a) co_return a.failure();
  if (!*a) co_return store::Failure::refused(core::Refusal::not_found, "no such attachment");
  store::Result<store::Done> seen;
  if ((*a)->ticket_id.empty()) seen = co_await d_.visibility.conversation(actor, (*a)->conversation_id);
  else seen = co_await d_.visibility.ticket(actor, (*a)->ticket_id);
  if (!seen) co_return seen.failure();
  co_return std::move(**a);
}

asio::awaitable<net::HttpResponse> Attachments::upload(Actor const& actor, Query const& query, std::string body) {
  auto conversation = query_value(query, "conversation_id");
  auto ticket = query_value(query, "ticket_id");
  if (conversation.empty() == ticket.empty())
    co_return error_response(error::bad_request, "give exactly one of conversation_id and ticket_id");
  if (conversation.size() > protocol::max_id_chars || ticket.size() > protocol::max_id_chars)
    co_return error_response(error::not_found, "no such conversation or ticket");
  core::attachment::Policy policy;
  policy.max_bytes = d_.config.max_bytes;
  policy.allowed_types = d_.config.allowed_types;
  auto name = query_value(query, "name");
  auto verdict = core::attachment::check(name, body, policy);
  if (!verdict.ok) co_return error_response(verdict.too_large ? error::too_large : error::bad_request, verdict.reason);
  store::Result<store::Done> seen;
  if (ticket.empty()) seen = co_await d_.visibility.conversation(actor, conversation);
  else seen = co_await d_.visibility.ticket(actor, ticket);
  if (!seen) co_return from_failure(seen.failure());
  std::string scan = "not_scanned";
  if (!d_.config.clamd.empty()) {
    auto result = co_await net::clamd_scan(d_.config.clamd, body, std::chrono::milliseconds(d_.config.scan_timeout_ms));
    if (result.kind == net::ScanResult::Kind::infected) {
      spdlog::warn("attachments: {} from {} refused: ClamAV found {}", name, actor.user_id, result.detail);
      co_return error_response(error::bad_request, "the file carries malware (" + result.detail + "): not accepted");
    }
    if (result.kind == net::ScanResult::Kind::failed) {
      spdlog::error("attachments: no scan, so no upload: {}", result.detail);
      co_return error_response(error::unavailable, "the malware scan is not available: try again later");
    }
    scan = "clean";
  }
  store::Attachment a;
  a.id = random_id("att_");
  a.sha256 = sha256_hex(body);
  a.name = name;
  a.content_type = verdict.sniffed.type;
  a.size = static_cast<std::int64_t>(body.size());
  a.conversation_id = conversation;
  a.ticket_id = ticket;
  a.uploaded_by = actor.user_id;
  a.uploader_role = std::string(actor.role_name());
  a.created_at = d_.clock.now();
  a.scan = scan;
  auto kept = co_await d_.blobs.put(a.sha256, body);
  if (!kept) co_return from_failure(kept.failure());
  auto saved = co_await d_.store.save(a);
  if (!saved) co_return from_failure(saved.failure());
  co_return json_response(201, to_json(*saved));
}

asio::awaitable<store::Result<store::Attachment>> Attachments::for_message(Actor const& actor, std::string id,
                                                                           std::string conversation_id) {
  auto a = co_await d_.store.get(id);
  if (!a) co_return a.failure();
  if (!*a || (*a)->conversation_id != conversation_id)
    co_return store::Failure::refused(core::Refusal::not_found, "no such attachment in this conversation");
  if ((*a)->uploaded_by != actor.user_id)
    co_return store::Failure::refused(core::Refusal::forbidden, "only who uploaded a file can send it");
  co_return std::move(**a);
}

asio::awaitable<store::Result<store::Attachment>> Attachments::for_ticket(Actor const& actor, std::string id,
                                                                          std::string ticket_id) {
  auto a = co_await d_.store.get(id);
  if (!a) co_return a.failure();
  if (!*a || (*a)->ticket_id != ticket_id)
    co_return store::Failure::refused(core::Refusal::not_found, "no such attachment on this ticket");
  if ((*a)->uploaded_by != actor.user_id)
    co_return store::Failure::refused(core::Refusal::forbidden, "only who uploaded a file can send it");
  co_return std::move(**a);
}

}  // namespace exceed::app
