// The data path's clock (step timings, the run history's times) must measure what steady_clock
// measures, whichever counter it reads.
#include "common/cycle_clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>

namespace {

using vumi::CycleClock;
using Steady = std::chrono::steady_clock;

TEST(CycleClock, ReadsTheTimeStampCounterExactlyWhenTheKernelKeepsTimeWithIt) {
  std::ifstream file("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string source;
  std::getline(file, source);
#if defined(__x86_64__)
  EXPECT_EQ(CycleClock::uses_tsc(), source == "tsc") << "clocksource: " << source;
#else
  EXPECT_FALSE(CycleClock::uses_tsc());
#endif
}

TEST(CycleClock, MeasuresADurationAsSteadyClockDoes) {
  // The period is measured at the first conversion: here, within the first 10 ms of the process
  // or soon after, as in a short program that times a step at once.
  EXPECT_GT(CycleClock::seconds(1), 0.0);
  // 50 ms by steady_clock, read around the same moments by both clocks; a pause of the machine
  // stretches both alike.
  const CycleClock::Ticks ticks_before = CycleClock::now();
  const Steady::time_point steady_before = Steady::now();
  while (Steady::now() - steady_before < std::chrono::milliseconds(50)) {
  }
  const Steady::time_point steady_after = Steady::now();
  const CycleClock::Ticks ticks_after = CycleClock::now();
  const double steady = std::chrono::duration<double>(steady_after - steady_before).count();
  const double cycle = CycleClock::seconds(ticks_after - ticks_before);
  EXPECT_GE(cycle, steady * 0.95);
  EXPECT_LE(cycle, steady * 1.05);
}

TEST(CycleClock, ASecondReadEarlierThanTheFirstCountsAsNoTime) {
  const CycleClock::Ticks now = CycleClock::now();
  EXPECT_EQ(CycleClock::seconds(now - (now + 3)), 0.0);
  EXPECT_EQ(CycleClock::seconds(0), 0.0);
}

}  // namespace
