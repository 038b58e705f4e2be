// Consistency of service over time: "constantly and consistently" exceeding
// the customer's needs. A steady 70% exceeded beats 95% one week and 40%
// the next; so beside the shares, the spread of the exceeded share across
// days or weeks. Pure.
#pragma once

#include "core/assessment.hpp"

#include <optional>
#include <vector>

namespace exceed::core {

struct AssessedConversation {
  Millis resolved_at = 0;
  Level level = Level::met;
  std::optional<Millis> first_response;
};

struct ConsistencyBucket {
  Millis start = 0;
  int conversations = 0, exceeded = 0, met = 0, below = 0;
  double exceeded_share = 0;
};

struct Consistency {
  int conversations = 0;
  double exceeded_share = 0, met_share = 0, below_share = 0;
  std::vector<ConsistencyBucket> buckets;  // only buckets with conversations, in time order
  double spread_stddev = 0;                // of the buckets' exceeded shares (population)
  double spread_min = 0, spread_max = 0;
  std::optional<Millis> first_response_p50, first_response_p90;
};

// `bucket` is the bucket length in ms (a day, a week); buckets start at
// multiples of it since the epoch, shifted by `offset` (a time zone's UTC
// offset in ms, so days start at local midnight).
Consistency consistency(std::vector<AssessedConversation> const& items, Millis bucket, Millis offset = 0);

// The p-th percentile (0..100) by nearest rank; nullopt when empty.
std::optional<Millis> percentile(std::vector<Millis> values, double p);

}  // namespace exceed::core
