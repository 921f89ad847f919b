/* log.h — leveled logging to stderr (never stdout: stdout carries the protocol) or a file. */
#ifndef QR_LOG_H
#define QR_LOG_H

typedef enum { QR_LOG_ERROR = 0, QR_LOG_WARN, QR_LOG_INFO, QR_LOG_DEBUG } qr_log_level;

/* Messages above `level` are dropped. Default: QR_LOG_WARN. */
void qr_log_set_level(qr_log_level level);
qr_log_level qr_log_get_level(void);
/* Appends to `path` instead of stderr; returns 0 or a QR_E_* code. NULL restores stderr. */
int qr_log_open(const char *path);
void qr_log_close(void);
/* Never pass secrets: callers log key *names*, never values. */
void qr_log(qr_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define QR_ERROR(...) qr_log(QR_LOG_ERROR, __VA_ARGS__)
#define QR_WARN(...) qr_log(QR_LOG_WARN, __VA_ARGS__)
#define QR_INFO(...) qr_log(QR_LOG_INFO, __VA_ARGS__)
#define QR_DEBUG(...) qr_log(QR_LOG_DEBUG, __VA_ARGS__)

#endif
