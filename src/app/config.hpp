// Every setting of the server, with its default. Loaded from TOML
// (config/exceed.toml documents each key), then EXCEED_<SECTION>_<KEY>
// environment variables, then command-line flags, later ones winning.
#pragma once

#include "core/assessment.hpp"
#include "core/hours.hpp"
#include "core/response_clock.hpp"
#include "core/router.hpp"
#include "core/visitors.hpp"

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace exceed::app {

struct Config {
  struct Server {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    bool reuse_port = false;
    std::string web_root = "web";
    std::vector<std::string> allowed_origins;  // empty: own address and localhost
    bool allow_missing_origin = true;
    // Names this server answers for in Host (besides loopback names, IP
    // addresses and the hosts of allowed_origins): a browser page on any
    // other name is refused (DNS rebinding).
    std::vector<std::string> public_hosts;
    // Proxies (addresses or ranges, "10.0.0.0/8") whose X-Forwarded-For
    // names the client (its last entry), for the per-address limits and logs.
    std::vector<std::string> trusted_proxies;
    std::string tls_cert;
    std::string tls_key;
    // TLS 1.2 suites (OpenSSL names): forward-secret AEAD only; TLS 1.3
    // keeps OpenSSL's own (all AEAD with ephemeral keys).
    std::string tls_ciphers =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
    int shutdown_grace_s = 5;
  } server;
  struct Redis {
    std::string url = "redis://127.0.0.1:6379";
    std::string prefix = "exceed:";
    int command_timeout_ms = 5000;
    // Redis Sentinel: "host:port" of each sentinel; when set, the primary is
    // the one they name for master_name (url then gives credentials and db).
    std::vector<std::string> sentinels;
    std::string master_name = "mymaster";
    // Redis Cluster: "host:port" (or redis:// URLs, for credentials) of some
    // of its nodes; when set, the cluster takes the place of url (see
    // docs/CLUSTER.md), and prefix must hold a hash tag ("{exceed}:").
    std::vector<std::string> cluster;
    // Group commit: the messages of one turn of the event loop stored by one
    // script call (store::Db::grouped). Off: one call per message.
    bool group_commit = true;
    // The scripts as one Redis Functions library (FCALL), the prelude
    // evaluated once; off: EVALSHA, the prelude evaluated on every call.
    bool functions = true;
  } redis;
  struct Auth {
    std::string token_secret;
    int token_ttl_s = 12 * 3600;
    int visitor_token_ttl_s = 30 * 24 * 3600;
    int password_iterations = 200'000;
    std::string identity_secret;
    bool require_identity = false;
    // Password guessing: after this many failures a username (an address)
    // waits 1 s, then twice as long after each further failure, at most
    // login_backoff_max_s; failures are forgotten login_window_s after the last.
    int login_free_failures_per_user = 5;
    int login_free_failures_per_address = 20;
    int login_backoff_max_s = 300;
    int login_window_s = 900;
    // Password checks run on this many threads; past hashing_queue checks
    // waiting or running, a login is answered 503 at once (so a flood of
    // guesses cannot make staff wait for minutes).
    int hashing_threads = 2;
    int hashing_queue = 16;
    // A visitor record (and its token) that never started a chat or ticket
    // is dropped after this long.
    int visitor_idle_ttl_s = 30 * 24 * 3600;
  } auth;
  struct Routing {
    core::Strategy strategy = core::Strategy::least_busy;
    std::string default_team = "support";
    int offer_timeout_s = 30;
    int decline_cooldown_s = 120;
    int agent_grace_s = 60;
    int default_capacity = 3;
    bool ticket_when_offline = true;  // a chat started while nobody of its team is online becomes a ticket
  } routing;
  struct Limits {
    std::size_t max_frame_bytes = 64 * 1024;
    std::size_t max_body_bytes = 1024 * 1024;
    double messages_per_s = 10;
    double burst = 30;
    int flood_rejections = 20;
    int invalid_frames = 50;  // bad_request answers per minute before close 4400
    std::size_t out_queue_bytes = 1024 * 1024;
    int ws_idle_timeout_s = 60;
    int hello_timeout_s = 10;
    int header_timeout_s = 10;  // an HTTP request head must arrive within this (slowloris)
    std::size_t max_connections = 19000;
    std::size_t max_connections_per_ip = 256;  // behind a proxy: 0, and limit per client there
    int sessions_per_user = 20;                // WebSocket sessions one user or visitor keeps at once
    int visitors_per_address_per_min = 30;     // POST /api/v1/visitors
    int logins_per_address_per_min = 60;       // POST /api/v1/login, failed or not
    int tickets_per_customer_per_hour = 10;    // tickets a customer opens (REST or a chat kept as a ticket)
  } limits;
  // [teams.<name>]: a team's business hours in its time zone. Teams not
  // listed are always open.
  struct Team {
    std::string time_zone = "UTC";
    std::vector<std::string> hours;     // "mon-fri 09:00-17:00"
    std::vector<std::string> days_off;  // "2026-12-25"
    core::BusinessHours business;       // parsed from the two above
    core::TimeZone zone = core::TimeZone::utc();
  };
  std::map<std::string, Team> teams;
  // [sla.default], [sla.TEAM], [sla.TEAM.PRIORITY]: response targets; the
  // most specific one applies.
  std::map<std::string, core::SlaPolicy> sla{{"default", core::SlaPolicy{"default", 60'000, 120'000, 3'600'000, 0.8}}};
  core::SlaPolicy const& sla_for(std::string const& team, std::string const& priority) const;
  // When `policy`'s targets warn and fall due if they start at `from`,
  // counting the team's business hours (wall clock for a team without).
  core::SlaDeadlines sla_deadlines(core::SlaPolicy const& policy, std::string const& team, core::Millis from) const;
  // When a response wait of `target` (warned at `warning_ratio` of it) that
  // started at `from` warns and falls due in the team's business hours;
  // nullopt for a team without hours, whose waits the wall clock times as
  // the store armed them (from + target).
  std::optional<core::SlaDeadline> business_wait(std::string const& team, core::SlaMetric metric, core::Millis target,
                                                 double warning_ratio, core::Millis from) const;

  struct Assessment {
    std::string rules_file = "config/assessment.toml";  // weights and thresholds; missing: built-in defaults
    core::AssessmentRules rules;
    int csat_window_s = 7 * 86400;  // a late answer (signed link) is taken this long after the resolve
    int reopen_days = 3;            // a customer back with a new chat within this many days: not resolved in one contact
  } assessment;

  struct Tickets {
    int auto_close_after_s = 4 * 86400;  // a solved ticket closes by itself after this
  } tickets;
  struct Followups {
    int check_in_after_s = 3 * 86400;  // 0: no proactive check-in
    std::vector<std::string> check_in_stages{"post_purchase"};  // empty: every resolved chat
    std::string check_in_note = "Check in: did everything work out as the customer needed?";
  } followups;
  struct Webhooks {
    // Receivers the server will not call unless allowed here (the SSRF
    // guard): loopback, private, link-local and metadata addresses. Ranges
    // ("10.20.0.0/16") or addresses let through.
    std::vector<std::string> allowed_ranges;
    bool allow_http = false;    // plain http receivers (https only by default)
    std::string ca_file;        // a CA trusted besides the system's (a private CA)
    int timeout_ms = 10'000;    // one delivery attempt, from connect to the answer
    int retry_first_ms = 1'000; // the wait after the first failure, doubled after each next
    int retry_max_s = 3'600;    // the longest wait between tries
    int disable_after_s = 3 * 86'400;  // failing for this long (nothing delivered): disabled
    int max_in_flight = 16;     // deliveries this process runs at once
    int max_subscriptions = 100;
  } webhooks;
  struct Attachments {
    std::string dir = "var/attachments";  // the local-disk store (content-addressed)
    std::size_t max_bytes = 10 * 1024 * 1024;
    // Types accepted, as sniffed from the content (never the client's word).
    std::vector<std::string> allowed_types{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf",
                                           "text/plain"};
    // ClamAV's daemon: "unix:/run/clamav/clamd.ctl" or "tcp:127.0.0.1:3310";
    // empty: no scan. With it set, a file is stored only once clamd found
    // it clean; clamd unreachable: the upload is refused (503).
    std::string clamd;
    int scan_timeout_ms = 30'000;
    // Where the bytes go: "local" (dir above) or "s3" (an S3-compatible
    // object store, reached by presigned URLs; downloads are redirected to one).
    std::string storage = "local";
    std::string s3_endpoint;  // "https://s3.eu-central-1.amazonaws.com", "http://127.0.0.1:9000"
    std::string s3_bucket;
    std::string s3_region = "us-east-1";
    std::string s3_access_key;
    std::string s3_secret_key;
    int s3_url_ttl_s = 300;
  } attachments;
  // The e-mail channel: agents' public ticket replies, transcripts and CSAT
  // links mailed to customers who left an address (through SMTP, queued in
  // Redis), and their replies read back from POST /api/v1/mail/inbound.
  struct Mail {
    bool enabled = false;
    std::string smtp_url;          // "smtp://mail.shop.example:587" (STARTTLS), "smtps://...:465"
    bool smtp_require_tls = true;  // false only for a relay on this machine
    std::string smtp_username;     // empty: no AUTH
    std::string smtp_password;
    std::string smtp_ca_file;      // a CA trusted besides the system's
    std::string from;              // "Shop support <support@shop.example>"
    // Replies go to reply+<signed ticket token>@shop.example; the operator's
    // mail server hands them to POST /api/v1/mail/inbound.
    std::string reply_address;
    std::string inbound_secret;    // the bearer token of POST /api/v1/mail/inbound; empty: inbound off
    std::string public_url;        // "https://support.shop.example": where links in mails point
    int timeout_ms = 30'000;       // one SMTP transaction
    int retry_first_ms = 5'000;    // the wait after the first failure, doubled after each next
    int retry_max_s = 3'600;
    int give_up_after_s = 2 * 86'400;  // a mail not sent by then is marked failed
    int max_in_flight = 2;             // mails this process sends at once
    // A sent or failed mail (it holds a customer's address and words) and
    // its attempt log are deleted this long after it finished.
    int retention_s = 30 * 86'400;
  } mail;
  // Visitors browsing the shop (app/visitors.hpp): off, nothing is taken
  // from any page and no list is kept.
  struct Visitors {
    bool enabled = true;
    int retention_s = 86400;     // nothing of a visit is kept longer after its last page
    int quiet_s = 1800;          // no page for this long: off the list; the next page starts a new visit
    int linger_s = 20;           // the last tab closed: off the list after this (the next page reconnects)
    int presence_ttl_s = 60;     // a tab's process must say it is still open within this
    std::vector<std::string> checkout_paths{"/checkout*", "*/checkout*"};
    int page_events_per_min = 30;  // per visitor, with a burst of page_events_burst
    int page_events_burst = 10;
  } visitors;
  struct Invitations {
    bool enabled = true;
    int per_visit = 2;
    int min_gap_s = 60;
    std::string manual_text = "Hi! Is there anything we can help you with?";
    std::vector<core::InvitationRule> rules;  // [invitations.rules.NAME]
  } invitations;
  struct Metrics {
    int window_s = 3600;             // the rolling window of the live figures
    std::string time_zone = "UTC";   // where "today" starts for the per-agent figures and report days
    core::TimeZone zone = core::TimeZone::utc();
    // GET /metrics: only with `Authorization: Bearer <token>` (the default;
    // without a token set it answers 401), or open to anyone with public = true.
    bool prometheus_public = false;
    std::string prometheus_token;
  } metrics;
  struct Log {
    std::string level = "info";
    bool json = false;
  } log;

  core::RoutingRules routing_rules() const;
};

// A refused setting: where it came from, which key, and why.
struct ConfigError : std::runtime_error {
  ConfigError(std::string source, std::string key, std::string reason);
  std::string source, key, reason;
};

// Reads `path` (when non-empty; a missing file is an error), then applies
// the environment. Throws ConfigError naming the file (or variable), the
// key and the reason for the first bad setting found.
Config load_config(std::string const& path, std::map<std::string, std::string> const& env);

// Applies one setting given as "section.key" = text (flags and environment).
void apply_setting(Config& c, std::string const& key, std::string const& value, std::string const& source);

// Parses "HOST:PORT" (also "[::1]:PORT" and ":PORT").
bool parse_listen(std::string const& text, std::string& host, std::uint16_t& port);

// Reads assessment.rules_file (config/assessment.toml) into the rules.
void load_assessment_rules(Config& c);

// Cross-field checks done once everything is applied (a token secret is
// set, TLS files come in pairs, ...); validate_store is the part of them
// every command that reaches Redis needs (the command line's too).
void validate(Config const& c, std::string const& source);
void validate_store(Config const& c, std::string const& source);

}  // namespace exceed::app
