/* languages.c — the grammar table. Grammars are compiled from the pinned npm packages
 * (grammars/package-lock.json) into build/grammars/libgrammars.a by the Makefile. */
#include "change/languages.h"

#include <string.h>

const TSLanguage *tree_sitter_bash(void);
const TSLanguage *tree_sitter_c(void);
const TSLanguage *tree_sitter_cpp(void);
const TSLanguage *tree_sitter_go(void);
const TSLanguage *tree_sitter_java(void);
const TSLanguage *tree_sitter_javascript(void);
const TSLanguage *tree_sitter_python(void);
const TSLanguage *tree_sitter_ruby(void);
const TSLanguage *tree_sitter_rust(void);
const TSLanguage *tree_sitter_typescript(void);
const TSLanguage *tree_sitter_tsx(void);

static const qr_language table[] = {
    {"c", tree_sitter_c, ".c .h", "node_modules/tree-sitter-c/queries"},
    {"cpp", tree_sitter_cpp, ".cc .cpp .cxx .hpp .hh .hxx .C .H", "node_modules/tree-sitter-cpp/queries"},
    {"python", tree_sitter_python, ".py .pyi", "node_modules/tree-sitter-python/queries"},
    {"javascript", tree_sitter_javascript, ".js .mjs .cjs .jsx", "node_modules/tree-sitter-javascript/queries"},
    {"typescript", tree_sitter_typescript, ".ts .mts .cts", "node_modules/tree-sitter-typescript/queries"},
    {"tsx", tree_sitter_tsx, ".tsx", "node_modules/tree-sitter-typescript/queries"},
    {"go", tree_sitter_go, ".go", "node_modules/tree-sitter-go/queries"},
    {"rust", tree_sitter_rust, ".rs", "node_modules/tree-sitter-rust/queries"},
    {"java", tree_sitter_java, ".java", "node_modules/tree-sitter-java/queries"},
    {"bash", tree_sitter_bash, ".sh .bash", "node_modules/tree-sitter-bash/queries"},
    {"ruby", tree_sitter_ruby, ".rb .rake .gemspec", "node_modules/tree-sitter-ruby/queries"},
};

/* LSP languageIds that differ from our grammar names. */
static const struct {
  const char *id, *name;
} aliases[] = {
    {"javascriptreact", "javascript"}, {"typescriptreact", "tsx"}, {"shellscript", "bash"},
    {"sh", "bash"}, {"objective-c", "c"}, {"cuda", "cpp"},
};

const qr_language *qr_languages(size_t *count) {
  *count = sizeof table / sizeof table[0];
  return table;
}

const qr_language *qr_language_by_name(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (!strcmp(aliases[i].id, name)) name = aliases[i].name;
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (!strcmp(table[i].name, name)) return &table[i];
  return NULL;
}

/* True when `ext` (".c") is one of the space-separated words of `list`. */
static int has_word(const char *list, const char *ext) {
  size_t n = strlen(ext);
  for (const char *p = list; (p = strstr(p, ext)); p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return 1;
  return 0;
}

const qr_language *qr_language_for_path(const char *path) {
  if (!path) return NULL;
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash : path, '.');
  if (!dot || dot[1] == '\0') return NULL;
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (has_word(table[i].extensions, dot)) return &table[i];
  return NULL;
}
