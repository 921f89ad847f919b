/* context.c — from diff + snapshot to the code each review pass reads (see context.h).
 *
 * Per file: every added line is mapped to its smallest enclosing definition (a per-language
 * list of tree-sitter node types); changes outside any definition get their hunk plus a few
 * lines around; files without a grammar get their hunks ±10 lines. Regions are merged when
 * they overlap, rendered with line numbers, and packed greedily into chunks; a region
 * larger than a chunk is split by lines. Each file is redacted first and everything after
 * reads the redacted copy, so no stage (a cut line, a label) can let a secret through. */
#include "change/context.h"

#include <string.h>

#include <tree_sitter/api.h>

#include "change/languages.h"

#define TOPLEVEL_MARGIN 3   /* lines around a change outside any definition */
#define NO_GRAMMAR_MARGIN 10
#define MAX_DEF_LINES 400   /* a longer definition (a big class) is too costly to send whole… */
#define BIG_DEF_MARGIN 20   /* …so its hunk ±20 lines is sent instead, labelled with the def */
#define MAX_NAME_BYTES 80
#define MAX_DEF_TYPES 12
#define MIN_BUDGET 256     /* tokens; below this headers crowd out the code */
#define MAX_HEADER 256     /* bytes of a "lines A-B (label)" line, label included */

/* --- which nodes are definitions --------------------------------------------------------- */

static const struct {
  const char *lang;
  const char *const types[MAX_DEF_TYPES]; /* NULL-padded */
} def_types[] = {
    {"c", {"function_definition", "struct_specifier", "union_specifier", "enum_specifier"}},
    {"cpp", {"function_definition", "class_specifier", "struct_specifier", "union_specifier",
             "enum_specifier", "lambda_expression"}},
    {"python", {"function_definition", "class_definition", "decorated_definition"}},
    {"javascript", {"function_declaration", "generator_function_declaration", "method_definition",
                    "class_declaration", "function_expression", "function", "arrow_function"}},
    {"typescript", {"function_declaration", "generator_function_declaration", "method_definition",
                    "class_declaration", "abstract_class_declaration", "interface_declaration",
                    "enum_declaration", "function_expression", "function", "arrow_function"}},
    {"tsx", {"function_declaration", "generator_function_declaration", "method_definition",
             "class_declaration", "abstract_class_declaration", "interface_declaration",
             "enum_declaration", "function_expression", "function", "arrow_function"}},
    {"go", {"function_declaration", "method_declaration", "type_declaration"}},
    {"rust", {"function_item", "impl_item", "struct_item", "enum_item", "trait_item",
              "macro_definition"}},
    {"java", {"method_declaration", "constructor_declaration", "class_declaration",
              "interface_declaration", "enum_declaration", "record_declaration"}},
    {"bash", {"function_definition"}},
    {"ruby", {"method", "singleton_method", "class", "module"}},
};

static const char *const *types_for(const qr_language *lang) {
  for (size_t i = 0; lang && i < QR_ARRAY_LEN(def_types); i++)
    if (!strcmp(def_types[i].lang, lang->name)) return def_types[i].types;
  return NULL;
}

/* Anonymous functions count only when named by a binding (`const f = () => …`); otherwise a
 * one-line callback would hide the function around it. A C struct counts only with a body. */
static bool is_definition(TSNode n, TSNode parent, const char *const *types) {
  const char *t = ts_node_type(n);
  const char *const *p = types;
  while (p < types + MAX_DEF_TYPES && *p && strcmp(*p, t)) p++;
  if (p == types + MAX_DEF_TYPES || !*p) return false;
  if (!strcmp(t, "arrow_function") || !strcmp(t, "function_expression") ||
      !strcmp(t, "function") || !strcmp(t, "lambda_expression"))
    return !ts_node_is_null(parent) && !strcmp(ts_node_type(parent), "variable_declarator");
  if (strstr(t, "_specifier")) return !ts_node_is_null(ts_node_child_by_field_name(n, "body", 4));
  return true;
}

/* The identifier naming a definition: its `name` field, the innermost C declarator, or the
 * binding of an anonymous function. May be a null node. */
