// Scale: a config of many accounts (bench/many_accounts.hpp: one conversation, one tag, two routes
// of two steps each), loaded the way `check` and `run` load it. Writes the config, then measures in
// this process the parse (parse_config) and the build (plugins, validation, handler instances,
// route index), with the resident set size after each. `/usr/bin/time -v vumi-dispatcher check -c
// FILE` and `run` measure the same on the real commands (bench/README.md).
// Usage: many_accounts_bench [ACCOUNTS] [CONFIG_FILE]   (defaults: 100000, a file in /tmp, kept)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "config/config.hpp"
#include "dispatch/runtime.hpp"
#include "many_accounts.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Resident set size now, in MiB (from /proc/self/statm).
double rss_mib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t accounts = argc > 1 ? std::stoul(argv[1]) : 100000;
  const std::filesystem::path file = argc > 2 ? std::filesystem::path(argv[2])
                                              : std::filesystem::temp_directory_path() /
                                                    ("vumi-accounts-" + std::to_string(accounts) + ".json");
  const auto state_dir = std::filesystem::temp_directory_path() / "vumi-many-accounts-state";
  {
    std::ofstream out(file);
    bench_support::write_many_accounts_config(out, accounts, VUMI_PLUGIN_DIR, state_dir.string());
  }
  std::printf("config: %s, %zu accounts, %.1f MiB\n", file.c_str(), accounts,
              static_cast<double>(std::filesystem::file_size(file)) / (1024.0 * 1024.0));
  std::printf("rss at start: %.1f MiB\n", rss_mib());

  auto started = Clock::now();
  auto loaded = vumi::config::load_config_file(file);
  std::printf("parse_config: %.2f s, rss %.1f MiB\n", seconds_since(started), rss_mib());
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::cerr << e.text() << "\n";
    return 1;
  }
  started = Clock::now();
  auto built = vumi::dispatch::Runtime::build(std::move(*loaded.config));
  loaded.config.reset();
  std::printf("Runtime::build: %.2f s, rss %.1f MiB\n", seconds_since(started), rss_mib());
  if (!built) {
    for (const auto& e : built.error()) std::cerr << e.text() << "\n";
    return 1;
  }
  const auto runtime = std::move(built).value();
  std::printf("accounts %zu, routes %zu: %.0f bytes of rss per account\n", runtime->routes().account_count(),
              runtime->routes().route_count(), rss_mib() * 1024 * 1024 / static_cast<double>(accounts));
  std::printf("then: /usr/bin/time -v build-ci/vumi-dispatcher check -c %s\n", file.c_str());
  return 0;
}
