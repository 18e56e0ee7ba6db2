// /metrics: the daemon's counters in the Prometheus text exposition format 0.0.4.
#pragma once

#include <string>

#include "daemon/daemon.hpp"

namespace vumi::admin {

// account_labels false folds plugin metrics of all accounts into one series per (plugin, handler, name).
std::string metrics_text(transport::DaemonControl& daemon, bool account_labels);

}  // namespace vumi::admin
