// Explain: runs one event through its account's matching routes in a sandbox, with the real
// handlers and host services, but no state written, nothing published, emitted events not
// dispatched; reports per route and step the rendered config, output, result and error, and the
// effects that would have happened.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "common/expected.hpp"
#include "dispatch/runtime.hpp"
#include "store/state_store.hpp"

namespace vumi::dispatch {

// event_json is a VumiApiEvent body. reads, when given, answers the handlers' lookups (contacts)
// and is never written. A refused event is ErrorCode::invalid saying why. draft, when given, stands
// in for its account (a changed document tried before it is saved).
Expected<boost::json::object> dry_run(const Runtime& runtime, std::string_view event_json,
                                      store::StateStore* reads,
                                      const std::shared_ptr<const AccountRoutes>& draft = nullptr);

}  // namespace vumi::dispatch