static TSNode name_of(TSNode n) {
  TSNode name = ts_node_child_by_field_name(n, "name", 4);
  if (!ts_node_is_null(name)) return name;
  TSNode d = ts_node_child_by_field_name(n, "declarator", 10);
  for (TSNode next; !ts_node_is_null(d); d = next) {
    next = ts_node_child_by_field_name(d, "declarator", 10);
    if (ts_node_is_null(next)) return d;
  }
  TSNode parent = ts_node_parent(n);
  if (!ts_node_is_null(parent) && !strcmp(ts_node_type(parent), "variable_declarator"))
    return ts_node_child_by_field_name(parent, "name", 4);
  return d;
}

/* "function_definition add" (new string), or just the node type when the name is missing,
 * spans lines or is unreasonably long. */
static char *label_of(TSNode n, const qr_snapshot_file *f) {
  TSNode name = name_of(n);
  if (!ts_node_is_null(name)) {
    uint32_t a = ts_node_start_byte(name), b = ts_node_end_byte(name);
    if (b > a && b - a <= MAX_NAME_BYTES && b <= f->len && !memchr(f->text + a, '\n', b - a))
      return qr_asprintf("%s %.*s", ts_node_type(n), (int)(b - a), f->text + a);
  }
  return qr_strdup(ts_node_type(n));
}

/* --- regions ------------------------------------------------------------------------------ */

typedef struct region {
  int start, end; /* 1-based inclusive new-file lines */
  char *label;    /* owned; NULL for top-level code */
} region;

typedef struct region_list {
  region *items;
  size_t n, alloc;
} region_list;

static void regions_free(region_list *l) {
  for (size_t i = 0; i < l->n; i++) qr_free(l->items[i].label);
  qr_free(l->items);
  *l = (region_list){0};
}

/* Appends [start,end] clamped to the file; takes `label` (freed on failure). */
static int regions_add(region_list *l, int start, int end, char *label, int n_lines) {
  start = QR_MAX(start, 1);
  end = QR_MIN(end, n_lines);
  if (start > end) {
    qr_free(label);
    return 0;
  }
  if (l->n == l->alloc) {
    size_t alloc = l->alloc ? l->alloc * 2 : 8;
    region *items = qr_realloc(l->items, alloc * sizeof *items);
    if (!items) {
      qr_free(label);
      return QR_E_NOMEM;
    }
    l->items = items;
    l->alloc = alloc;
  }
  l->items[l->n++] = (region){start, end, label};
  return 0;
}

static int cmp_region(const void *a, const void *b) {
  const region *x = a, *y = b;
  return x->start != y->start ? (x->start > y->start) - (x->start < y->start)
                              : (y->end > x->end) - (y->end < x->end);
}

/* Sorts and merges overlapping regions. A merged region keeps a label only when one of its
 * parts (a definition) encloses all of it; otherwise it is no longer "that function". */
static void regions_merge(region_list *l) {
  if (!l->n) return;
  qsort(l->items, l->n, sizeof *l->items, cmp_region);
  size_t w = 0;
  for (size_t i = 1; i < l->n; i++) {
    region *cur = &l->items[w], *next = &l->items[i];
    if (next->start > cur->end) {
      l->items[++w] = *next;
      continue;
    }
    /* Sorted by start, then widest first: next is either inside cur or sticks out of it. */
    if (next->end > cur->end) {
      qr_free(cur->label);
      cur->label = NULL;
      cur->end = next->end;
    }
    qr_free(next->label);
  }
  l->n = w + 1;
}

/* The smallest definition enclosing new-file `line`, or a null node. One descent from the
 * root through the nodes spanning the line's text (the path ts_node_descendant_for_byte_range
 * takes), keeping the innermost definition on it: walking back up with ts_node_parent instead
 * restarts from the root at every step, which made this quadratic in the nesting depth. */
