#include "stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace exceed::bench {

namespace {
constexpr std::size_t kLinear = 256;
constexpr std::size_t kSub = 128;  // sub-buckets per power of two above kLinear
constexpr std::size_t kBuckets = kLinear + 56 * kSub;

bool shard0_only(std::string const& key) {
  for (char const* p : {"server_", "redis_", "kernel_", "base_", "window_s", "mosq_"})
    if (key.rfind(p, 0) == 0) return true;
  return false;
}
}  // namespace

Histogram::Histogram() : buckets_(kBuckets, 0) {}

std::size_t Histogram::index(std::uint64_t us) noexcept {
  if (us < kLinear) return static_cast<std::size_t>(us);
  int e = 63 - __builtin_clzll(us);  // us >= 256: e >= 8
  std::size_t sub = static_cast<std::size_t>(us >> (e - 7)) & (kSub - 1);
  std::size_t i = kLinear + static_cast<std::size_t>(e - 8) * kSub + sub;
  return std::min(i, kBuckets - 1);
}

double Histogram::value(std::size_t i) noexcept {
  if (i < kLinear) return static_cast<double>(i);
  std::size_t e = (i - kLinear) / kSub + 8;
  std::size_t sub = (i - kLinear) % kSub;
  double lo = std::ldexp(static_cast<double>(kSub + sub), static_cast<int>(e) - 7);
  double width = std::ldexp(1.0, static_cast<int>(e) - 7);
  return lo + width / 2;
}

void Histogram::add(std::uint64_t us) {
  ++buckets_[index(us)];
  ++count_;
  max_ = std::max(max_, us);
}

void Histogram::merge(Histogram const& o) {
  for (std::size_t i = 0; i < kBuckets; ++i) buckets_[i] += o.buckets_[i];
  count_ += o.count_;
  max_ = std::max(max_, o.max_);
}

double Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  auto target = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (target == 0) target = 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= target) return std::min(value(i), static_cast<double>(max_));
  }
  return static_cast<double>(max_);
}

std::string Histogram::serialize() const {
  std::ostringstream o;
  o << count_ << ' ' << max_;
  for (std::size_t i = 0; i < kBuckets; ++i)
    if (buckets_[i]) o << ' ' << i << ':' << buckets_[i];
  return o.str();
}

Histogram Histogram::parse(std::string const& text) {
  Histogram h;
  std::istringstream in(text);
  in >> h.count_ >> h.max_;
  std::string item;
  while (in >> item) {
    auto colon = item.find(':');
    if (colon == std::string::npos) continue;
    auto i = std::stoull(item.substr(0, colon));
    if (i < kBuckets) h.buckets_[i] = std::stoull(item.substr(colon + 1));
  }
  return h;
}

void Result::write(std::string const& path) const {
  std::ofstream out(path);
  for (auto const& [k, v] : tags) out << "tag " << k << ' ' << v << '\n';
  out.precision(17);
  for (auto const& [k, v] : values) out << "val " << k << ' ' << v << '\n';
  for (auto const& [k, h] : hists) out << "hist " << k << ' ' << h.serialize() << '\n';
}

Result Result::read(std::string const& path) {
  Result r;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string kind, key;
    l >> kind >> key;
    std::string rest;
    std::getline(l, rest);
    if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
    if (kind == "tag") r.tags[key] = rest;
    else if (kind == "val") r.values[key] = std::stod(rest);
    else if (kind == "hist") r.hists[key] = Histogram::parse(rest);
  }
  return r;
}

void Result::merge(Result const& o) {
  for (auto const& [k, v] : o.tags)
    if (!tags.count(k)) tags[k] = v;
  for (auto const& [k, v] : o.values) {
    if (shard0_only(k)) {
      if (!values.count(k)) values[k] = v;
    } else if (k.find("_max") != std::string::npos) {
      values[k] = std::max(values[k], v);
    } else {
      values[k] += v;
    }
  }
  for (auto const& [k, h] : o.hists) hists[k].merge(h);
}

namespace {
double ticks_to_us(unsigned long long t) {
  static long const hz = sysconf(_SC_CLK_TCK);
  return static_cast<double>(t) * 1e6 / static_cast<double>(hz);
}
}  // namespace

double proc_cpu_us(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(in, s);
  auto p = s.rfind(')');
  if (p == std::string::npos) return 0;
  std::istringstream l(s.substr(p + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  // Fields after the command: state(3) ... utime(14) stime(15).
  for (int i = 3; i <= 13; ++i) l >> f;
  l >> utime >> stime;
  return ticks_to_us(utime + stime);
}

double proc_rss_bytes(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024;
  return 0;
}

double self_cpu_us() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto us = [](timeval t) { return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec); };
  return us(ru.ru_utime) + us(ru.ru_stime);
}

double kernel_tcp_mem_bytes() {
  std::ifstream in("/proc/net/sockstat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("TCP:", 0) != 0) continue;
    auto p = line.find(" mem ");
    if (p == std::string::npos) return 0;
    return std::stod(line.substr(p + 5)) * static_cast<double>(sysconf(_SC_PAGESIZE));
  }
  return 0;
}

