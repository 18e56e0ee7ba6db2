// A test daemon seen from a worker: vumi-dispatcher started on a config, a subscriber on its
// outbound socket and a publisher on its ingest socket, both known to be connected. Shared by the
// transport and story tests that drive the daemon through real sockets.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "daemon_process.hpp"
#include "transport/topic_subscriber.hpp"
#include "transport/worker_publisher.hpp"

namespace vumi::testing {

struct DaemonLink {
  // Starts the daemon on config_file, subscribes to outbound_prefixes (none: everything) and waits
  // until the daemon logged each subscription and has subscribed to ingest_topics on the publisher.
  ::testing::AssertionResult connect(const std::filesystem::path& config_file,
                                     const std::vector<std::string>& outbound_prefixes = {"outbound."},
                                     const std::vector<std::string>& ingest_topics = {"event."});

  zmq::context_t context{1};
  std::unique_ptr<Daemon> daemon;
  std::unique_ptr<transport::TopicSubscriber> sub;
  std::unique_ptr<transport::WorkerPublisher> pub;
  std::size_t cursor = 0;  // in the daemon's output, past the subscription lines
};

// Events of test_config's account and conversation: a survey completed by +27831234567, and a
// ping (the trigger of the sentinel routes that prove nothing else was sent before it).
inline const std::string kCompleted =
    R"({"account_key":"acct1","conversation_key":"conv1","conversation_type":"survey",)"
    R"("event_type":"survey_completed","event_data":{"from_addr":"+27831234567"}})";
inline const std::string kPing =
    R"({"account_key":"acct1","conversation_key":"conv1","conversation_type":"survey","event_type":"ping","event_data":{}})";

// A config file of this repository (config/<name>) made runnable in a test: ephemeral ports, its
// state in state_dir and this build's plugins.
std::string shipped_config(const std::string& name, const std::filesystem::path& state_dir);

// Replaces the first from in text by to; throws std::invalid_argument when text has no from.
void replace_once(std::string& text, const std::string& from, const std::string& to);

// The whole of a file, or "" when it cannot be read.
std::string read_text(const std::filesystem::path& file);

}  // namespace vumi::testing
