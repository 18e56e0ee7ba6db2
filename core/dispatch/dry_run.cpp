#include "dispatch/dry_run.hpp"

#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <deque>

#include "dispatch/chain_runner.hpp"
#include "dispatch/dead_letters.hpp"
#include "dispatch/retry_scheduler.hpp"
#include "dispatch/step_services.hpp"

namespace vumi::dispatch {

namespace bj = boost::json;

namespace {

// Reads go to the real store (when there is one); writes are recorded, never made.
class SandboxStore final : public store::StateStore {
 public:
  explicit SandboxStore(store::StateStore* reads) : reads_(reads) {}

  int schema_version() const override { return reads_ ? reads_->schema_version() : 0; }
  Expected<std::optional<store::Contact>> contact_get(std::string_view account,
                                                      std::string_view key) override {
    if (!reads_) return std::optional<store::Contact>();
    return reads_->contact_get(account, key);
  }
  Expected<std::optional<store::Contact>> contact_find_by_msisdn(std::string_view account,
                                                                 std::string_view msisdn) override {
    if (!reads_) return std::optional<store::Contact>();
    return reads_->contact_find_by_msisdn(account, msisdn);
  }
  Expected<store::UpsertedContact> contact_upsert(std::string_view account,
                                                  const bj::object& fields) override {
    const bj::value* msisdn = fields.if_contains("msisdn");
    if (!msisdn || !msisdn->is_string() || msisdn->get_string().empty())
      return fail(ErrorCode::invalid, "contact fields need a non-empty string \"msisdn\"");
    Expected<std::optional<store::Contact>> existing = contact_find_by_msisdn(account, msisdn->get_string());
    if (!existing) return std::move(existing).error();
    store::UpsertedContact upserted{.contact = {}, .created = !*existing};
    store::Contact& contact = upserted.contact;
    if (*existing) {
      contact = std::move(**existing);
    } else {
      contact.contact_key = "dry-run-contact";
      contact.account_key = std::string(account);
      contact.msisdn = std::string(msisdn->get_string());
    }
    if (const bj::value* name = fields.if_contains("name"); name && name->is_string())
      contact.name = std::string(name->get_string());
    if (const bj::value* surname = fields.if_contains("surname"); surname && surname->is_string())
      contact.surname = std::string(surname->get_string());
    if (const bj::value* extra = fields.if_contains("extra"); extra && extra->is_object())
      for (const auto& [k, v] : extra->get_object()) contact.extra[k] = v;
    effects["contacts_upserted"].as_array().push_back(contact.to_json());
    return upserted;
  }
  Expected<std::int64_t> inbox_put(std::string_view, const bj::value& message) override {
    effects["inbox"].as_array().push_back(message);
    return 0;
  }
  Expected<void> dead_letter_put(const store::DeadLetter& letter) override {
    effects["dead_letters"].as_array().push_back(bj::object{{"reason", letter.reason},
                                                            {"message", letter.message},
                                                            {"route", letter.route},
                                                            {"step", letter.step}});
    return {};
  }
  std::vector<store::Contact> contacts(std::string_view) override { return {}; }
  std::vector<store::InboxEntry> inbox(std::string_view) override { return {}; }
  std::vector<store::DeadLetter> dead_letters(std::string_view) override { return {}; }
  Expected<void> quarantine_put(std::string_view, std::string_view, std::string_view) override { return {}; }
  std::vector<std::string> quarantined_keys() override {
    return reads_ ? reads_->quarantined_keys() : std::vector<std::string>{};
  }
  Expected<void> message_ledger_put(const store::MessageLedgerEntry&) override { return {}; }
  Expected<std::optional<store::MessageLedgerEntry>> message_ledger_get(std::string_view message_id,
                                                                        std::string_view direction) override {
    if (!reads_) return std::optional<store::MessageLedgerEntry>();
    return reads_->message_ledger_get(message_id, direction);
  }
  Expected<void> dead_letter_add_repeats(std::string_view, std::int64_t, std::string_view) override {
    return {};
  }
  Expected<void> dead_letter_mark_replayed(std::int64_t, std::string_view) override { return {}; }
  Expected<std::int64_t> dead_letters_prune(const store::DeadLetterRetention&, std::int64_t) override {
    return 0;
  }
  Expected<std::int64_t> pending_retry_put(const store::PendingRetry& retry) override {
    effects["retries"].as_array().push_back(
        bj::object{{"route", retry.route}, {"step_index", retry.step_index}, {"due_at_ms", retry.due_at_ms}});
    return 0;
  }
  Expected<void> pending_retry_delete(std::int64_t) override { return {}; }
  std::vector<store::DeadLetter> dead_letters(const store::DeadLetterFilter&) override { return {}; }
  std::int64_t dead_letters_purge(const store::DeadLetterFilter&) override { return 0; }
  std::vector<store::PendingRetry> pending_retries() override { return {}; }
  Expected<void> begin_batch() override { return {}; }
  Expected<void> commit_batch() override { return {}; }
  Expected<void> rollback_batch() override { return {}; }
  Expected<std::int64_t> outbox_put(std::string_view, std::string_view, std::string_view) override {
    return 0;
  }
  std::vector<store::OutboxRow> outbox_pending() override { return {}; }
  Expected<void> outbox_remove(const std::vector<std::int64_t>&) override { return {}; }
  // A dry run is never a duplicate: it runs whatever the ledger holds.
  Expected<bool> processed_claim(std::string_view, std::string_view) override { return true; }
  Expected<void> processed_forget(std::string_view, std::string_view) override { return {}; }
  Expected<std::int64_t> processed_prune(std::int64_t) override { return 0; }

