// A config of many accounts shaped like config/dispatcher.json's acct1, for the scale benchmark
// (many_accounts_bench) and the test that loads 100,000 of them: each account has one conversation,
// one tag and two routes of two steps each (create_contact + send_sms with templates; tag_router +
// default_account_handler), all naming four global handlers.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>

namespace bench_support {

// Writes the config to out. plugin_dir is the plugins folder, state_dir the state folder; the
// sockets bind port 0 and the admin API is off, so the daemon can run beside others.
inline void write_many_accounts_config(std::ostream& out, std::size_t accounts, const std::string& plugin_dir,
                                       const std::string& state_dir) {
  out << "{\n  \"ingest\": { \"bind\": \"tcp://127.0.0.1:0\" },\n"
         "  \"outbound\": { \"bind\": \"tcp://127.0.0.1:*\" },\n"
         "  \"admin\": null,\n"
         "  \"state_dir\": \""
      << state_dir << "\",\n  \"plugin_path\": [\"" << plugin_dir << "\"],\n"
      << R"(  "handlers": {
    "poll_contacts": { "type": "create_contact", "options": {} },
    "sms": { "type": "send_sms", "options": { "transport_name": "sms_transport" } },
    "router": { "type": "tag_router" },
    "fallback": { "type": "default_account_handler" }
  },
  "accounts": {)";
  for (std::size_t i = 0; i < accounts; ++i) {
    const std::string n = std::to_string(i);
    out << (i == 0 ? "\n" : ",\n") << "    \"acct" << n << "\": {\n"
        << "      \"conversations\": { \"poll" << n << "\": \"vxpolls\" },\n"
        << "      \"tags\": [\"longcode:" << n << "\"],\n"
        << "      \"routes\": [\n"
        << "        { \"on\": { \"conversation_type\": \"vxpolls\", \"conversation_key\": \"poll" << n
        << "\", \"event_type\": \"poll_complete\" },\n"
        << R"(          "chain": [
            { "handler": "poll_contacts", "as": "contact",
              "config": { "fields": { "msisdn": "{{/event/event_data/from_addr}}", "name": "{{/event/event_data/answers/name}}" } } },
            { "handler": "sms", "config": { "to_addr": "{{/steps/contact/msisdn}}", "content": "Thanks {{/steps/contact/name}}!" } } ] },
        { "on": { "event_type": "inbound_message" },
          "chain": [
            { "handler": "router", "config": { "routes": { "longcode:)"
        << n << "\": \"poll" << n << R"(" } } },
            { "handler": "fallback", "config": { "auto_reply": "Sorry, nothing is running on this number." } } ] }
      ]
    })";
  }
  out << "\n  }\n}\n";
}

}  // namespace bench_support
