#include "admin/metrics_text.hpp"

#include <cstdio>
#include <map>

#include "event/rejection.hpp"
#include "transport/ingest_reader.hpp"
#include "transport/outbound_publisher.hpp"

namespace vumi::admin {

namespace {

// A label value escaped as the text format wants (backslash, quote, newline).
std::string label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

// A metric name part from a plugin's metric name: [a-zA-Z0-9_] only.
std::string name_part(std::string_view name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out += ok ? c : '_';
  }
  return out;
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, std::string_view labels, double value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += number(value);
    out_ += '\n';
  }
  void counter(std::string_view name, std::string_view help, double value) {
    family(name, "counter", help);
    sample(name, "", value);
  }
  void gauge(std::string_view name, std::string_view help, double value) {
    family(name, "gauge", help);
    sample(name, "", value);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// In a cluster: one sample per shard of each figure (docs/scale-out.md); nothing otherwise.
void write_shard_figures(Writer& w, const std::vector<transport::DaemonControl::ShardFigures>& shards,
                         std::uint64_t not_owner) {
  if (shards.empty()) return;
  w.counter("vumi_cluster_not_owner_total",
            "Messages of accounts of shards held elsewhere: skipped or answered not_owner.",
            static_cast<double>(not_owner));
  auto per_shard = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    w.family(name, type, help);
    for (const auto& shard : shards)
      w.sample(name, "shard=\"" + std::to_string(shard.shard) + "\"", static_cast<double>(value(shard)));
  };
  using Figures = transport::DaemonControl::ShardFigures;
  per_shard("vumi_cluster_shard_held", "gauge", "1 while this dispatcher holds the shard.",
            [](const Figures& f) { return f.held ? 1 : 0; });
  per_shard("vumi_cluster_shard_handled_total", "counter", "Messages of the shard's accounts handled here.",
            [](const Figures& f) { return f.handled; });
  per_shard("vumi_cluster_shard_outbox_unsent", "gauge",
            "Committed outbound messages of the shard's accounts waiting to be sent here.",
            [](const Figures& f) { return f.outbox_waiting; });
  per_shard("vumi_cluster_shard_retries_waiting", "gauge",
            "Step retries of the shard's accounts waiting here.",
            [](const Figures& f) { return f.retries_waiting; });
}

}  // namespace

std::string metrics_text(transport::DaemonControl& daemon, bool account_labels) {
  const dispatch::Counters& c = daemon.dispatch_counters();
  const transport::IngestCounters& in = daemon.ingest_counters();
  const transport::OutboundCounters& out = daemon.outbound_counters();
  Writer w;
  w.counter("vumi_messages_received_total", "Ingest messages received (bad frames included).",
            static_cast<double>(c.received + in.bad_frames));
  w.counter("vumi_events_dispatched_total", "Events routed (from workers, inbound messages, or emitted).",
            static_cast<double>(c.events));
  w.family("vumi_messages_rejected_total", "counter", "Ingest messages refused, by reason.");
  for (std::size_t i = 0; i < event::kReasonCount; ++i) {
    auto reason = static_cast<event::Reason>(i);
    // The ingest reader refuses bad frames before the dispatcher sees them.
    const std::uint64_t extra = reason == event::Reason::bad_frames ? in.bad_frames : 0;
    w.sample("vumi_messages_rejected_total", "reason=\"" + label(event::reason_code(reason)) + "\"",
             static_cast<double>(c.rejected[i] + extra));
  }
  w.counter("vumi_events_unrouted_total", "Events that matched no route.", static_cast<double>(c.unrouted));
  w.counter("vumi_events_emitted_total", "Events emitted by handlers.", static_cast<double>(c.emitted));
  w.counter("vumi_commands_forwarded_total", "Commands passed on to outbound.",
            static_cast<double>(c.commands_forwarded));
  w.counter("vumi_chains_run_total", "Chains started.", static_cast<double>(c.chains_run));
  w.counter("vumi_chains_failed_total", "Chains that ended in a dead letter.",
            static_cast<double>(c.chains_failed));
  w.counter("vumi_dead_letters_total", "Dead letters recorded.", static_cast<double>(c.dead_letters));
  w.counter("vumi_outbound_sent_total", "Outbound messages accepted by the socket.",
            static_cast<double>(out.sent));
  w.counter("vumi_outbound_undeliverable_total", "Outbound messages a subscriber with a full queue missed.",
            static_cast<double>(out.undeliverable));
  w.counter("vumi_outbound_failed_total", "Outbound messages refused for any other reason.",
            static_cast<double>(out.failed));
  w.counter("vumi_ingest_batches_total", "Turns of the loop that read at least one ingest message.",
            static_cast<double>(in.batches));
  w.gauge("vumi_accounts", "Accounts loaded.",
          static_cast<double>(daemon.runtime().routes().account_count()));
  w.gauge("vumi_routes", "Routes loaded.", static_cast<double>(daemon.runtime().routes().route_count()));
  const transport::DaemonControl::Depths depths = daemon.depths();
  w.gauge("vumi_ingest_held_messages",
          "Ingest messages of a batch held until the state store commits again (ingest is paused meanwhile).",
          static_cast<double>(depths.ingest_held));
  w.gauge("vumi_retries_pending", "Step retries waiting for their time.",
          static_cast<double>(depths.pending_retries));
  w.gauge("vumi_outbox_unsent",
          "Committed outbound messages not yet sent (waiting for a subscriber or a retry).",
          static_cast<double>(depths.outbox_unsent));
  write_shard_figures(w, daemon.shard_figures(), c.not_owner);

  w.family("vumi_step_duration_seconds", "histogram", "Time a handler took for one step, by handler type.");
  for (const auto& [type, t] : c.step_timings) {
    std::string base = "handler_type=\"" + label(type) + "\"";
    const auto at_most = t.cumulative();
    for (std::size_t i = 0; i < at_most.size(); ++i)
      w.sample("vumi_step_duration_seconds_bucket", base + ",le=\"" + number(t.kBucketSeconds[i]) + "\"",
               static_cast<double>(at_most[i]));
    w.sample("vumi_step_duration_seconds_bucket", base + ",le=\"+Inf\"", static_cast<double>(t.count));
    w.sample("vumi_step_duration_seconds_sum", base, t.sum_seconds);
    w.sample("vumi_step_duration_seconds_count", base, static_cast<double>(t.count));
  }
  w.family("vumi_steps_failed_total", "counter", "Steps that failed, by handler type.");
  for (const auto& [type, t] : c.step_timings)
    w.sample("vumi_steps_failed_total", "handler_type=\"" + label(type) + "\"",
             static_cast<double>(t.failed));

  // Plugins' own counters: one family per metric name.
  std::map<std::string, std::map<std::string, double>> families;  // name -> labels -> value
  for (const auto& [key, value] : c.plugin_metrics) {
    const auto& [plugin, handler, account, name] = key;
    std::string labels = "plugin=\"" + label(plugin) + "\",handler=\"" + label(handler) + "\"";
    if (account_labels) labels += ",account=\"" + label(account) + "\"";
    families["vumi_plugin_" + name_part(name) + "_total"][labels] += static_cast<double>(value);
  }
  for (const auto& [name, samples] : families) {
    w.family(name, "counter", "A plugin's metric_add counter.");
    for (const auto& [labels, value] : samples) w.sample(name, labels, value);
  }
  return w.take();
}

}  // namespace vumi::admin
