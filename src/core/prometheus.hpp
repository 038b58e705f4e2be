// Operators' metrics in the Prometheus text exposition format (0.0.4).
// Pure bookkeeping: a family per metric name, a series per label set, and
// render() for GET /metrics. Series are found once and kept (the returned
// references stay valid), so the hot path adds to a double and allocates
// nothing.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace exceed::core::prom {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Histogram {
  std::vector<double> bounds;   // upper bounds, ascending (+Inf is implied)
  std::vector<double> counts;   // per bucket, not cumulative; one more than bounds
  double sum = 0;
  double count = 0;
  void observe(double v);
};

class Registry {
 public:
  enum class Type { counter, gauge, histogram };

  // Declares a family; series of an undeclared family cannot be made.
  void describe(std::string name, Type type, std::string help, std::vector<double> buckets = {});

  // The series of `name` with `labels`, made at zero on first use.
  double& counter(std::string_view name, Labels const& labels = {});
  double& gauge(std::string_view name, Labels const& labels = {});
  Histogram& histogram(std::string_view name, Labels const& labels = {});
  // Drops every series of a gauge family (before setting a fresh reading of
  // a labelled gauge, so a team that went away stops being reported).
  void clear(std::string_view name);

  std::string render() const;

 private:
  struct Family {
    Type type;
    std::string help;
    std::vector<double> buckets;
    std::map<std::string, double> values;         // rendered labels -> value
    std::map<std::string, Histogram> histograms;  // rendered labels -> histogram
  };
  Family& family(std::string_view name, Type type);
  std::map<std::string, Family, std::less<>> families_;
};

// `{a="x",b="y"}` with values escaped; empty for no labels.
std::string render_labels(Labels const& labels);
// Prometheus's float spelling: shortest round-trip, +Inf, -Inf, NaN.
std::string format_value(double v);

}  // namespace exceed::core::prom
