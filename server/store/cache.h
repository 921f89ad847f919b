/* cache.h — the pass cache: model answers kept in SQLite so reviewing an unchanged diff again
 * makes no model calls, and changing one function re-sends only the requests whose context
 * changed. The judge's verdicts are cached the same way, keyed by the judge's input.
 *
 * The database is $XDG_CACHE_HOME/quorum/cache.db (default ~/.cache/quorum/cache.db, file 0600
 * in a 0700 folder), in WAL mode with a busy timeout, so several quorum processes can read and
 * write it at once. Its size is capped: each put evicts the least recently used entries until
 * the entries' bytes fit under the cap. A cache hit is not a call: it goes in no ledger.
 *
 * Every failure is an error code with a sentence, never a crash — a damaged or unwritable
 * cache makes qr_cache_open fail, and the caller reviews without a cache. */
#ifndef QR_CACHE_H
#define QR_CACHE_H

#include <jansson.h>
#include <stddef.h>

#include "common.h"

/* The default size cap when qr_cache_open gets 0. */
#define QR_CACHE_DEFAULT_MAX_BYTES (256u << 20)
/* How long a call waits for another process holding the database, in ms. */
#define QR_CACHE_BUSY_TIMEOUT_MS 5000
/* Size of a key from qr_cache_key: 64 hex digits of SHA-256 and a NUL. */
#define QR_CACHE_KEY_SIZE 65

typedef struct qr_cache qr_cache;

/* What a cached call answered. */
typedef struct qr_cache_entry {
  char *text;         /* the answer text; owned */
  char *model_served; /* owned; NULL when the provider did not say */
  long input_tokens, output_tokens, cached_tokens;
  double cost_usd;    /* what the original call cost (a hit costs nothing) */
} qr_cache_entry;

/* Frees the owned members and zeroes e. */
void qr_cache_entry_clear(qr_cache_entry *e);

/* What keys mean: bump it when the key's parts or an entry's meaning change, so old entries
 * are never served for a new build's requests. */
#define QR_CACHE_FORMAT "quorum-cache-2"

/* The key of one request: SHA-256 over `version` (QR_CACHE_FORMAT and anything that tells
 * otherwise equal requests apart), the URL, the headers sent except the auth line, and the
 * exact body sent (model, temperature, max tokens, stream, schema and the prompt are all in
 * it). Each part is length-prefixed, so no two different lists of parts give the same input;
 * NULL differs from "". body_len is the length of body. */
void qr_cache_key(const char *version, const char *url, const char *headers, const char *body,
                  size_t body_len, char out[QR_CACHE_KEY_SIZE]);

/* The default database path. *out is new (qr_free); QR_E_NOTFOUND without XDG_CACHE_HOME/HOME. */
int qr_cache_default_path(char **out, qr_err *e);

/* Opens (creating when missing) the database at `path` (NULL: the default) with a cap of
 * max_bytes (0: QR_CACHE_DEFAULT_MAX_BYTES). *out is new; close with qr_cache_close.
 * QR_E_IO, naming the file and SQLite's reason, when it cannot be created, is not a database
 * or is damaged; QR_E_TIMEOUT when other processes keep it locked past the busy timeout. */
int qr_cache_open(const char *path, size_t max_bytes, qr_cache **out, qr_err *e);
/* Closes the database and frees c; NULL is a no-op. */
void qr_cache_close(qr_cache *c);

/* Looks up `key`. On a hit fills *out (clear it with qr_cache_entry_clear), marks the entry
 * most recently used and returns QR_OK; QR_E_NOTFOUND on a miss; QR_E_IO/QR_E_TIMEOUT/QR_E_NOMEM
 * otherwise (*out untouched). */
int qr_cache_get(qr_cache *c, const char *key, qr_cache_entry *out, qr_err *e);
/* Stores `entry` (borrowed; text required) under `key`, replacing an older one, then evicts the
 * least recently used entries until the total fits under the cap. QR_E_TOOBIG (nothing stored)
 * when the entry alone exceeds the cap; QR_E_INVAL without text. */
int qr_cache_put(qr_cache *c, const char *key, const qr_cache_entry *entry, qr_err *e);
/* *out is a new object {"path", "entries", "bytes", "max_bytes", "hits", "file_bytes"}: bytes
 * is what the entries hold (the cap applies to it), hits how often they were served, file_bytes
 * the database file's size. */
int qr_cache_stats(qr_cache *c, json_t **out, qr_err *e);
/* Removes every entry and gives the space back to the file system. */
int qr_cache_clear(qr_cache *c, qr_err *e);

#endif
