#include <gtest/gtest.h>

#include <array>
#include <cstdint>

#include "dispatch/counters.hpp"

namespace vumi::dispatch {
namespace {

TEST(StepTimings, EachStepCountsOnceAndCumulativeGivesTheStepsAtMostEachBound) {
  StepTimings timings;
  for (double seconds : {0.00005, 0.0001, 0.0003, 0.003, 0.003, 0.9, 2.0}) timings.add(seconds);
  // Bounds: 0.0001 0.00025 0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 1.0 (then +Inf: count).
  const std::array<std::uint64_t, 11> alone{2, 0, 1, 0, 0, 2, 0, 0, 0, 0, 1};
  const std::array<std::uint64_t, 11> at_most{2, 2, 3, 3, 3, 5, 5, 5, 5, 5, 6};
  EXPECT_EQ(timings.buckets, alone);
  EXPECT_EQ(timings.cumulative(), at_most);
  EXPECT_EQ(timings.count, 7u);
  EXPECT_DOUBLE_EQ(timings.sum_seconds, 0.00005 + 0.0001 + 0.0003 + 0.003 + 0.003 + 0.9 + 2.0);
}

}  // namespace
}  // namespace vumi::dispatch