static TSNode enclosing_def(TSTreeCursor *c, TSNode root, const qr_snapshot_file *f, int line,
                            const char *const *types) {
  const char *p;
  size_t len;
  TSNode def = {0}, parent = {0}, node = root;
  if (!qr_snapshot_line(f, line, &p, &len)) return def;
  size_t a = (size_t)(p - f->text), b = a + len;
  while (a < b && (f->text[a] == ' ' || f->text[a] == '\t')) a++;
  ts_tree_cursor_reset(c, root);
  for (;;) {
    if (is_definition(node, parent, types)) def = node;
    /* The first child ending after `a` (tree-sitter skips the others by their sizes) is the
     * only candidate: any later sibling starts at or after its end, so after `a`. */
    if (ts_tree_cursor_goto_first_child_for_byte(c, (uint32_t)a) < 0) break;
    TSNode child = ts_tree_cursor_current_node(c);
    if (ts_node_end_byte(child) < b || ts_node_start_byte(child) > a) break;
    parent = node;
    node = child;
  }
  return def;
}

static void node_lines(TSNode n, int *start, int *end) {
  TSPoint s = ts_node_start_point(n), e = ts_node_end_point(n);
  *start = (int)s.row + 1;
  /* A node ending at column 0 ends with the previous line's newline. */
  *end = (e.column == 0 && e.row > s.row) ? (int)e.row : (int)e.row + 1;
}

/* Regions for one hunk of a parsed file. */
static int hunk_regions(region_list *l, const qr_hunk *h, TSTreeCursor *c, TSNode root,
                        const qr_snapshot_file *f, const char *const *types) {
  int n_lines = (int)f->n_lines, hunk_end = h->new_start + h->new_count - 1;
  bool toplevel = false;
  for (size_t i = 0; i < h->n_added; i++) {
    TSNode def = enclosing_def(c, root, f, h->added[i], types);
    if (ts_node_is_null(def)) {
      toplevel = true;
      continue;
    }
    int a, b, rc;
    node_lines(def, &a, &b);
    char *label = label_of(def, f);
    if (!label) return QR_E_NOMEM;
    if (b - a + 1 > MAX_DEF_LINES)
      rc = regions_add(l, h->new_start - BIG_DEF_MARGIN, hunk_end + BIG_DEF_MARGIN, label, n_lines);
    else
      rc = regions_add(l, a, b, label, n_lines);
    if (rc) return rc;
  }
  if (!toplevel) return 0;
  return regions_add(l, h->new_start - TOPLEVEL_MARGIN, hunk_end + TOPLEVEL_MARGIN, NULL, n_lines);
}

/* `parser` is shared by every file of a build (made on first use): a new one per file cost
 * its allocations again each time. */
static int file_regions(region_list *l, const qr_diff_file *df, const qr_snapshot_file *f,
                        TSParser **parser) {
  const char *const *types = types_for(f->lang);
  if (types && !*parser && !(*parser = ts_parser_new())) return QR_E_NOMEM;
  TSTree *tree = NULL;
  if (types && ts_parser_set_language(*parser, f->lang->load()))
    tree = ts_parser_parse_string(*parser, NULL, f->text, (uint32_t)f->len);
  TSNode root = tree ? ts_tree_root_node(tree) : (TSNode){0};
  TSTreeCursor cursor = tree ? ts_tree_cursor_new(root) : (TSTreeCursor){0};
  int rc = 0;
  for (size_t i = 0; !rc && i < df->n_hunks; i++) {
    const qr_hunk *h = &df->hunks[i];
    if (!h->n_added) continue;
    if (tree)
      rc = hunk_regions(l, h, &cursor, root, f, types);
    else /* no grammar (or a grammar that would not load): plain line windows */
      rc = regions_add(l, h->new_start - NO_GRAMMAR_MARGIN,
                       h->new_start + h->new_count - 1 + NO_GRAMMAR_MARGIN, NULL,
                       (int)f->n_lines);
  }
  if (tree) ts_tree_cursor_delete(&cursor);
  ts_tree_delete(tree);
  if (!rc) regions_merge(l);
  return rc;
}

/* --- packing into chunks ------------------------------------------------------------------ */

typedef struct builder {
  qr_context *ctx;
  size_t chunks_alloc, omitted_alloc;
  size_t budget;      /* bytes per chunk: 4 × tokens */
  qr_buf cur;         /* the chunk being filled */
  const char *cur_file; /* the file whose ### FILE header is the latest in cur */
  char **files;       /* paths in cur */
  size_t n_files;
  qr_buf lines;       /* one region rendered */
  size_t *offs;       /* offs[k]: where line k of `lines` starts; offs[n] = len */
  size_t offs_alloc;
  TSParser *parser;   /* shared by every file; NULL until a file has a grammar */
} builder;

