// The host services a running step reaches through its vumi_call, scoped to the account of the
// event being handled.
#pragma once

#include <boost/json/value.hpp>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dispatch/counters.hpp"
#include "dispatch/outbound.hpp"
#include "dispatch/route_index.hpp"
#include "event/envelope_decoder.hpp"
#include "plugin/host_call.hpp"
#include "store/state_store.hpp"

namespace vumi::dispatch {

class StepServices final : public plugin::CallServices {
 public:
  StepServices(store::StateStore& store, OutboundSink& outbound, Counters& counters,
               std::deque<event::Envelope>& emitted);

  // Scopes the services to one event of an account (until the next begin_event).
  void begin_event(const event::EnvelopeDecoder& decoder, const event::Envelope& event,
                   const Account& account);
  // Clears what the previous step left (output, returned views); metrics the step adds are
  // named "<handler_type>.<name>". Ids the step draws (new_id, emitted events) are derived from
  // the event id, the path of the account's route route_index, step_index and the call's number
  // within the step. The view is kept, not copied: it must outlive the step (the runtime's names do).
  void begin_step(std::string_view handler_type, std::size_t route_index = 0, std::size_t step_index = 0);
  // Names the running step's plugin and handler instance, the labels of its metric_add counters
  // (kept as views, like begin_step's).
  void label_step(std::string_view plugin, std::string_view handler);

  // The output the step set, if any.
  bool has_output() const { return has_output_; }
  boost::json::value& output() { return output_; }
  // What the state store said when a service call of the current step failed on it for a reason
  // that may pass (locked, full, I/O); empty when none did.
  const std::string& store_failure() const { return store_failure_; }

  vumi_status set_output(std::string_view json) override;
  vumi_status event_json(vumi_view* out) override;
  vumi_status emit_event(std::string_view event_json) override;
  vumi_status publish(std::string_view topic, std::string_view body_json) override;
  vumi_status contact_get(std::string_view key, vumi_view* out) override;
  vumi_status contact_find_by_msisdn(std::string_view msisdn, vumi_view* out) override;
  vumi_status contact_upsert(std::string_view contact_json, vumi_view* out, int* created) override;
  vumi_status inbox_put(std::string_view message_json, std::int64_t* out_id) override;
  void metric_add(std::string_view name, std::int64_t delta) override;
  vumi_status account_json(vumi_view* out) override;
  bool new_id(char out[33]) override;

  // Counters plugins added through metric_add, by "<handler_type>.<name>".
  const std::unordered_map<std::string, std::int64_t>& metrics() const { return metrics_; }

 private:
  // The running step's route's path (what derived ids are made from), built when an id is drawn.
  std::string route_path() const;
  // Keeps text alive until the step returns and gives the plugin a view of it.
  vumi_view hand_back(std::string text);
  // Logs a failed store call; a transient failure also fails the event (store_failure_).
  vumi_status store_failed(const Error& error, std::string_view what);
  // A contact lookup's answer to the plugin: the contact, not found, or the store's failure.
  vumi_status contact_result(const Expected<std::optional<store::Contact>>& contact, std::string_view what,
                             vumi_view* out);

  store::StateStore& store_;
  OutboundSink& outbound_;
  Counters& counters_;
  std::deque<event::Envelope>& emitted_;
  const event::EnvelopeDecoder* decoder_ = nullptr;
  const event::Envelope* event_ = nullptr;
  const Account* account_ = nullptr;
  std::string event_json_;  // serialised on first request per event
  bool event_json_ready_ = false;
  bool has_output_ = false;
  std::string store_failure_;
  boost::json::value output_;
  std::deque<std::string> returned_;  // texts whose views the plugin holds during the step
  std::unordered_map<std::string, std::int64_t> metrics_;
  // The running step's names (begin_step, label_step): set per step, read only when a plugin
  // draws an id or adds a metric, so they are views rather than copies.
  std::string_view metric_plugin_, metric_handler_;
  std::string_view handler_type_;  // metrics are named "<handler_type>.<name>"
  std::size_t route_index_ = 0;    // for derived ids, with step_index_
  std::size_t step_index_ = 0;
  std::uint32_t ids_drawn_ = 0;       // new_id calls of the running step
  std::uint32_t events_emitted_ = 0;  // emit_event calls of the running step
};

}  // namespace vumi::dispatch
