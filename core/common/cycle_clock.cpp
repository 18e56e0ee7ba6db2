#include "common/cycle_clock.hpp"

#include <fstream>
#include <string>

namespace vumi {

namespace {

using Steady = std::chrono::steady_clock;

// The kernel trusts the counter only when it is invariant and synchronised; then it is its clock.
bool kernel_keeps_time_with_tsc() {
#if defined(__x86_64__)
  std::ifstream file("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string source;
  return std::getline(file, source) && source == "tsc";
#else
  return false;
#endif
}

}  // namespace

const bool CycleClock::uses_tsc_ = kernel_keeps_time_with_tsc();

namespace {

// Both clocks at one moment: the counter read between two steady reads close together (a thread
// preempted between the reads would put its pause into the period), their midpoint.
struct Pair {
  Steady::time_point steady;
  CycleClock::Ticks ticks;
};

Pair read_pair() {
  Pair best{};
  Steady::duration best_gap = Steady::duration::max();
  for (int attempt = 0; attempt < 100; ++attempt) {
    const Steady::time_point before = Steady::now();
    const CycleClock::Ticks ticks = CycleClock::now();
    const Steady::time_point after = Steady::now();
    if (after - before < best_gap) {
      best_gap = after - before;
      best = {before + (after - before) / 2, ticks};
      if (best_gap < std::chrono::microseconds(2)) break;
    }
  }
  return best;
}

// Taken at process start: the period is measured from here, with no wait in a daemon (its first
// step comes long after), and at most 10 ms of it in a program that times a step at once.
const Pair kAtStart = read_pair();

double measure_seconds_per_tick() {
  constexpr double kSteadyPeriod = std::chrono::duration<double>(Steady::duration(1)).count();
  if (!CycleClock::uses_tsc()) return kSteadyPeriod;
  // Bounded: the window is steady_clock's, which always advances.
  while (Steady::now() - kAtStart.steady < std::chrono::milliseconds(10)) {
  }
  const Pair now = read_pair();
  // A counter gone backwards since start has no period to measure: its ticks are read as nanoseconds.
  if (now.ticks <= kAtStart.ticks) return kSteadyPeriod;
  return std::chrono::duration<double>(now.steady - kAtStart.steady).count() /
         static_cast<double>(now.ticks - kAtStart.ticks);
}

}  // namespace

double CycleClock::seconds_per_tick() noexcept {
  static const double period = measure_seconds_per_tick();
  return period;
}

}  // namespace vumi
