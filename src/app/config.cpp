#include "app/config.hpp"

#include "core/schedule.hpp"
#include "net/security.hpp"
#include "store/slots.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <variant>

namespace exceed::app {
namespace {

// A setting's value as it arrives: from TOML typed, from the environment or a
// flag as text (converted by the setter).
using Value = std::variant<std::string, std::int64_t, double, bool, std::vector<std::string>>;

struct Bad {
  std::string reason;
};

std::int64_t as_int(Value const& v, std::int64_t lo, std::int64_t hi) {
  std::int64_t n = 0;
  if (auto const* i = std::get_if<std::int64_t>(&v)) {
    n = *i;
  } else if (auto const* s = std::get_if<std::string>(&v)) {
    auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
    if (ec != std::errc{} || p != s->data() + s->size()) throw Bad{"expected an integer, got '" + *s + "'"};
  } else {
    throw Bad{"expected an integer"};
  }
  if (n < lo || n > hi) throw Bad{"must be between " + std::to_string(lo) + " and " + std::to_string(hi)};
  return n;
}

double as_double(Value const& v, double lo, double hi) {
  double d = 0;
  if (auto const* f = std::get_if<double>(&v)) d = *f;
  else if (auto const* i = std::get_if<std::int64_t>(&v)) d = static_cast<double>(*i);
  else if (auto const* s = std::get_if<std::string>(&v)) {
    try {
      std::size_t used = 0;
      d = std::stod(*s, &used);
      if (used != s->size()) throw Bad{"expected a number, got '" + *s + "'"};
    } catch (std::logic_error const&) {
      throw Bad{"expected a number, got '" + *s + "'"};
    }
  } else throw Bad{"expected a number"};
  if (!(d >= lo && d <= hi)) throw Bad{"must be between " + std::to_string(lo) + " and " + std::to_string(hi)};
  return d;
}

bool as_bool(Value const& v) {
  if (auto const* b = std::get_if<bool>(&v)) return *b;
  if (auto const* s = std::get_if<std::string>(&v)) {
    if (*s == "true" || *s == "1" || *s == "yes") return true;
    if (*s == "false" || *s == "0" || *s == "no") return false;
    throw Bad{"expected true or false, got '" + *s + "'"};
  }
  throw Bad{"expected true or false"};
}

std::string as_string(Value const& v) {
  if (auto const* s = std::get_if<std::string>(&v)) return *s;
  throw Bad{"expected a string"};
}

std::vector<std::string> as_list(Value const& v) {
  if (auto const* l = std::get_if<std::vector<std::string>>(&v)) return *l;
  if (auto const* s = std::get_if<std::string>(&v)) {  // "a,b,c" from the environment
    std::vector<std::string> out;
    std::stringstream in(*s);
    for (std::string item; std::getline(in, item, ',');)
      if (!item.empty()) out.push_back(item);
    return out;
  }
  throw Bad{"expected a list of strings"};
}

using Setter = std::function<void(Config&, Value const&)>;

// Long on purpose: one entry per config key, in the order of
// config/exceed.toml, so a key's type, bounds and field are found in one
// place; it is a table, not a chain of decisions.
std::map<std::string, Setter> const& setters() {
  static std::map<std::string, Setter> const table{
      {"server.listen",
       [](Config& c, Value const& v) {
         if (!parse_listen(as_string(v), c.server.host, c.server.port)) throw Bad{"expected HOST:PORT"};
       }},
      {"server.reuse_port", [](Config& c, Value const& v) { c.server.reuse_port = as_bool(v); }},
      {"server.web_root", [](Config& c, Value const& v) { c.server.web_root = as_string(v); }},
      {"server.allowed_origins",
       [](Config& c, Value const& v) {
         c.server.allowed_origins.clear();
         for (auto const& o : as_list(v)) {
           if (o == "*") {
             c.server.allowed_origins.push_back(o);
             continue;
           }
           auto parsed = net::parse_origin(o);
           if (!parsed) throw Bad{"'" + o + "' is not an origin (scheme://host[:port], no path)"};
           c.server.allowed_origins.push_back(parsed->serialized);
         }
       }},
      {"server.allow_missing_origin", [](Config& c, Value const& v) { c.server.allow_missing_origin = as_bool(v); }},
      {"server.public_hosts",
       [](Config& c, Value const& v) {
         c.server.public_hosts.clear();
         for (auto const& h : as_list(v)) {
           auto parsed = net::parse_host_header(h);
           if (!parsed || parsed->port) throw Bad{"'" + h + "' is not a host name (no scheme, port or path)"};
           c.server.public_hosts.push_back(parsed->host);
         }
       }},
      {"server.trusted_proxies",
       [](Config& c, Value const& v) {
         c.server.trusted_proxies.clear();
         for (auto const& a : as_list(v)) {
           if (!net::parse_ip_range(a)) throw Bad{"'" + a + "' is not an IP address or range (10.0.0.0/8)"};
           c.server.trusted_proxies.push_back(a);
         }
       }},
      {"server.tls_ciphers",
       [](Config& c, Value const& v) {
         c.server.tls_ciphers = as_string(v);
         if (c.server.tls_ciphers.empty()) throw Bad{"must not be empty"};
       }},
      {"server.tls_cert", [](Config& c, Value const& v) { c.server.tls_cert = as_string(v); }},
      {"server.tls_key", [](Config& c, Value const& v) { c.server.tls_key = as_string(v); }},
      {"server.shutdown_grace_s",
       [](Config& c, Value const& v) { c.server.shutdown_grace_s = static_cast<int>(as_int(v, 1, 300)); }},
      {"redis.url", [](Config& c, Value const& v) { c.redis.url = as_string(v); }},
      {"redis.group_commit", [](Config& c, Value const& v) { c.redis.group_commit = as_bool(v); }},
      {"redis.functions", [](Config& c, Value const& v) { c.redis.functions = as_bool(v); }},
      {"redis.prefix",
       [](Config& c, Value const& v) {
         c.redis.prefix = as_string(v);
         if (c.redis.prefix.empty() || c.redis.prefix.size() > 64) throw Bad{"must be 1 to 64 characters"};
       }},
      {"redis.command_timeout_ms",
       [](Config& c, Value const& v) { c.redis.command_timeout_ms = static_cast<int>(as_int(v, 10, 600'000)); }},
      {"redis.sentinels", [](Config& c, Value const& v) { c.redis.sentinels = as_list(v); }},
      {"redis.master_name",
       [](Config& c, Value const& v) {
         c.redis.master_name = as_string(v);
         if (c.redis.master_name.empty()) throw Bad{"must not be empty"};
       }},
      {"redis.cluster", [](Config& c, Value const& v) { c.redis.cluster = as_list(v); }},
      {"auth.token_secret", [](Config& c, Value const& v) { c.auth.token_secret = as_string(v); }},
      {"auth.token_ttl_s",
       [](Config& c, Value const& v) { c.auth.token_ttl_s = static_cast<int>(as_int(v, 60, 90 * 86400)); }},
      {"auth.visitor_token_ttl_s",
       [](Config& c, Value const& v) { c.auth.visitor_token_ttl_s = static_cast<int>(as_int(v, 60, 365 * 86400)); }},
      {"auth.password_iterations",
       [](Config& c, Value const& v) { c.auth.password_iterations = static_cast<int>(as_int(v, 1000, 10'000'000)); }},
      {"auth.identity_secret", [](Config& c, Value const& v) { c.auth.identity_secret = as_string(v); }},
      {"auth.require_identity", [](Config& c, Value const& v) { c.auth.require_identity = as_bool(v); }},
      {"auth.login_free_failures_per_user",
       [](Config& c, Value const& v) { c.auth.login_free_failures_per_user = static_cast<int>(as_int(v, 1, 1000)); }},
      {"auth.login_free_failures_per_address",
       [](Config& c, Value const& v) { c.auth.login_free_failures_per_address = static_cast<int>(as_int(v, 1, 100'000)); }},
      {"auth.login_backoff_max_s",
       [](Config& c, Value const& v) { c.auth.login_backoff_max_s = static_cast<int>(as_int(v, 1, 86400)); }},
      {"auth.login_window_s",
       [](Config& c, Value const& v) { c.auth.login_window_s = static_cast<int>(as_int(v, 60, 7 * 86400)); }},
      {"auth.hashing_threads",
       [](Config& c, Value const& v) { c.auth.hashing_threads = static_cast<int>(as_int(v, 1, 64)); }},
      {"auth.hashing_queue",
       [](Config& c, Value const& v) { c.auth.hashing_queue = static_cast<int>(as_int(v, 1, 10'000)); }},
      {"auth.visitor_idle_ttl_s",
       [](Config& c, Value const& v) { c.auth.visitor_idle_ttl_s = static_cast<int>(as_int(v, 60, 365 * 86400)); }},
      {"routing.strategy",
       [](Config& c, Value const& v) {
         auto s = as_string(v);
         if (s == "least_busy") c.routing.strategy = core::Strategy::least_busy;
         else if (s == "round_robin") c.routing.strategy = core::Strategy::round_robin;
         else throw Bad{"must be least_busy or round_robin, got '" + s + "'"};
       }},
      {"routing.default_team",
       [](Config& c, Value const& v) {
         c.routing.default_team = as_string(v);
         if (c.routing.default_team.empty()) throw Bad{"must not be empty"};
       }},
      {"routing.offer_timeout_s",
       [](Config& c, Value const& v) { c.routing.offer_timeout_s = static_cast<int>(as_int(v, 1, 3600)); }},
      {"routing.decline_cooldown_s",
       [](Config& c, Value const& v) { c.routing.decline_cooldown_s = static_cast<int>(as_int(v, 0, 86400)); }},
      {"routing.agent_grace_s",
       [](Config& c, Value const& v) { c.routing.agent_grace_s = static_cast<int>(as_int(v, 0, 86400)); }},
      {"routing.default_capacity",
       [](Config& c, Value const& v) { c.routing.default_capacity = static_cast<int>(as_int(v, 1, 50)); }},
      {"routing.ticket_when_offline", [](Config& c, Value const& v) { c.routing.ticket_when_offline = as_bool(v); }},
      {"limits.max_frame_bytes",
       [](Config& c, Value const& v) { c.limits.max_frame_bytes = as_int(v, 1024, 16 << 20); }},
      {"limits.max_body_bytes",
       [](Config& c, Value const& v) { c.limits.max_body_bytes = as_int(v, 1024, 64 << 20); }},
      {"limits.messages_per_s", [](Config& c, Value const& v) { c.limits.messages_per_s = as_double(v, 0.1, 1e6); }},
      {"limits.burst", [](Config& c, Value const& v) { c.limits.burst = as_double(v, 1, 1e6); }},
      {"limits.flood_rejections",
       [](Config& c, Value const& v) { c.limits.flood_rejections = static_cast<int>(as_int(v, 1, 1'000'000)); }},
      {"limits.invalid_frames",
       [](Config& c, Value const& v) { c.limits.invalid_frames = static_cast<int>(as_int(v, 1, 1'000'000)); }},
      {"limits.out_queue_bytes",
       [](Config& c, Value const& v) { c.limits.out_queue_bytes = as_int(v, 4096, 1 << 30); }},
      {"limits.ws_idle_timeout_s",
       [](Config& c, Value const& v) { c.limits.ws_idle_timeout_s = static_cast<int>(as_int(v, 5, 3600)); }},
      {"limits.hello_timeout_s",
       [](Config& c, Value const& v) { c.limits.hello_timeout_s = static_cast<int>(as_int(v, 1, 300)); }},
      {"limits.header_timeout_s",
       [](Config& c, Value const& v) { c.limits.header_timeout_s = static_cast<int>(as_int(v, 1, 300)); }},
      {"limits.max_connections",
       [](Config& c, Value const& v) { c.limits.max_connections = as_int(v, 1, 10'000'000); }},
      {"limits.max_connections_per_ip",
       [](Config& c, Value const& v) { c.limits.max_connections_per_ip = as_int(v, 0, 10'000'000); }},
      {"limits.sessions_per_user",
       [](Config& c, Value const& v) { c.limits.sessions_per_user = static_cast<int>(as_int(v, 1, 1'000'000)); }},
      {"limits.visitors_per_address_per_min",
       [](Config& c, Value const& v) { c.limits.visitors_per_address_per_min = static_cast<int>(as_int(v, 1, 10'000'000)); }},
      {"limits.logins_per_address_per_min",
       [](Config& c, Value const& v) { c.limits.logins_per_address_per_min = static_cast<int>(as_int(v, 1, 10'000'000)); }},
      {"limits.tickets_per_customer_per_hour",
       [](Config& c, Value const& v) { c.limits.tickets_per_customer_per_hour = static_cast<int>(as_int(v, 1, 10'000'000)); }},
      {"followups.check_in_after_s",
       [](Config& c, Value const& v) { c.followups.check_in_after_s = static_cast<int>(as_int(v, 0, 365 * 86400)); }},
      {"followups.check_in_stages", [](Config& c, Value const& v) { c.followups.check_in_stages = as_list(v); }},
      {"followups.check_in_note",
       [](Config& c, Value const& v) {
         c.followups.check_in_note = as_string(v);
         if (c.followups.check_in_note.empty()) throw Bad{"must not be empty"};
       }},
      {"webhooks.allowed_ranges",
       [](Config& c, Value const& v) {
         c.webhooks.allowed_ranges = as_list(v);
         for (auto const& r : c.webhooks.allowed_ranges)
           if (!net::parse_ip_range(r)) throw Bad{"'" + r + "' is not an address or a range like 10.0.0.0/8"};
       }},
      {"webhooks.allow_http", [](Config& c, Value const& v) { c.webhooks.allow_http = as_bool(v); }},
      {"webhooks.ca_file", [](Config& c, Value const& v) { c.webhooks.ca_file = as_string(v); }},
      {"webhooks.timeout_ms",
       [](Config& c, Value const& v) { c.webhooks.timeout_ms = static_cast<int>(as_int(v, 100, 120'000)); }},
      {"webhooks.retry_first_ms",
       [](Config& c, Value const& v) { c.webhooks.retry_first_ms = static_cast<int>(as_int(v, 10, 3'600'000)); }},
      {"webhooks.retry_max_s",
       [](Config& c, Value const& v) { c.webhooks.retry_max_s = static_cast<int>(as_int(v, 1, 7 * 86'400)); }},
      {"webhooks.disable_after_s",
       [](Config& c, Value const& v) { c.webhooks.disable_after_s = static_cast<int>(as_int(v, 1, 90 * 86'400)); }},
      {"webhooks.max_in_flight",
       [](Config& c, Value const& v) { c.webhooks.max_in_flight = static_cast<int>(as_int(v, 1, 1'000)); }},
      {"webhooks.max_subscriptions",
       [](Config& c, Value const& v) { c.webhooks.max_subscriptions = static_cast<int>(as_int(v, 1, 10'000)); }},
      {"attachments.dir",
       [](Config& c, Value const& v) {
         c.attachments.dir = as_string(v);
         if (c.attachments.dir.empty()) throw Bad{"must not be empty"};
       }},
      {"attachments.max_bytes",
       [](Config& c, Value const& v) { c.attachments.max_bytes = as_int(v, 1, 1LL << 30); }},
      {"attachments.allowed_types", [](Config& c, Value const& v) { c.attachments.allowed_types = as_list(v); }},
      {"attachments.clamd",
       [](Config& c, Value const& v) {
         c.attachments.clamd = as_string(v);
         auto const& d = c.attachments.clamd;
         if (!d.empty() && d.rfind("unix:", 0) != 0 && d.rfind("tcp:", 0) != 0)
           throw Bad{"must be unix:/path/to/clamd.socket or tcp:host:port"};
       }},
      {"attachments.storage",
       [](Config& c, Value const& v) {
         c.attachments.storage = as_string(v);
         if (c.attachments.storage != "local" && c.attachments.storage != "s3") throw Bad{"must be local or s3"};
       }},
      {"attachments.s3_endpoint", [](Config& c, Value const& v) { c.attachments.s3_endpoint = as_string(v); }},
      {"attachments.s3_bucket", [](Config& c, Value const& v) { c.attachments.s3_bucket = as_string(v); }},
      {"attachments.s3_region", [](Config& c, Value const& v) { c.attachments.s3_region = as_string(v); }},
      {"attachments.s3_access_key", [](Config& c, Value const& v) { c.attachments.s3_access_key = as_string(v); }},
      {"attachments.s3_secret_key", [](Config& c, Value const& v) { c.attachments.s3_secret_key = as_string(v); }},
      {"attachments.s3_url_ttl_s",
       [](Config& c, Value const& v) { c.attachments.s3_url_ttl_s = static_cast<int>(as_int(v, 10, 7 * 86'400)); }},
      {"attachments.scan_timeout_ms",
       [](Config& c, Value const& v) { c.attachments.scan_timeout_ms = static_cast<int>(as_int(v, 100, 600'000)); }},
      {"mail.enabled", [](Config& c, Value const& v) { c.mail.enabled = as_bool(v); }},
      {"mail.smtp_url",
       [](Config& c, Value const& v) {
         c.mail.smtp_url = as_string(v);
         if (c.mail.smtp_url.rfind("smtp://", 0) != 0 && c.mail.smtp_url.rfind("smtps://", 0) != 0)
           throw Bad{"must be smtp://host:port or smtps://host:port"};
       }},
      {"mail.smtp_require_tls", [](Config& c, Value const& v) { c.mail.smtp_require_tls = as_bool(v); }},
      {"mail.smtp_username", [](Config& c, Value const& v) { c.mail.smtp_username = as_string(v); }},
      {"mail.smtp_password", [](Config& c, Value const& v) { c.mail.smtp_password = as_string(v); }},
      {"mail.smtp_ca_file", [](Config& c, Value const& v) { c.mail.smtp_ca_file = as_string(v); }},
      {"mail.from", [](Config& c, Value const& v) { c.mail.from = as_string(v); }},
      {"mail.reply_address", [](Config& c, Value const& v) { c.mail.reply_address = as_string(v); }},
      {"mail.inbound_secret", [](Config& c, Value const& v) { c.mail.inbound_secret = as_string(v); }},
      {"mail.public_url", [](Config& c, Value const& v) { c.mail.public_url = as_string(v); }},
      {"mail.timeout_ms",
       [](Config& c, Value const& v) { c.mail.timeout_ms = static_cast<int>(as_int(v, 1'000, 600'000)); }},
      {"mail.retry_first_ms",
       [](Config& c, Value const& v) { c.mail.retry_first_ms = static_cast<int>(as_int(v, 10, 3'600'000)); }},
      {"mail.retry_max_s",
       [](Config& c, Value const& v) { c.mail.retry_max_s = static_cast<int>(as_int(v, 1, 7 * 86'400)); }},
      {"mail.give_up_after_s",
       [](Config& c, Value const& v) { c.mail.give_up_after_s = static_cast<int>(as_int(v, 1, 30 * 86'400)); }},
      {"mail.max_in_flight",
       [](Config& c, Value const& v) { c.mail.max_in_flight = static_cast<int>(as_int(v, 1, 64)); }},
      {"mail.retention_s",
       [](Config& c, Value const& v) { c.mail.retention_s = static_cast<int>(as_int(v, 1, 400 * 86'400)); }},
      {"tickets.auto_close_after_s",
       [](Config& c, Value const& v) { c.tickets.auto_close_after_s = static_cast<int>(as_int(v, 1, 365 * 86400)); }},
      {"assessment.rules_file", [](Config& c, Value const& v) { c.assessment.rules_file = as_string(v); }},
      {"assessment.reopen_days",
       [](Config& c, Value const& v) { c.assessment.reopen_days = static_cast<int>(as_int(v, 0, 365)); }},
      {"assessment.csat_window_s",
       [](Config& c, Value const& v) { c.assessment.csat_window_s = static_cast<int>(as_int(v, 0, 365 * 86400)); }},
      {"log.level",
       [](Config& c, Value const& v) {
         auto s = as_string(v);
         if (s != "trace" && s != "debug" && s != "info" && s != "warn" && s != "error" && s != "off")
           throw Bad{"must be one of trace, debug, info, warn, error, off"};
         c.log.level = s;
       }},
      {"log.json", [](Config& c, Value const& v) { c.log.json = as_bool(v); }},
      {"visitors.enabled", [](Config& c, Value const& v) { c.visitors.enabled = as_bool(v); }},
      {"visitors.retention_s",
       [](Config& c, Value const& v) { c.visitors.retention_s = static_cast<int>(as_int(v, 300, 400 * 86400)); }},
      {"visitors.quiet_s", [](Config& c, Value const& v) { c.visitors.quiet_s = static_cast<int>(as_int(v, 60, 86400)); }},
      {"visitors.linger_s", [](Config& c, Value const& v) { c.visitors.linger_s = static_cast<int>(as_int(v, 1, 600)); }},
      {"visitors.presence_ttl_s",
       [](Config& c, Value const& v) { c.visitors.presence_ttl_s = static_cast<int>(as_int(v, 10, 3600)); }},
      {"visitors.checkout_paths", [](Config& c, Value const& v) { c.visitors.checkout_paths = as_list(v); }},
      {"visitors.page_events_per_min",
       [](Config& c, Value const& v) { c.visitors.page_events_per_min = static_cast<int>(as_int(v, 1, 6000)); }},
      {"visitors.page_events_burst",
       [](Config& c, Value const& v) { c.visitors.page_events_burst = static_cast<int>(as_int(v, 1, 1000)); }},
      {"invitations.enabled", [](Config& c, Value const& v) { c.invitations.enabled = as_bool(v); }},
      {"invitations.per_visit",
       [](Config& c, Value const& v) { c.invitations.per_visit = static_cast<int>(as_int(v, 0, 100)); }},
      {"invitations.min_gap_s",
       [](Config& c, Value const& v) { c.invitations.min_gap_s = static_cast<int>(as_int(v, 0, 86400)); }},
      {"invitations.manual_text",
       [](Config& c, Value const& v) {
         c.invitations.manual_text = as_string(v);
         if (c.invitations.manual_text.empty() || c.invitations.manual_text.size() > 2000)
           throw Bad{"must be 1 to 500 characters"};
       }},
      {"metrics.window_s",
       [](Config& c, Value const& v) { c.metrics.window_s = static_cast<int>(as_int(v, 60, 86400)); }},
      {"metrics.time_zone", [](Config& c, Value const& v) { c.metrics.time_zone = as_string(v); }},
      {"metrics.public",
       [](Config& c, Value const& v) { c.metrics.prometheus_public = as_bool(v); }},
      {"metrics.token", [](Config& c, Value const& v) { c.metrics.prometheus_token = as_string(v); }},
  };
  return table;
}

void apply(Config& c, std::string const& key, Value const& v, std::string const& source) {
  auto it = setters().find(key);
  if (it == setters().end()) throw ConfigError(source, key, "unknown setting");
  try {
    it->second(c, v);
  } catch (Bad const& b) {
    throw ConfigError(source, key, b.reason);
  }
}

Value from_toml(toml::node const& n, std::string const& source, std::string const& key) {
  if (auto s = n.value_exact<std::string>()) return *s;
  if (auto i = n.value_exact<std::int64_t>()) return *i;
  if (auto d = n.value_exact<double>()) return *d;
  if (auto b = n.value_exact<bool>()) return *b;
  if (auto const* arr = n.as_array()) {
    std::vector<std::string> out;
    for (auto const& item : *arr) {
      auto s = item.value_exact<std::string>();
      if (!s) throw ConfigError(source, key, "expected a list of strings");
      out.push_back(*s);
    }
    return out;
  }
  throw ConfigError(source, key, "unsupported value type");
}

// Reads a time zone from the system's zone files (Debian's tzdata).
core::TimeZone load_zone(std::string const& name, std::string const& source, std::string const& key) {
  if (name == "UTC" || name == "Etc/UTC") return core::TimeZone::utc();
  bool safe = !name.empty() && name.find("..") == std::string::npos && name.front() != '/';
  std::ifstream in(safe ? "/usr/share/zoneinfo/" + name : std::string(), std::ios::binary);
  if (!safe || !in) throw ConfigError(source, key, "unknown time zone '" + name + "'");
  std::stringstream bytes;
  bytes << in.rdbuf();
  auto tz = core::TimeZone::from_tzif(bytes.str());
  if (!tz) throw ConfigError(source, key, "'" + name + "' is not a time zone file");
  return *tz;
}

// [sla.default] / [sla.TEAM] / [sla.TEAM.PRIORITY]
void load_sla(Config& c, std::string const& source, std::string const& name, toml::table const& table) {
  auto base = "sla." + name;
  core::SlaPolicy p = c.sla.count(name) ? c.sla[name] : c.sla["default"];
  p.name = name;
  for (auto const& [key, value] : table) {
    std::string k(key.str());
    if (value.as_table()) {
      load_sla(c, source, name + "." + k, *value.as_table());
      continue;
    }
    auto v = from_toml(value, source, base + "." + k);
    try {
      if (k == "first_response_s") p.first_response = as_int(v, 0, 30 * 86400) * 1000;
      else if (k == "next_response_s") p.next_response = as_int(v, 0, 30 * 86400) * 1000;
      else if (k == "resolution_s") p.resolution = as_int(v, 0, 365 * 86400) * 1000;
      else if (k == "warning_ratio") p.warning_ratio = as_double(v, 0.05, 1.0);
      else throw ConfigError(source, base + "." + k, "unknown setting");
    } catch (Bad const& b) {
      throw ConfigError(source, base + "." + k, b.reason);
    }
  }
  c.sla[name] = p;
}

void load_team(Config& c, std::string const& source, std::string const& name, toml::node const& node) {
  std::string base = "teams." + name;
  auto const* table = node.as_table();
  if (!table) throw ConfigError(source, base, "expected a [teams." + name + "] table");
  Config::Team team;
  for (auto const& [key, value] : *table) {
    std::string k(key.str());
    std::string full = base + "." + k;
    auto v = from_toml(value, source, full);
    try {
      if (k == "time_zone") team.time_zone = as_string(v);
      else if (k == "hours") team.hours = as_list(v);
      else if (k == "days_off") team.days_off = as_list(v);
      else throw ConfigError(source, full, "unknown setting");
    } catch (Bad const& b) {
      throw ConfigError(source, full, b.reason);
    }
  }
  team.zone = load_zone(team.time_zone, source, base + ".time_zone");
  for (auto const& rule : team.hours) {
    std::string why;
    if (!team.business.add_rule(rule, &why)) throw ConfigError(source, base + ".hours", why);
  }
  for (auto const& day : team.days_off) {
    if (day.size() != 10 || !core::parse_rfc3339(day + "T00:00:00Z"))
      throw ConfigError(source, base + ".days_off", "expected dates as YYYY-MM-DD, got '" + day + "'");
  }
  team.business.days_off = team.days_off;
  c.teams[name] = std::move(team);
}

// [invitations.rules.NAME]: when the widget shows an invitation by itself.
void load_rule(Config& c, std::string const& source, std::string const& name, toml::node const& node) {
  std::string base = "invitations.rules." + name;
  auto const* table = node.as_table();
  if (!table) throw ConfigError(source, base, "expected a [" + base + "] table");
  bool named_well = !name.empty() && name.size() <= 64 && name != "manual" &&
                    std::all_of(name.begin(), name.end(), [](char ch) {
                      return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
                    });
  if (!named_well) throw ConfigError(source, base, "a rule's name is 1..64 of a-z, 0-9, '_' and '-' (not 'manual')");
  core::InvitationRule rule;
  rule.name = name;
  for (auto const& [key, value] : *table) {
    std::string k(key.str());
    std::string full = base + "." + k;
    auto v = from_toml(value, source, full);
    try {
      if (k == "page") rule.page = as_string(v);
      else if (k == "time_on_page_s") rule.time_on_page = as_int(v, 0, 86400) * 1000;
      else if (k == "pages_seen") rule.pages_seen = as_int(v, 0, 10'000);
      else if (k == "cart_value") rule.cart_value = as_double(v, 0, 1e9);
      else if (k == "returning") {
        auto r = as_string(v);
        if (r == "any") rule.returning = core::InvitationRule::Returning::any;
        else if (r == "yes") rule.returning = core::InvitationRule::Returning::yes;
        else if (r == "no") rule.returning = core::InvitationRule::Returning::no;
        else throw Bad{"must be any, yes or no"};
      } else if (k == "team") rule.team = as_string(v);
      else if (k == "team_online") rule.team_online = as_bool(v);
      else if (k == "business_hours") rule.business_hours = as_bool(v);
      else if (k == "text") rule.text = as_string(v);
      else throw ConfigError(source, full, "unknown setting");
    } catch (Bad const& b) {
      throw ConfigError(source, full, b.reason);
    }
  }
  if (rule.text.empty() || rule.text.size() > 2000) throw ConfigError(source, base + ".text", "must be 1 to 500 characters");
  c.invitations.rules.push_back(std::move(rule));
}

}  // namespace

ConfigError::ConfigError(std::string src, std::string k, std::string why)
    : std::runtime_error(src + ": " + k + ": " + why), source(std::move(src)), key(std::move(k)),
      reason(std::move(why)) {}

core::SlaPolicy const& Config::sla_for(std::string const& team, std::string const& priority) const {
  if (auto it = sla.find(team + "." + priority); it != sla.end()) return it->second;
  if (auto it = sla.find(team); it != sla.end()) return it->second;
  return sla.at("default");
}

core::SlaDeadlines Config::sla_deadlines(core::SlaPolicy const& policy, std::string const& team,
                                         core::Millis from) const {
  auto it = teams.find(team);
  if (it == teams.end()) return core::sla_deadlines(policy, core::BusinessHours{}, core::TimeZone::utc(), from);
  return core::sla_deadlines(policy, it->second.business, it->second.zone, from);
}

std::optional<core::SlaDeadline> Config::business_wait(std::string const& team, core::SlaMetric metric,
                                                       core::Millis target, double warning_ratio,
                                                       core::Millis from) const {
  auto it = teams.find(team);
  if (it == teams.end() || it->second.business.empty()) return std::nullopt;
  core::SlaPolicy policy{"", 0, 0, 0, warning_ratio};
  if (metric == core::SlaMetric::first_response) policy.first_response = target;
  else if (metric == core::SlaMetric::next_response) policy.next_response = target;
  else policy.resolution = target;
  return core::sla_deadline(policy, metric, it->second.business, it->second.zone, from);
}

core::RoutingRules Config::routing_rules() const {
  core::RoutingRules r;
  r.strategy = routing.strategy;
  r.offer_timeout = routing.offer_timeout_s * 1000LL;
  r.decline_cooldown = routing.decline_cooldown_s * 1000LL;
  r.grace = routing.agent_grace_s * 1000LL;
  return r;
}

bool parse_listen(std::string const& text, std::string& host, std::uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  unsigned p = 0;
  auto const* first = text.data() + colon + 1;
  auto const* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, p);
  if (ec != std::errc{} || end != last || p > 65535 || first == last) return false;
  host = h.empty() ? "0.0.0.0" : h;
  port = static_cast<std::uint16_t>(p);
  return true;
}

void apply_setting(Config& c, std::string const& key, std::string const& value, std::string const& source) {
  apply(c, key, Value{value}, source);
}

Config load_config(std::string const& path, std::map<std::string, std::string> const& env) {
  Config c;
  if (!path.empty()) {
    toml::table root;
    try {
      root = toml::parse_file(path);
    } catch (toml::parse_error const& e) {
      auto const& where = e.source().begin;
      throw ConfigError(path, "line " + std::to_string(where.line) + ", column " + std::to_string(where.column),
                        std::string(e.description()));
    }
    for (auto const& [section, node] : root) {
      auto const* table = node.as_table();
      if (!table) throw ConfigError(path, std::string(section.str()), "expected a [section]");
      if (section.str() == "teams") {
        for (auto const& [name, team_node] : *table) load_team(c, path, std::string(name.str()), team_node);
        continue;
      }
      if (section.str() == "invitations") {
        for (auto const& [key, value] : *table) {
          std::string full = "invitations." + std::string(key.str());
          if (key.str() != "rules") {
            apply(c, full, from_toml(value, path, full), path);
            continue;
          }
          auto const* rules = value.as_table();
          if (!rules) throw ConfigError(path, full, "expected [invitations.rules.NAME] tables");
          for (auto const& [name, rule] : *rules) load_rule(c, path, std::string(name.str()), rule);
        }
        continue;
      }
      if (section.str() == "sla") {
        if (auto const* d = table->get_as<toml::table>("default")) load_sla(c, path, "default", *d);
        for (auto const& [name, sla_node] : *table) {
          if (!sla_node.as_table()) throw ConfigError(path, "sla." + std::string(name.str()), "expected a table");
          if (name.str() != "default") load_sla(c, path, std::string(name.str()), *sla_node.as_table());
        }
        continue;
      }
      for (auto const& [key, value] : *table) {
        std::string full = std::string(section.str()) + "." + std::string(key.str());
        apply(c, full, from_toml(value, path, full), path);
      }
    }
  }
  // EXCEED_REDIS_URL -> redis.url: the first underscore after the section
  // separates section and key, the rest belong to the key.
  for (auto const& [name, value] : env) {
    if (name.rfind("EXCEED_", 0) != 0 || name == "EXCEED_CONFIG") continue;
    std::string rest = name.substr(7);
    auto sep = rest.find('_');
    if (sep == std::string::npos) continue;
    std::string key;
    for (char ch : rest.substr(0, sep)) key += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    key += '.';
    for (char ch : rest.substr(sep + 1)) key += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    // Variables of other tools may share the prefix: only known sections count.
    auto section = key.substr(0, key.find('.'));
    if (section != "server" && section != "redis" && section != "auth" && section != "routing" &&
        section != "limits" && section != "log" && section != "followups" && section != "tickets" &&
        section != "assessment" && section != "metrics" && section != "visitors" && section != "invitations" &&
        section != "webhooks" && section != "attachments" && section != "mail")
      continue;
    apply(c, key, Value{value}, "environment " + name);
  }
  c.metrics.zone = load_zone(c.metrics.time_zone, path.empty() ? "environment" : path, "metrics.time_zone");
  return c;
}

void validate_store(Config const& c, std::string const& source) {
  if (c.redis.cluster.empty()) return;
  if (!c.redis.sentinels.empty())
    throw ConfigError(source, "redis.cluster", "and redis.sentinels exclude each other: a cluster fails over by itself");
  // store::hash_tag answers the whole key when it holds no tag Redis would hash instead.
  if (store::hash_tag(c.redis.prefix).size() == c.redis.prefix.size())
    throw ConfigError(source, "redis.prefix",
                      "must hold a hash tag on a cluster, e.g. \"{exceed}:\", so that every step's keys share a slot");
}

void validate(Config const& c, std::string const& source) {
  validate_store(c, source);
  if (c.auth.token_secret.size() < 16)
    throw ConfigError(source, "auth.token_secret",
                      "must be set to at least 16 characters (or EXCEED_AUTH_TOKEN_SECRET)");
  if (c.server.tls_cert.empty() != c.server.tls_key.empty())
    throw ConfigError(source, "server.tls_cert", "tls_cert and tls_key must be given together");
  if (c.auth.require_identity && c.auth.identity_secret.empty())
    throw ConfigError(source, "auth.require_identity", "needs auth.identity_secret");
  if (c.limits.burst < 1) throw ConfigError(source, "limits.burst", "must be at least 1");
  if (c.attachments.storage == "s3" && (c.attachments.s3_endpoint.empty() || c.attachments.s3_bucket.empty() ||
                                        c.attachments.s3_access_key.empty() || c.attachments.s3_secret_key.empty()))
    throw ConfigError(source, "attachments.storage",
                      "s3 needs attachments.s3_endpoint, s3_bucket, s3_access_key and s3_secret_key");
  if (c.mail.enabled) {
    if (c.mail.smtp_url.empty()) throw ConfigError(source, "mail.smtp_url", "is needed when mail.enabled is true");
    if (c.mail.from.find('@') == std::string::npos)
      throw ConfigError(source, "mail.from", "must be an address (\"Support <support@shop.example>\")");
    if (c.mail.reply_address.find('@') == std::string::npos || c.mail.reply_address.find_first_of("<> +\"") != std::string::npos)
      throw ConfigError(source, "mail.reply_address", "must be a bare address without '+' (reply@shop.example)");
  }
  if (!c.mail.inbound_secret.empty() && c.mail.inbound_secret.size() < 16)
    throw ConfigError(source, "mail.inbound_secret", "must be at least 16 characters");
  if (!c.metrics.prometheus_token.empty() && c.metrics.prometheus_token.size() < 16)
    throw ConfigError(source, "metrics.token", "must be at least 16 characters");
}

}  // namespace exceed::app
