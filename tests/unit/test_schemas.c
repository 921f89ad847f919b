/* Every schema quorum sends as a structured-output format, checked against OpenAI's strict
 * mode (response_format json_schema with strict: true), which rejects the whole request with
 * HTTP 400 otherwise: every object has additionalProperties false and lists each of its
 * properties in required (an optional field is a required one whose type admits null), and
 * an enum of a nullable field includes null. */
#include "judge/judge.h"
#include "review/prompt.h"
#include "test.h"

static bool has_type(json_t *node, const char *type) {
  json_t *t = json_object_get(node, "type");
  if (json_is_string(t)) return !strcmp(json_string_value(t), type);
  size_t i;
  json_t *v;
  json_array_foreach(t, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), type)) return true;
  return false;
}

static bool in_array(json_t *arr, const char *key) {
  size_t i;
  json_t *v;
  json_array_foreach(arr, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), key)) return true;
  return false;
}

/* The first violation under node, written into why (at `path`); false when there is none. */
static bool violation(json_t *node, const char *path, char *why, size_t cap) {
  if (!json_is_object(node)) return false;
  if (has_type(node, "object")) {
    json_t *props = json_object_get(node, "properties"), *req = json_object_get(node, "required");
    if (!json_is_false(json_object_get(node, "additionalProperties")))
      return snprintf(why, cap, "%s: additionalProperties is not false", path), true;
    if (!json_is_array(req) || json_array_size(req) != json_object_size(props))
      return snprintf(why, cap, "%s: required does not list every property", path), true;
    const char *key;
    json_t *sub;
    json_object_foreach(props, key, sub) {
      char sub_path[256];
      snprintf(sub_path, sizeof sub_path, "%s.%s", path, key);
      if (!in_array(req, key)) return snprintf(why, cap, "%s: not required", sub_path), true;
      if (violation(sub, sub_path, why, cap)) return true;
    }
  }
  json_t *e = json_object_get(node, "enum");
  size_t i;
  json_t *v;
  if (has_type(node, "null") && e) {
    bool has_null = false;
    json_array_foreach(e, i, v) has_null |= json_is_null(v);
    if (!has_null) return snprintf(why, cap, "%s: nullable enum without null", path), true;
  }
  char sub_path[256];
  snprintf(sub_path, sizeof sub_path, "%s[]", path);
  if (violation(json_object_get(node, "items"), sub_path, why, cap)) return true;
  json_array_foreach(json_object_get(node, "anyOf"), i, v) if (violation(v, path, why, cap)) return true;
  return false;
}

static void assert_strict(json_t *schema, const char *name) {
  char why[512];
  ASSERT(has_type(schema, "object"));
  if (violation(schema, name, why, sizeof why)) QR__FAIL("%s", why);
}

TEST(schemas_findings_is_strict) {
  json_t *s = qr_prompt_findings_schema();
  assert_strict(s, "review_findings");
  json_decref(s);
}

TEST(schemas_judge_is_strict) {
  qr_finding_list none = {0};
  qr_prompt p;
  ASSERT_OK(qr_judge_build_prompt(&none, NULL, 1, &p, NULL));
  assert_strict(p.schema, p.schema_name);
  qr_prompt_clear(&p);
}

TEST(schemas_checker_catches_the_old_judge_schema) {
  /* what OpenAI rejected: severity and message optional */
  json_t *old = json_loads(
      "{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"v\"],\"properties\":"
      "{\"v\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"additionalProperties\":false,"
      "\"required\":[\"id\"],\"properties\":{\"id\":{\"type\":\"string\"},\"severity\":"
      "{\"type\":\"string\"}}}}}}", 0, NULL);
  char why[512];
  ASSERT(violation(old, "x", why, sizeof why));
  ASSERT_STR_EQ(why, "x.v[]: required does not list every property");
  json_decref(old);
}
