// Timestamps for short durations on the data path (each step's time). Where the kernel itself keeps
// time with the CPU's time-stamp counter (clocksource "tsc": invariant, and the cores' counters
// within a few ticks of each other), a read is that counter, about 10 ns; elsewhere it is
// steady_clock, about 25 ns through the vDSO in a VM. A two-step chain reads the clock four times
// per event. Not for times of day, nor for use in static initialisers (the choice of counter is
// made in one).
#pragma once

#include <chrono>
#include <cstdint>

namespace vumi {

class CycleClock {
 public:
  using Ticks = std::uint64_t;

  // Now, in ticks: only the difference of two reads means anything.
  static Ticks now() noexcept {
#if defined(__x86_64__)
    if (uses_tsc_) return __builtin_ia32_rdtsc();
#endif
    return static_cast<Ticks>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  // The difference of two now()s, in seconds; 0 when the second read was before the first (reads on
  // two cores whose counters differ by a few ticks).
  static double seconds(Ticks elapsed) noexcept {
    if (static_cast<std::int64_t>(elapsed) < 0) return 0;
    return static_cast<double>(elapsed) * seconds_per_tick();
  }
  // Whether ticks are the time-stamp counter's (else steady_clock's).
  static bool uses_tsc() noexcept {
    return uses_tsc_;
  }

 private:
  // The counter's period, measured against steady_clock from process start over at least 10 ms.
  static double seconds_per_tick() noexcept;
  static const bool uses_tsc_;
};

}  // namespace vumi
