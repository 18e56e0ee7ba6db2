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

// Both clocks at process start: the period is measured from here, with no wait in a daemon (its
// first step comes long after), and at most 10 ms of it in a program that times a step at once.
const Steady::time_point kSteadyAtStart = Steady::now();
const CycleClock::Ticks kTicksAtStart = CycleClock::now();

double measure_seconds_per_tick() {
  if (!CycleClock::uses_tsc()) return std::chrono::duration<double>(Steady::duration(1)).count();
  constexpr auto kWindow = std::chrono::milliseconds(10);
  for (;;) {
    const Steady::time_point steady = Steady::now();
    const CycleClock::Ticks ticks = CycleClock::now();
    if (steady - kSteadyAtStart >= kWindow && ticks > kTicksAtStart) {
      return std::chrono::duration<double>(steady - kSteadyAtStart).count() /
             static_cast<double>(ticks - kTicksAtStart);
    }
  }
}

}  // namespace

double CycleClock::seconds_per_tick() noexcept {
  static const double period = measure_seconds_per_tick();
  return period;
}

}  // namespace vumi
