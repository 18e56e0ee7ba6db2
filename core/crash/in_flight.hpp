// What the dispatch thread is working on, kept for the crash handler: views into live memory, set
// with a few stores before each message, event and plugin call (no copy, no system call). The
// crash handler copies them into the crash record when a fatal signal arrives.
#pragma once

#include <atomic>
#include <cstddef>
#include <string_view>

namespace vumi::crash {

struct InFlight {
  // The ingest message being handled (views into its frames); empty topic: none.
  std::string_view topic;
  std::string_view body;
  // The message's event id when the input carried one (how a resent copy is recognised); empty
  // when the host made the id up, so the message is recognised by a hash of topic and body.
  std::string_view message_event_id;
  // The event being run: the message's own, or one a handler emitted while handling it.
  std::string_view account;
  std::string_view event_id;
  // The plugin call in progress; empty plugin: host code.
  std::string_view plugin;
  std::string_view handler_type;
  std::string_view handler_name;
  // The step's route, by its index in the account's routes, and the step's index in its chain: the
  // crash handler builds their paths ("accounts.<account>.routes[<route>].chain[<step>]").
  std::size_t route = 0;
  std::size_t step = 0;

  void begin_message(std::string_view message_topic, std::string_view message_body) {
    topic = message_topic;
    body = message_body;
    message_event_id = {};
    account = {};
    event_id = {};
    end_step();
  }
  void set_message_event_id(std::string_view id) { message_event_id = id; }
  void begin_event(std::string_view account_key, std::string_view id) {
    account = account_key;
    event_id = id;
  }
  void begin_step(std::string_view plugin_name, std::string_view type, std::string_view name,
                  std::size_t route_index, std::size_t step_index) {
    plugin = plugin_name;
    handler_type = type;
    handler_name = name;
    route = route_index;
    step = step_index;
    // The handler may crash on this thread right after: the stores above must have happened.
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
  void end_step() { plugin = {}; }
  void end_message() {
    end_step();
    topic = {};
    body = {};
    account = {};
    event_id = {};
    message_event_id = {};
  }
};

}  // namespace vumi::crash
