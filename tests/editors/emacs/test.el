;;; test.el --- Emacs 28 + eglot 1.9 batch test of quorum-ls  -*- lexical-binding: t -*-
;; Opens the changed file, connects eglot to quorum-ls, saves, waits for Flymake diagnostics,
;; checks their line, text span and message, asks for code actions on the fixed line, applies
;; the fix and checks the buffer. Writes "ok NAME" / "FAIL NAME: detail" lines to
;; $QUORUM_RESULT; every wait is bounded; always exits.
(require 'eglot)
(require 'flymake)

(defvar qr-result (getenv "QUORUM_RESULT"))

(defun qr-check (name ok &optional detail)
  (let ((coding-system-for-write 'utf-8))
    (write-region (format "%s emacs/%s%s\n" (if ok "ok" "FAIL") name
                          (if ok "" (format ": %S" detail)))
                  nil qr-result 'append 'silent))
  ok)

(defun qr-wait (pred seconds)
  "Runs the event loop until PRED is non-nil or SECONDS pass; returns PRED's value."
  (let ((end (+ (float-time) seconds)))
    (while (and (not (funcall pred)) (< (float-time) end))
      (accept-process-output nil 0.1))
    (funcall pred)))

(defun qr-line (n)
  (save-excursion (goto-char (point-min)) (forward-line (1- n))
                  (buffer-substring-no-properties (line-beginning-position) (line-end-position))))

(defun qr-run ()
  (setq eglot-server-programs
        `((python-mode ,(getenv "QUORUM_LS") "--config" ,(getenv "QUORUM_CONFIG_FILE")
                       :initializationOptions (:debounceMs 50))))
  (setq eglot-sync-connect 30 eglot-connect-timeout 30)
  (find-file (getenv "QUORUM_FILE"))
  (unless (eq major-mode 'python-mode) (python-mode))
  (apply #'eglot (eglot--guess-contact))
  (unless (qr-check "connected" (qr-wait #'eglot-current-server 30)) (error "no server"))
  (set-buffer-modified-p t)
  (save-buffer) ; didSave starts the review
  ;; the final publication: the provisional ones (passes still answering) say so
  (let ((diags (qr-wait (lambda ()
                          (let ((ds (flymake-diagnostics)))
                            (and (not (seq-some (lambda (x) (string-search "provisional" (flymake-diagnostic-text x))) ds))
                                 ds)))
                        40)))
    (unless (qr-check "diagnostics" (= (length diags) 1) diags) (error "no diagnostics"))
    (let* ((d (car diags)) (beg (flymake-diagnostic-beg d)) (end (flymake-diagnostic-end d)))
      (qr-check "line" (= (line-number-at-pos beg) 6) (line-number-at-pos beg))
      (qr-check "message" (string-search "(2/2 passes)" (flymake-diagnostic-text d))
                (flymake-diagnostic-text d))
      ;; eglot counts columns in UTF-16 units: the span must be exactly the line's text.
      (qr-check "range" (equal (buffer-substring-no-properties beg end)
                               (string-trim (getenv "QUORUM_LINE6")))
                (buffer-substring-no-properties beg end))))
  (goto-char (point-min))
  (forward-line 5)
  (forward-char 6)
  (let* ((actions (eglot-code-actions (point) (point)))
         (fix (seq-find (lambda (a) (and (equal (plist-get a :kind) "quickfix")
                                         (plist-get a :edit)))
                        actions)))
    (unless (qr-check "code_action" fix actions) (error "no fix"))
    (qr-check "dismiss_offered"
              (seq-find (lambda (a) (string-search "Dismiss" (plist-get a :title))) actions))
    (eglot--apply-workspace-edit (plist-get fix :edit))
    (qr-check "fix_applied" (equal (qr-line 6) (getenv "QUORUM_FIXED6")) (qr-line 6))
    (qr-check "other_lines_kept" (and (equal (qr-line 7) "    return msg")
                                      (equal (qr-line 5) "def wave(n):"))
              (buffer-string))))

(condition-case err
    (qr-run)
  (error (qr-check "no_error" nil err)))
(ignore-errors (eglot-shutdown (eglot-current-server)))
(kill-emacs 0)
