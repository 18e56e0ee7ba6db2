// create_contact: upserts a contact in the account's contact store from mapped fields.
// Written only against the public SDK (vumi/plugin.hpp) and Boost.JSON.
#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vumi/plugin.hpp>

#include "shared/plugin_support.hpp"

namespace {

namespace json = boost::json;
using vumi::sdk::StepResult;
using vumi_plugins::trim;

constexpr std::size_t kMinMsisdnDigits = 5;
constexpr std::size_t kMaxMsisdnDigits = 20;

// Why msisdn is not digits with an optional leading '+' and 5..20 digits, or "" when it is.
std::string msisdn_problem(std::string_view msisdn) {
  const std::string_view digits = msisdn.starts_with('+') ? msisdn.substr(1) : msisdn;
  if (digits.find_first_not_of("0123456789") != std::string_view::npos)
    return "may contain only digits with an optional leading '+'";
  if (digits.size() < kMinMsisdnDigits || digits.size() > kMaxMsisdnDigits)
    return "must have " + std::to_string(kMinMsisdnDigits) + " to " + std::to_string(kMaxMsisdnDigits) +
           " digits, has " + std::to_string(digits.size());
  return "";
}

enum class OnExisting { update, keep, fail };

class CreateContact {
 public:
  static constexpr const char* kName = "create_contact";
  static constexpr const char* kDescription =
      "Creates or updates a contact of the account from mapped fields, deduplicated on msisdn.";
  static constexpr const char* kOptionsSchema = R"({
    "type": "object",
    "properties": {
      "on_existing": {"type": "string", "enum": ["update", "keep", "fail"], "default": "update",
        "description": "When the msisdn already has a contact: update the given fields, keep the stored contact unchanged, or fail the step."}
    },
    "additionalProperties": false
  })";
  static constexpr const char* kStepSchema = R"({
    "type": "object",
    "properties": {
      "fields": {"type": "object", "description": "The contact's fields, usually templates into the event.",
        "properties": {
          "msisdn": {"type": "string", "description": "Phone number: digits with an optional leading '+', 5 to 20 digits; surrounding spaces are trimmed."},
          "name": {"type": ["string", "null"], "description": "Given name; null or absent leaves it unchanged."},
          "surname": {"type": ["string", "null"], "description": "Family name; null or absent leaves it unchanged."},
          "extra": {"type": ["object", "null"], "additionalProperties": true, "description": "Further fields (name -> value), merged into the stored ones."}
        },
        "required": ["msisdn"],
        "additionalProperties": false}
    },
    "required": ["fields"],
    "additionalProperties": false
  })";
  static constexpr const char* kOutput =
      "the stored contact: contact_key, msisdn, name, surname, extra, status (created|updated|kept), created";
  static constexpr vumi_threading kThreading = VUMI_THREADING_SERIAL;

  explicit CreateContact(vumi::sdk::Options options) {
    const json::value parsed = json::parse(options.json());
    const json::value* policy = parsed.is_object() ? parsed.as_object().if_contains("on_existing") : nullptr;
    if (!policy) return;
    const std::string_view p = policy->is_string() ? std::string_view(policy->as_string()) : "";
    if (p == "update")
      on_existing_ = OnExisting::update;
    else if (p == "keep")
      on_existing_ = OnExisting::keep;
    else if (p == "fail")
      on_existing_ = OnExisting::fail;
    else
      throw std::invalid_argument("options.on_existing: must be \"update\", \"keep\" or \"fail\", got " +
                                  json::serialize(*policy));
  }

  StepResult handle(vumi::sdk::Call& call) {
    // Everything is validated before the first write, so a bad field never leaves half a contact.
    const json::value config = json::parse(call.config_json());
    const json::value* fields_value = config.is_object() ? config.as_object().if_contains("fields") : nullptr;
    if (!fields_value || !fields_value->is_object())
      return StepResult::fail("config.fields: must be an object with at least \"msisdn\"");
    const json::object& fields = fields_value->as_object();

    json::object contact;
    for (const auto& field : fields) {
      const std::string_view key = field.key();
      const json::value& value = field.value();
      const std::string where = "config.fields." + std::string(key);
      if (key == "msisdn") {
        if (!value.is_string())
          return StepResult::fail(where + ": must be a string, got " + json::serialize(value));
        const std::string_view msisdn = trim(value.as_string());
        if (const std::string problem = msisdn_problem(msisdn); !problem.empty())
          return StepResult::fail(where + ": " + json::serialize(value) +
                                  " is not a valid msisdn: " + problem);
        contact["msisdn"] = msisdn;
      } else if (key == "name" || key == "surname") {
        if (value.is_null()) continue;
        if (!value.is_string())
          return StepResult::fail(where + ": must be a string or null, got " + json::serialize(value));
        contact[key] = value;
      } else if (key == "extra") {
        if (value.is_null()) continue;
        if (!value.is_object())
          return StepResult::fail(where + ": must be an object (name -> value), got " +
                                  json::serialize(value));
        contact["extra"] = value;
      } else {
        return StepResult::fail(where + ": unknown field (known: msisdn, name, surname, extra)");
      }
    }
    if (!contact.contains("msisdn")) return StepResult::fail("config.fields.msisdn: is required");
    const std::string msisdn(contact["msisdn"].as_string());

    const auto existing = call.contact_find_by_msisdn(msisdn);
    if (existing) {
      if (on_existing_ == OnExisting::fail) {
        const json::value stored = json::parse(*existing);
        return StepResult::fail("a contact with msisdn " + msisdn + " already exists (contact_key " +
                                std::string(stored.at("contact_key").as_string()) +
                                ") and on_existing is \"fail\"");
      }
      if (on_existing_ == OnExisting::keep) {
        call.metric_add("contacts_kept");
        return output(call, json::parse(*existing).as_object(), "kept");
      }
      merge_extra(json::parse(*existing).as_object(), contact);
    }
    const auto upserted = call.contact_upsert(json::serialize(contact));
    call.metric_add(upserted.created ? "contacts_created" : "contacts_updated");
    return output(call, json::parse(upserted.contact).as_object(), upserted.created ? "created" : "updated");
  }

 private:
  // Given extra fields are added to the stored ones rather than replacing them all.
  static void merge_extra(const json::object& stored, json::object& contact) {
    const json::value* stored_extra = stored.if_contains("extra");
    if (!contact.contains("extra") || !stored_extra || !stored_extra->is_object()) return;
    json::object merged = stored_extra->as_object();
    for (const auto& kv : contact["extra"].as_object()) merged[kv.key()] = kv.value();
    contact["extra"] = std::move(merged);
  }

  static StepResult output(vumi::sdk::Call& call, const json::object& stored, std::string_view status) {
    json::object out;
    for (const char* key : {"contact_key", "msisdn", "name", "surname"})
      out[key] = stored.contains(key) ? stored.at(key) : json::value("");
    out["extra"] = stored.contains("extra") ? stored.at("extra") : json::object{};
    out["status"] = status;
    out["created"] = status == "created";
    call.set_output(json::serialize(out));
    return StepResult::next();
  }

  OnExisting on_existing_ = OnExisting::update;
};

}  // namespace

VUMI_PLUGIN("create_contact", "1.0.0", CreateContact)
