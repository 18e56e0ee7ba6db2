#include "admin/admin_server.hpp"

#include <spdlog/spdlog.h>

#include "admin/admin_api.hpp"
#include "admin/http_server.hpp"
#include "admin/tokens.hpp"
#include "admin/web_page.hpp"
#include "daemon/admin_store.hpp"

namespace vumi::admin {

namespace {

class AdminExtension final : public transport::DaemonExtension {
 public:
  bool start(transport::DaemonControl& control) override {
    const config::Config& config = control.runtime().config();
    if (!config.admin) {
      spdlog::info("admin API off (\"admin\": null)");
      return true;
    }
    const config::AdminConfig& admin = *config.admin;
    try {
      std::string operator_token;
      if (!admin.token_file.empty()) operator_token = read_operator_token(admin.token_file);
      store_ = daemon::AdminStore::open(config.state);
      api_ = std::make_unique<AdminApi>(control, *store_, admin, operator_token);
    } catch (const std::exception& e) {
      spdlog::error("not started: admin: {}", e.what());
      return false;
    }
    try {
      server_ = std::make_unique<HttpServer>(control.io(), admin.bind, HttpLimits{},
                                             [this](const HttpRequest& request) {
                                               if (auto page = serve_web_page(request))
                                                 return std::move(*page);
                                               return api_->handle(request);
                                             });
    } catch (const std::exception& e) {
      if (admin.bind_given) {
        spdlog::error("not started: {}", e.what());
        return false;
      }
      // The default address is a convenience: a daemon without admin.bind still runs when it is taken.
      spdlog::warn("admin API off: {} (set admin.bind to choose another address)", e.what());
      return true;
    }
    server_->start();
    spdlog::info("admin API: http://{}/api/, web page: http://{}/ ({})", server_->local_address(),
                 server_->local_address(),
                 admin.token_file.empty() ? "no operator token; account tokens only"
                                          : "operator token from " + admin.token_file.string());
    return true;
  }

  void before_swap(dispatch::Runtime& next) override {
    if (api_) api_->reconcile(next);
  }

  void stop() override {
    if (server_) server_->stop();
  }

 private:
  std::unique_ptr<daemon::AdminStore> store_;
  std::unique_ptr<AdminApi> api_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace

std::shared_ptr<transport::DaemonExtension> make_admin_extension() {
  return std::make_shared<AdminExtension>();
}

}  // namespace vumi::admin