  bj::object effects{{"published", bj::array{}},         {"emitted", bj::array{}},
                     {"contacts_upserted", bj::array{}}, {"inbox", bj::array{}},
                     {"dead_letters", bj::array{}},      {"retries", bj::array{}}};

 private:
  store::StateStore* reads_;
};

class RecordingSink final : public OutboundSink {
 public:
  explicit RecordingSink(bj::array& into) : into_(into) {}
  void send(std::string_view topic, std::string_view body) override {
    boost::system::error_code ec;
    bj::value parsed = bj::parse(body, ec);
    into_.push_back(bj::object{{"topic", topic}, {"body", ec ? bj::value(bj::string(body)) : parsed}});
  }

 private:
  bj::array& into_;
};

const char* result_name(int result) {
  switch (result) {
    case VUMI_STEP_CONTINUE:
      return "continue";
    case VUMI_STEP_STOP:
      return "stop";
    case VUMI_STEP_RETRY:
      return "retry";
    default:
      return "fail";
  }
}

// Builds the report as the chain runner goes.
class Report final : public ChainObserver {
 public:
  void event_unrouted(const Account&, const event::Envelope&) override {}
  void route_started(const Route& route, const Account& account, const event::Envelope&) override {
    routes.push_back(
        bj::object{{"route", config::route_path(account.key, route.order)}, {"steps", bj::array{}}});
  }
  void step_done(const StepRecord& step) override {
    bj::object out{{"index", step.index},
                   {"handler", step.step->spec->handler},
                   {"handler_type", step.step->handler ? step.step->handler->type().name : std::string()},
                   {"result", result_name(step.result)},
                   {"duration_ms", step.seconds * 1000}};
    if (!step.config.empty()) {
      boost::system::error_code ec;
      bj::value config = bj::parse(step.config, ec);
      out["config"] = ec ? bj::value(bj::string(step.config)) : config;
    }
    if (step.output) out["output"] = *step.output;
    if (!step.error.empty()) out["error"] = step.error;
    routes.back().as_object()["steps"].as_array().push_back(std::move(out));
  }
  void route_done(bool ok) override { routes.back().as_object()["ok"] = ok; }
  bj::array routes;
};

}  // namespace

Expected<bj::object> dry_run(const Runtime& runtime, std::string_view event_json, store::StateStore* reads,
                             const std::shared_ptr<const AccountRoutes>& draft) {
  boost::system::error_code ec;
  bj::value parsed = bj::parse(event_json, ec);
  const bj::object* body = parsed.if_object();
  if (ec || !body) return fail(ErrorCode::invalid, "the event is not a JSON object");
  auto field = [&](std::string_view key) -> std::string {
    const bj::value* v = body->if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  const std::string account_key = field("account_key");
  std::string conversation_type = field("conversation_type");
  if (conversation_type.empty() && draft && draft->key == account_key) {
    auto declared = draft->spec.conversations.find(field("conversation_key"));
    if (declared != draft->spec.conversations.end()) conversation_type = declared->second;
  }
  if (conversation_type.empty()) {
    if (auto type = runtime.routes().conversation_type(account_key, field("conversation_key")))
      conversation_type = std::string(*type);
  }
  const std::string topic = "event." + account_key + "." + conversation_type + "." + field("event_type");

  bj::monotonic_resource arena;
  event::Decoded decoded = runtime.decoder().decode(topic, event_json, &arena);
  if (!decoded)
    return fail(ErrorCode::invalid, "the event is refused (" +
                                        std::string(event::reason_code(decoded.error().reason)) +
                                        "): " + decoded.error().message);
  const auto* envelope = std::get_if<event::Envelope>(&*decoded);
  const Account* account = !envelope ? nullptr
                           : draft && draft->key == envelope->account_key
                               ? draft.get()
                               : runtime.routes().account(envelope->account_key);
  if (!envelope || !account)
    return fail(ErrorCode::invalid, "the event is not a VumiApiEvent of a known account");

  SandboxStore sandbox(reads);
  RecordingSink sink(sandbox.effects["published"].as_array());
  Counters counters;
  std::deque<event::Envelope> emitted;
  StepServices services(sandbox, sink, counters, emitted);
  DeadLetterRecorder dead_letters(sandbox, counters, false);
  RetryScheduler retries(sandbox, dead_letters, counters);
  ChainRunner chains(services, dead_letters, counters, retries);
  Report report;
  chains.set_observer(&report);

  std::vector<const Route*> matched;
  runtime.routes().match(*account, envelope->conversation_type, envelope->conversation_key,
                         envelope->event_type, matched);
  services.begin_event(runtime.decoder(), *envelope, *account);
  for (const Route* route : matched) chains.run(*route, *account, *envelope);
  for (const auto& e : emitted) sandbox.effects["emitted"].as_array().push_back(e.body());

  return bj::object{{"event", envelope->body()},
                    {"routes", std::move(report.routes)},
                    {"effects", std::move(sandbox.effects)}};
}

}  // namespace vumi::dispatch
