// GET /api/accounts/{key}/sample-event: the newest kept event of a type from the run history, so
// the page can offer its fields as {{/event/...}} templates and use it for a dry run.
#pragma once

#include <string>

#include "admin/http_server.hpp"
#include "dispatch/run_history.hpp"

namespace vumi::admin {

// query: event_type (required), conversation_key (optional). 200 {"key", "event_id", "time",
// "event"}; 404 when no kept run matches; 400 without event_type.
HttpResponse sample_event(const dispatch::RunHistory& runs, const std::string& key, const std::string& query);

}  // namespace vumi::admin
