/* languages.h — the bundled tree-sitter grammars and how file names map to them. */
#ifndef QR_LANGUAGES_H
#define QR_LANGUAGES_H

#include <tree_sitter/api.h>

typedef struct qr_language {
  const char *name;               /* "c", "cpp", "python", … — also the LSP languageId */
  const TSLanguage *(*load)(void); /* the grammar's tree_sitter_<name>() */
  const char *extensions;          /* space-separated, with dots: ".c .h" */
  const char *queries_dir;         /* the npm package's queries/ folder, relative to grammars/ */
} qr_language;

/* All bundled languages; *count receives their number. Borrowed, static. */
const qr_language *qr_languages(size_t *count);
/* By name or LSP languageId ("c", "javascriptreact" → javascript, …); NULL when unknown. */
const qr_language *qr_language_by_name(const char *name);
/* By file extension (case-sensitive, last dot); NULL when unknown. */
const qr_language *qr_language_for_path(const char *path);

#endif
