// A Dispatcher on a config built in the test, the example plugin, a temporary state store and an
// outbound sink that records what was sent.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "dispatch/dispatcher.hpp"
#include "event/envelope_decoder.hpp"
#include "store/state_store.hpp"

namespace vumi::testing_support {

// Decoder account view: acct1 and acct2, each with conversation c1 of type t.
class TwoAccounts : public event::AccountDirectory {
 public:
  bool has_account(std::string_view a) const override { return a == "acct1" || a == "acct2"; }
  std::optional<std::string_view> conversation_type(std::string_view, std::string_view) const override {
    return "t";
  }
};

struct SentMessage {
  std::string topic;
  boost::json::value body;
  std::string account;  // the sink's account (set_account) when it was sent
};

class RecordingSink : public dispatch::OutboundSink {
 public:
  void send(std::string_view topic, std::string_view body) override {
    sent.push_back({std::string(topic), boost::json::parse(body), account_});
  }
  void set_account(std::string_view account) override { account_.assign(account); }
  std::vector<SentMessage> with_prefix(std::string_view prefix) const {
    std::vector<SentMessage> out;
    for (const auto& m : sent)
      if (std::string_view(m.topic).starts_with(prefix)) out.push_back(m);
    return out;
  }
  std::vector<SentMessage> sent;

 private:
  std::string account_;
};

// A fresh temporary folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ =
        std::filesystem::temp_directory_path() / ("vumi-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class DispatchTest : public ::testing::Test {
 protected:
  // Builds the dispatcher from config text (plugin_path and state_dir are filled in here).
  void start(const std::string& config_text) {
    auto loaded = config::parse_config(config_text, "test-config");
    ASSERT_TRUE(loaded.config.has_value());
    for (const auto& e : loaded.errors) ADD_FAILURE() << e.text();
    ASSERT_TRUE(loaded.errors.empty());
    loaded.config->plugin_path = plugins;
    loaded.config->state.dir = dir.path();
    auto built = dispatch::Runtime::build(std::move(*loaded.config));
    if (!built)
      for (const auto& e : built.error()) ADD_FAILURE() << e.text();
    ASSERT_TRUE(built);
    runtime = std::move(built).value();
    store = store::StateStore::open(dir.path());
    dispatcher = std::make_unique<dispatch::Dispatcher>(runtime, *store, sink);
  }

  // Publishes an event as a worker would.
  void send_event(std::string_view account, std::string_view conversation_type,
                  std::string_view conversation_key, std::string_view event_type,
                  const boost::json::object& data = {}) {
    boost::json::object body{{"account_key", account},
                             {"conversation_key", conversation_key},
                             {"conversation_type", conversation_type},
                             {"event_type", event_type},
                             {"event_data", data}};
    std::string topic = "event." + std::string(account) + "." + std::string(conversation_type) + "." +
                        std::string(event_type);
    dispatcher->handle(topic, boost::json::serialize(body));
  }

  std::vector<store::DeadLetter> dead_letters() { return store->dead_letters(""); }

  TempDir dir;
  std::vector<std::filesystem::path> plugins{VUMI_PLUGIN_DIR "/example.so"};  // what start() loads
  RecordingSink sink;
  std::shared_ptr<const dispatch::Runtime> runtime;
  std::unique_ptr<store::StateStore> store;
  std::unique_ptr<dispatch::Dispatcher> dispatcher;
};

}  // namespace vumi::testing_support