int qr_estimate_tokens(const char *text, size_t len) {
  size_t t = len / 4 + (len % 4 != 0);
  return t > 0x7fffffff ? 0x7fffffff : (int)t;
}

static int add_omitted(builder *b, const char *path, const char *reason) {
  qr_context *c = b->ctx;
  if (c->n_omitted == b->omitted_alloc) {
    size_t alloc = b->omitted_alloc ? b->omitted_alloc * 2 : 4;
    char **o = qr_realloc(c->omitted, alloc * sizeof *o);
    if (!o) return QR_E_NOMEM;
    c->omitted = o;
    b->omitted_alloc = alloc;
  }
  char *s = qr_asprintf("%s: %s", path, reason);
  if (!s) return QR_E_NOMEM;
  c->omitted[c->n_omitted++] = s;
  return 0;
}

/* Turns `cur` into a chunk (no-op when empty). */
static int flush(builder *b) {
  if (!b->cur.len) return 0;
  qr_context *c = b->ctx;
  if (c->n_chunks == b->chunks_alloc) {
    size_t alloc = b->chunks_alloc ? b->chunks_alloc * 2 : 4;
    qr_context_chunk *ch = qr_realloc(c->chunks, alloc * sizeof *ch);
    if (!ch) return QR_E_NOMEM;
    c->chunks = ch;
    b->chunks_alloc = alloc;
  }
  size_t len;
  char *text = qr_buf_detach(&b->cur, &len);
  if (!text) return QR_E_NOMEM;
  c->chunks[c->n_chunks++] = (qr_context_chunk){text, b->files, b->n_files,
                                                qr_estimate_tokens(text, len)};
  b->files = NULL;
  b->n_files = 0;
  b->cur_file = NULL;
  return 0;
}

/* Starts `path` in the current chunk: its header line, and its name in the chunk's files. */
static int start_file(builder *b, const char *path, const char *header, size_t header_len) {
  char **files = qr_realloc(b->files, (b->n_files + 1) * sizeof *files);
  if (!files) return QR_E_NOMEM;
  b->files = files;
  if (!(files[b->n_files] = qr_strdup(path))) return QR_E_NOMEM;
  b->n_files++;
  b->cur_file = path;
  return qr_buf_append(&b->cur, header, header_len);
}

/* Appends what printf's "%4d%c| " would for `line` (≥ 1) and its added mark, without printf:
 * this runs once per line sent, and formatting was a visible share of a review's CPU. */
static int put_line_prefix(qr_buf *out, int line, bool added) {
  char tmp[16], *end = tmp + sizeof tmp, *p = end - 3;
  memcpy(p, added ? "+| " : " | ", 3);
  char *digits_end = p;
  do {
    *--p = (char)('0' + line % 10);
    line /= 10;
  } while (line);
  while (digits_end - p < 4) *--p = ' ';
  return qr_buf_append(out, p, (size_t)(end - p));
}

/* Renders lines start..end of f into b->lines, recording where each line begins. Lines longer
 * than `max_line` bytes are cut (at a UTF-8 boundary) with a marker saying how much is missing. */
static int render_lines(builder *b, const qr_diff_file *df, const qr_snapshot_file *f,
                        int start, int end, size_t max_line) {
  size_t n = (size_t)(end - start + 1);
  if (n + 1 > b->offs_alloc) {
    size_t *offs = qr_realloc(b->offs, (n + 1) * sizeof *offs);
    if (!offs) return QR_E_NOMEM;
    b->offs = offs;
    b->offs_alloc = n + 1;
  }
  qr_buf_reset(&b->lines);
  int rc = 0;
  for (int line = start; !rc && line <= end; line++) {
    b->offs[line - start] = b->lines.len;
    const char *p;
    size_t len, cut;
    qr_snapshot_line(f, line, &p, &len);
    for (cut = QR_MIN(len, max_line); cut < len && cut > 0 && ((unsigned char)p[cut] & 0xC0) == 0x80;)
      cut--;
    rc = put_line_prefix(&b->lines, line, qr_diff_line_added(df, line));
    if (!rc) rc = qr_buf_append_utf8(&b->lines, p, cut);
    if (!rc && cut < len) rc = qr_buf_printf(&b->lines, " [… %zu more bytes cut]", len - cut);
    if (!rc) rc = qr_buf_puts(&b->lines, "\n");
  }
  b->offs[n] = b->lines.len;
  return rc;
}