double kernel_slab_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Slab:", 0) == 0) return std::stod(line.substr(5)) * 1024;
  return 0;
}

namespace {
double get(Result const& r, char const* k) {
  auto it = r.values.find(k);
  return it == r.values.end() ? 0 : it->second;
}
std::string tag(Result const& r, char const* k) {
  auto it = r.tags.find(k);
  return it == r.tags.end() ? "" : it->second;
}
void kv(std::ostringstream& line, char const* k, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, " %s=%.6g", k, v);
  line << buf;
}
}  // namespace

// Everything printed here is derived from measured counters; the RESULT line
// is what bench/run collects to take medians.
void print_result(Result const& r) {
  auto scenario = tag(r, "scenario");
  auto mode = tag(r, "mode");
  std::ostringstream line;
  line << "RESULT scenario=" << scenario << " mode=" << mode;
  double window = get(r, "window_s");
  double lg_cpu = get(r, "loadgen_cpu_us");
  double srv_cpu = get(r, "server_cpu_us");
  double redis_cpu = get(r, "redis_cpu_us");
  kv(line, "window_s", window);
  kv(line, "errors", get(r, "errors"));
  if (scenario == "relay") {
    double delivered = get(r, "delivered_c") + get(r, "delivered_a");
    double acked = get(r, "acked_c") + get(r, "acked_a");
    double sent = get(r, "sent_c") + get(r, "sent_a");
    double lost = std::max(0.0, get(r, "acked_c") - get(r, "delivered_c")) +
                  std::max(0.0, get(r, "acked_a") - get(r, "delivered_a"));
    auto const& c2a = r.hists.count("lat_c2a") ? r.hists.at("lat_c2a") : Histogram();
    auto const& ack = r.hists.count("lat_ack") ? r.hists.at("lat_ack") : Histogram();
    kv(line, "offered_per_s", window > 0 ? sent / window : 0);
    kv(line, "delivered_per_s", window > 0 ? delivered / window : 0);
    kv(line, "sent", sent);
    kv(line, "acked", acked);
    kv(line, "delivered", delivered);
    kv(line, "unacked", sent - acked);
    kv(line, "lost", lost);
    kv(line, "dup", get(r, "dup"));
    kv(line, "ooo", get(r, "ooo"));
    kv(line, "p50_us", c2a.quantile(0.5));
    kv(line, "p99_us", c2a.quantile(0.99));
    kv(line, "p999_us", c2a.quantile(0.999));
    kv(line, "max_us", static_cast<double>(c2a.max()));
    kv(line, "ack_p99_us", ack.quantile(0.99));
    kv(line, "server_cpu_us_per_msg", delivered > 0 ? srv_cpu / delivered : 0);
    kv(line, "redis_cpu_us_per_msg", delivered > 0 ? redis_cpu / delivered : 0);
    kv(line, "server_cpu_pct", window > 0 ? srv_cpu / window / 1e4 : 0);
    kv(line, "redis_cpu_pct", window > 0 ? redis_cpu / window / 1e4 : 0);
    kv(line, "loadgen_cpu_pct", window > 0 ? lg_cpu / window / 1e4 : 0);
    kv(line, "server_rss_mb", get(r, "server_rss_end") / 1048576.0);
    kv(line, "closed", get(r, "closed"));
    if (get(r, "after_s") > 0) {
      // The window after the measured one (--after-rate): delivery and
      // latency once the offered load fell back.
      auto const& after = r.hists.count("lat_after") ? r.hists.at("lat_after") : Histogram();
      kv(line, "after_offered_per_s", get(r, "sent_after") / get(r, "after_s"));
      kv(line, "after_delivered_per_s", get(r, "delivered_after") / get(r, "after_s"));
      kv(line, "after_p50_us", after.quantile(0.5));
      kv(line, "after_p99_us", after.quantile(0.99));
      // The first second of the after window from which every second's p99
      // stays under 50 ms: how long the backlog of the overload took to go.
      int const seconds = static_cast<int>(get(r, "after_s"));
      int recovered = -1;
      for (int i = seconds - 1; i >= 0; --i) {
        char key[32];
        std::snprintf(key, sizeof key, "lat_after_s%03d", i);
        auto it = r.hists.find(key);
        if (it == r.hists.end() || it->second.count() == 0 || it->second.quantile(0.99) >= 50'000) break;
        recovered = i;
      }
      kv(line, "after_recovered_s", recovered);
    }
  } else if (scenario == "idle") {
    double n = get(r, "sessions");
    double d_rss = get(r, "server_rss_full") - get(r, "base_rss");
    kv(line, "sessions", n);
    kv(line, "base_rss_mb", get(r, "base_rss") / 1048576.0);
    kv(line, "full_rss_mb", get(r, "server_rss_full") / 1048576.0);
    kv(line, "rss_bytes_per_session", n > 0 ? d_rss / n : 0);
    // Both ends of each loopback connection live in this kernel: the tcp
    // buffers and slab deltas are split evenly between them.
    kv(line, "kernel_tcp_bytes_per_session", n > 0 ? (get(r, "kernel_tcp_full") - get(r, "base_kernel_tcp")) / n / 2 : 0);
    kv(line, "kernel_slab_bytes_per_session", n > 0 ? (get(r, "kernel_slab_full") - get(r, "base_kernel_slab")) / n / 2 : 0);
    kv(line, "connect_s", get(r, "connect_s_max"));
  } else if (scenario == "storm") {
    double n = get(r, "assigned");
    auto const& h = r.hists.count("lat_assign") ? r.hists.at("lat_assign") : Histogram();
    kv(line, "customers", get(r, "customers"));
    kv(line, "welcomed", get(r, "welcomed"));
    kv(line, "assigned", n);
    kv(line, "connect_per_s", get(r, "connect_s_max") > 0 ? get(r, "welcomed") / get(r, "connect_s_max") : 0);
    kv(line, "assigned_per_s", get(r, "assign_s_max") > 0 ? n / get(r, "assign_s_max") : 0);
    kv(line, "assign_p50_ms", h.quantile(0.5) / 1000);
    kv(line, "assign_p99_ms", h.quantile(0.99) / 1000);
    kv(line, "server_cpu_us_per_chat", n > 0 ? srv_cpu / n : 0);
    kv(line, "redis_cpu_us_per_chat", n > 0 ? redis_cpu / n : 0);
    kv(line, "loadgen_cpu_pct", window > 0 ? lg_cpu / window / 1e4 : 0);
  } else if (scenario == "resume") {
    auto const& h = r.hists.count("lat_resume") ? r.hists.at("lat_resume") : Histogram();
    kv(line, "clients", get(r, "clients"));
    kv(line, "resumed", get(r, "resumed"));
    kv(line, "expected_msgs", get(r, "expected_msgs"));
    kv(line, "got_msgs", get(r, "got_msgs"));
    kv(line, "missing", get(r, "expected_msgs") - get(r, "got_msgs"));
    kv(line, "dup", get(r, "dup"));
    kv(line, "all_resumed_s", get(r, "resume_s_max"));
    kv(line, "resumed_per_s", get(r, "resume_s_max") > 0 ? get(r, "resumed") / get(r, "resume_s_max") : 0);
    kv(line, "resume_p50_ms", h.quantile(0.5) / 1000);
    kv(line, "resume_p99_ms", h.quantile(0.99) / 1000);
    kv(line, "server_cpu_us_per_client", get(r, "resumed") > 0 ? srv_cpu / get(r, "resumed") : 0);
  } else if (scenario == "browse") {
    // Per visitor: the server's CPU share of a core and memory; per console:
    // what the live list costs it to receive.
    double n = get(r, "visitors");
    double consoles = get(r, "consoles");
    double pages = get(r, "pages_sent");
    auto const& h = r.hists.count("lat_console") ? r.hists.at("lat_console") : Histogram();
    kv(line, "visitors", n);
    kv(line, "consoles", consoles);
    kv(line, "pages_per_s", window > 0 ? pages / window : 0);
    kv(line, "server_cpu_pct", window > 0 ? srv_cpu / window / 1e4 : 0);
    kv(line, "redis_cpu_pct", window > 0 ? redis_cpu / window / 1e4 : 0);
    kv(line, "loadgen_cpu_pct", window > 0 ? lg_cpu / window / 1e4 : 0);
    kv(line, "server_cpu_us_per_page", pages > 0 ? srv_cpu / pages : 0);
    kv(line, "server_cpu_us_per_visitor_s", n > 0 && window > 0 ? srv_cpu / window / n : 0);
    kv(line, "base_rss_mb", get(r, "base_rss") / 1048576.0);
    kv(line, "server_rss_mb", get(r, "server_rss_end") / 1048576.0);
    kv(line, "rss_bytes_per_visitor", n > 0 ? (get(r, "server_rss_end") - get(r, "base_rss")) / n : 0);
    kv(line, "console_frames_per_s", consoles > 0 && window > 0 ? get(r, "console_frames") / consoles / window : 0);
    kv(line, "console_rows_per_s", consoles > 0 && window > 0 ? get(r, "console_rows") / consoles / window : 0);
    kv(line, "console_kb_per_s", consoles > 0 && window > 0 ? get(r, "console_bytes") / consoles / window / 1024 : 0);
    kv(line, "console_frame_rows_max", get(r, "console_frame_rows_max"));
    kv(line, "console_frame_kb_max", get(r, "console_frame_bytes_max") / 1024);
    kv(line, "console_p50_ms", h.quantile(0.5) / 1000);
    kv(line, "console_p99_ms", h.quantile(0.99) / 1000);
  }
  std::cout << line.str() << std::endl;
}

int merge_main(std::vector<std::string> const& files) {
  if (files.empty()) {
    std::cerr << "exceed-loadgen merge: no result files\n";
    return 2;
  }
  Result total;
  for (auto const& f : files) total.merge(Result::read(f));
  print_result(total);
  return 0;
}

}  // namespace exceed::bench
