// Compiled twice by tests/CMakeLists.txt: against vumi::dispatch it builds; against vumi::store (a
// lower layer) it must fail because store's include dirs do not reach dispatch's headers.
#include "dispatch/chain_observer.hpp"

const vumi::dispatch::StepRecord* include_probe_record = nullptr;