/* Packs one rendered region (b->lines, lines start..end), splitting it when no chunk holds it. */
static int pack_region(builder *b, const char *path, const char *file_header, size_t fh_len,
                       int start, int end, const char *label) {
  size_t n = (size_t)(end - start + 1), i = 0;
  char hdr[MAX_HEADER];
  while (i < n) {
    bool need_fh = b->cur_file != path;
    /* The longest header a piece from line start+i can have (its end has at most end's digits). */
    int hl = snprintf(hdr, sizeof hdr, "lines %d-%d%s%s%s\n", start + (int)i, end,
                      label ? " (" : "", label ? label : "", label ? ")" : "");
    size_t used = b->cur.len + (need_fh ? fh_len : 0) + (size_t)hl;
    size_t room = used < b->budget ? b->budget - used : 0;
    size_t j = n;
    if (b->offs[n] - b->offs[i] > room) {
      if (b->cur.len) { /* a fresh chunk may hold the rest whole */
        int rc = flush(b);
        if (rc) return rc;
        continue;
      }
      for (j = i + 1; j < n && b->offs[j + 1] - b->offs[i] <= room;) j++;
    }
    hl = snprintf(hdr, sizeof hdr, "lines %d-%d%s%s%s\n", start + (int)i, start + (int)j - 1,
                  label ? " (" : "", label ? label : "", label ? ")" : "");
    int rc = need_fh ? start_file(b, path, file_header, fh_len) : 0;
    if (!rc) rc = qr_buf_append(&b->cur, hdr, (size_t)hl);
    if (!rc) rc = qr_buf_append(&b->cur, b->lines.data + b->offs[i], b->offs[j] - b->offs[i]);
    if (!rc && j < n) rc = flush(b);
    if (rc) return rc;
    i = j;
  }
  return 0;
}

static int add_file(builder *b, const qr_diff_file *df, const qr_snapshot_file *f) {
  char *fh = qr_asprintf("### FILE %s (%s)\n", df->path, f->lang ? f->lang->name : "text");
  if (!fh) return QR_E_NOMEM;
  size_t fh_len = strlen(fh);
  /* Every piece must hold its headers and at least one line (cut to a quarter of the budget,
   * plus its number and cut marker), or splitting could not make progress. */
  size_t max_line = b->budget / 4;
  if (fh_len + MAX_HEADER + 64 + max_line > b->budget) {
    qr_free(fh);
    return add_omitted(b, df->path, "path too long for the token budget");
  }
  region_list regions = {0};
  int rc = file_regions(&regions, df, f, &b->parser);
  if (!rc && !regions.n) rc = add_omitted(b, df->path, "added lines are outside the file");
  for (size_t i = 0; !rc && i < regions.n; i++) {
    const region *r = &regions.items[i];
    rc = render_lines(b, df, f, r->start, r->end, max_line);
    if (!rc) rc = pack_region(b, df->path, fh, fh_len, r->start, r->end, r->label);
  }
  regions_free(&regions);
  qr_free(fh);
  return rc;
}

/* Renders the redacted copy of df's file, kept in `clean` (which supplies its line index),
 * and counts what was redacted. */
static int add_redacted_file(builder *b, const qr_diff_file *df, const qr_snapshot *s,
                             qr_snapshot *clean) {
  const qr_snapshot_file *f = qr_snapshot_find(s, df->path);
  qr_redacted r;
  int rc = qr_redact_file(f->path, f->text, f->len, &r, NULL);
  if (rc) return rc;
  rc = qr_snapshot_add(clean, f->path, r.text, r.len);
  for (int k = 0; !rc && k < QR_SECRET_N_RULES; k++) {
    b->ctx->redactions_by_rule[k] += r.counts[k];
    b->ctx->redactions += r.counts[k];
  }
  qr_redacted_clear(&r);
  return rc ? rc : add_file(b, df, qr_snapshot_find(clean, f->path));
}

