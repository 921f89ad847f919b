/* Unit tests for the bundled grammars: every language in qr_languages() loads into this
 * tree-sitter and parses its sample, tests/data/grammars/sample.<first extension>, cleanly. */
#include <tree_sitter/api.h>

#include "common.h"
#include "change/languages.h"
#include "test.h"

/* The sample's path for `lang`: its first listed extension ("sample.c" for ".c .h"). */
static char *sample_path(const qr_language *lang) {
  size_t n = strcspn(lang->extensions, " ");
  return qr_asprintf("%s/grammars/sample%.*s", qr_test_data_dir(), (int)n, lang->extensions);
}

TEST(grammars_abi_version) {
  size_t count;
  const qr_language *langs = qr_languages(&count);
  ASSERT(count >= 11);
  TSParser *p = ts_parser_new();
  for (size_t i = 0; i < count; i++) {
    uint32_t v = ts_language_version(langs[i].load());
    if (v < TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION || v > TREE_SITTER_LANGUAGE_VERSION)
      fprintf(stderr, "%s: grammar ABI %u\n", langs[i].name, v);
    ASSERT(v >= TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION);
    ASSERT(v <= TREE_SITTER_LANGUAGE_VERSION);
    ASSERT(ts_parser_set_language(p, langs[i].load()));
  }
  ts_parser_delete(p);
}

TEST(grammars_samples_parse_cleanly) {
  size_t count;
  const qr_language *langs = qr_languages(&count);
  TSParser *p = ts_parser_new();
  for (size_t i = 0; i < count; i++) {
    char *path = sample_path(&langs[i]), *text = NULL;
    size_t len = 0;
    qr_err e = {0};
    int rc = qr_read_file(path, 1 << 20, &text, &len, &e);
    if (rc) fprintf(stderr, "%s: no sample: %s\n", langs[i].name, e.msg);
    ASSERT_OK(rc);
    ASSERT(len > 0);
    ASSERT(ts_parser_set_language(p, langs[i].load()));
    TSTree *tree = ts_parser_parse_string(p, NULL, text, (uint32_t)len);
    ASSERT(tree != NULL);
    TSNode root = ts_tree_root_node(tree);
    if (ts_node_has_error(root)) {
      char *sexp = ts_node_string(root);
      fprintf(stderr, "%s: %s has errors:\n%s\n", langs[i].name, path, sexp);
      free(sexp);
    }
    ASSERT(!ts_node_has_error(root));
    ASSERT(ts_node_named_child_count(root) > 0);
    ts_tree_delete(tree);
    qr_free(text);
    qr_free(path);
  }
  /* the check above can fail: a broken snippet does report errors */
  ASSERT(ts_parser_set_language(p, qr_language_by_name("c")->load()));
  TSTree *bad = ts_parser_parse_string(p, NULL, "int main( {", 11);
  ASSERT(ts_node_has_error(ts_tree_root_node(bad)));
  ts_tree_delete(bad);
  ts_parser_delete(p);
}
