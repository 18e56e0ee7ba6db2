// The admin HTTP API (docs/admin-api.md): accounts, their conversations, tags, handler instances
// and routes, changed live one account at a time; plugins; tokens; versions and rollback;
// /metrics and /healthz. Every handler runs on the daemon's loop, between dispatch batches.
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <memory>
#include <string>

#include "admin/http_server.hpp"
#include "config/config.hpp"
#include "daemon/admin_store.hpp"
#include "daemon/daemon.hpp"

namespace vumi::admin {

class AdminApi {
 public:
  // store holds the API's accounts and tokens; operator_token empty: none configured.
  AdminApi(transport::DaemonControl& daemon, daemon::AdminStore& store, config::AdminConfig config,
           const std::string& operator_token);

  HttpResponse handle(const HttpRequest& request);

  // Re-applies the API's accounts to a runtime built aside by a reload, where it has an older
  // version of them (a change made while the reload was being built).
  void reconcile(dispatch::Runtime& next);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The OpenAPI 3 document of the API.
const std::string& openapi_document();

}  // namespace vumi::admin
