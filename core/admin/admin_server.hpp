// The admin API as a daemon extension: opens the admin database, reads the operator token,
// serves HTTP on admin.bind from the daemon's loop.
#pragma once

#include <memory>

#include "config/config.hpp"
#include "daemon/daemon.hpp"

namespace vumi::admin {

// An extension serving the API; with config.admin unset it does nothing.
std::shared_ptr<transport::DaemonExtension> make_admin_extension();

}  // namespace vumi::admin
