// Counters, latency histograms and result files of the load generator. Kept
// free of Beast/Asio so it compiles fast and `exceed-loadgen merge` can add up
// the results of several load generator processes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace exceed::bench {

// Log-linear histogram of microseconds: exact below 256 us, then 128
// sub-buckets per power of two (under 1% error). Mergeable by addition.
class Histogram {
 public:
  Histogram();
  void add(std::uint64_t us);
  void merge(Histogram const& other);
  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t max() const noexcept { return max_; }
  // Value (us) at quantile q in [0,1]; 0 when empty.
  double quantile(double q) const;
  std::string serialize() const;  // "count max i:n i:n ..."
  static Histogram parse(std::string const& text);

 private:
  static std::size_t index(std::uint64_t us) noexcept;
  static double value(std::size_t index) noexcept;
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

// One load generator process's result: named numbers (summed, or for keys
// starting with "server_", "redis_", "kernel_", "base_" taken from shard 0)
// and named histograms.
struct Result {
  std::map<std::string, std::string> tags;  // scenario, mode, ...
  std::map<std::string, double> values;
  std::map<std::string, Histogram> hists;

  void write(std::string const& path) const;
  static Result read(std::string const& path);
  void merge(Result const& other);
};

// Reads /proc/<pid>/stat: user+system CPU time in microseconds (0 if gone).
double proc_cpu_us(int pid);
// /proc/<pid>/status VmRSS in bytes (0 if gone).
double proc_rss_bytes(int pid);
// This process's CPU time (user+system) in microseconds.
double self_cpu_us();
// Kernel memory that grows with sockets: TCP buffer pages from
// /proc/net/sockstat (bytes) and Slab from /proc/meminfo (bytes).
double kernel_tcp_mem_bytes();
double kernel_slab_bytes();

// `exceed-loadgen merge FILE...`: adds up the results and prints them.
int merge_main(std::vector<std::string> const& files);
// Prints one result (after merging): a readable block and a RESULT line.
void print_result(Result const& r);

}  // namespace exceed::bench
