// `vumi-dispatcher run`: the ingest and outbound sockets, the dispatcher and the signals on one
// Boost.Asio loop.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dispatch/runtime.hpp"

namespace vumi::transport {

// Loads the config and builds its runtime; on failure returns null and appends every error.
// Called once at start and again on each SIGHUP.
using RuntimeLoader =
    std::function<std::shared_ptr<const dispatch::Runtime>(std::vector<std::string>& errors)>;

struct DaemonOptions {
  RuntimeLoader load;
  std::optional<unsigned> status_interval_s;  // overrides the config's status_interval_s; 0: none
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions options);
  ~Daemon();

  // Starts everything, or fails before anything is half-started (config errors, state dir,
  // endpoints: logged, exit code 1). Then runs until SIGINT/SIGTERM and returns 0 after draining.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vumi::transport
