#include "core/consistency.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace exceed::core {

std::optional<Millis> percentile(std::vector<Millis> values, double p) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

Consistency consistency(std::vector<AssessedConversation> const& items, Millis bucket, Millis offset) {
  Consistency c;
  std::map<Millis, ConsistencyBucket> by_start;
  std::vector<Millis> first_responses;
  int exceeded = 0, met = 0, below = 0;
  for (auto const& it : items) {
    Millis local = it.resolved_at + offset;
    Millis start = (local >= 0 ? local / bucket : (local - bucket + 1) / bucket) * bucket - offset;
    auto& b = by_start[start];
    b.start = start;
    ++b.conversations;
    switch (it.level) {
      case Level::exceeded: ++b.exceeded, ++exceeded; break;
      case Level::met: ++b.met, ++met; break;
      case Level::below: ++b.below, ++below; break;
    }
    if (it.first_response) first_responses.push_back(*it.first_response);
  }
  c.conversations = static_cast<int>(items.size());
  if (c.conversations > 0) {
    c.exceeded_share = static_cast<double>(exceeded) / c.conversations;
    c.met_share = static_cast<double>(met) / c.conversations;
    c.below_share = static_cast<double>(below) / c.conversations;
  }
  double sum = 0;
  for (auto& [start, b] : by_start) {
    b.exceeded_share = static_cast<double>(b.exceeded) / b.conversations;
    sum += b.exceeded_share;
    c.buckets.push_back(b);
  }
  if (!c.buckets.empty()) {
    double mean = sum / static_cast<double>(c.buckets.size());
    double var = 0;
    c.spread_min = 1;
    c.spread_max = 0;
    for (auto const& b : c.buckets) {
      var += (b.exceeded_share - mean) * (b.exceeded_share - mean);
      c.spread_min = std::min(c.spread_min, b.exceeded_share);
      c.spread_max = std::max(c.spread_max, b.exceeded_share);
    }
    c.spread_stddev = std::sqrt(var / static_cast<double>(c.buckets.size()));
  }
  c.first_response_p50 = percentile(first_responses, 50);
  c.first_response_p90 = percentile(first_responses, 90);
  return c;
}

}  // namespace exceed::core