/* Why a file of the diff has nothing to review, or NULL when it has. */
static const char *skip_reason(const qr_diff_file *df, const qr_snapshot *s) {
  if (df->binary) return "binary";
  if (df->status == QR_FILE_DELETED) return "deleted";
  if (df->mode_only) return "mode change only";
  if (df->symlink) return "a symbolic link: its text is the path it points to, not code";
  if (df->submodule) return "a submodule: its text is a commit id, not code";
  if (!qr_diff_file_reviewable(df)) return "no added lines";
  if (!qr_snapshot_find(s, df->path)) return QR_CONTEXT_NO_TEXT;
  return NULL;
}

int qr_context_build(const qr_diff *d, const qr_snapshot *s, int max_tokens_per_chunk,
                     qr_context **out, qr_err *e) {
  if (!d || !s || !out) return qr_err_set(e, QR_E_INVAL, "qr_context_build: NULL argument");
  if (max_tokens_per_chunk < MIN_BUDGET)
    return qr_err_set(e, QR_E_INVAL, "token budget %d is below %d", max_tokens_per_chunk,
                      MIN_BUDGET);
  builder b = {.budget = (size_t)max_tokens_per_chunk * 4};
  qr_buf_init(&b.cur, b.budget);
  qr_buf_init(&b.lines, SIZE_MAX);
  int rc = (b.ctx = qr_calloc(1, sizeof *b.ctx)) ? 0 : QR_E_NOMEM;
  qr_snapshot *clean = rc ? NULL : qr_snapshot_new();
  if (!rc && !clean) rc = QR_E_NOMEM;
  for (size_t i = 0; !rc && i < d->n_files; i++) {
    const qr_diff_file *df = &d->files[i];
    const char *why = skip_reason(df, s);
    rc = why ? add_omitted(&b, df->path, why) : add_redacted_file(&b, df, s, clean);
  }
  if (!rc) rc = flush(&b);
  for (size_t i = 0; i < b.n_files; i++) qr_free(b.files[i]);
  qr_free(b.files);
  qr_free(b.offs);
  qr_buf_free(&b.cur);
  qr_buf_free(&b.lines);
  if (b.parser) ts_parser_delete(b.parser);
  qr_snapshot_free(clean);
  if (rc) {
    qr_context_free(b.ctx);
    return qr_err_set(e, rc, "building the code context: %s", qr_strerror(rc));
  }
  *out = b.ctx;
  return 0;
}

void qr_context_free(qr_context *c) {
  if (!c) return;
  for (size_t i = 0; i < c->n_chunks; i++) {
    qr_free(c->chunks[i].text);
    for (size_t k = 0; k < c->chunks[i].n_files; k++) qr_free(c->chunks[i].files[k]);
    qr_free(c->chunks[i].files);
  }
  qr_free(c->chunks);
  for (size_t i = 0; i < c->n_omitted; i++) qr_free(c->omitted[i]);
  qr_free(c->omitted);
  qr_free(c);
}

/* Whether the header line [p, eol) is "### FILE <file> (…)". */
static bool is_file_header(const char *p, const char *eol, const char *file) {
  static const char tag[] = "### FILE ";
  size_t tl = sizeof tag - 1, fl = strlen(file);
  return (size_t)(eol - p) > tl + fl + 1 && !memcmp(p, tag, tl) && !memcmp(p + tl, file, fl) &&
         p[tl + fl] == ' ' && p[tl + fl + 1] == '(';
}

bool qr_context_chunk_shows(const qr_context_chunk *ch, const char *file, int start, int end) {
  bool in_file = false;
  for (const char *p = ch->text; p && *p;) {
    const char *eol = strchr(p, '\n');
    if (!eol) eol = p + strlen(p);
    int a, b;
    /* Code lines start with their number, so only headers start with '#' or "lines ". */
    if (*p == '#') in_file = is_file_header(p, eol, file);
    else if (in_file && sscanf(p, "lines %d-%d", &a, &b) == 2 && a <= end && start <= b) return true;
    p = *eol ? eol + 1 : eol;
  }
  return false;
}
