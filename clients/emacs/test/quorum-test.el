;;; quorum-test.el --- Batch test of quorum.el with Emacs 28 + eglot 1.9  -*- lexical-binding: t -*-
;; Run by tests/e2e/test_emacs_package through tests/editors/runner.py: loads the package, lets it
;; register with eglot, opens the changed file, connects through the registered contact, saves,
;; waits for Flymake diagnostics, then drives the package's commands (explain, clear, review,
;; ledger, dismiss). Writes "ok NAME" / "FAIL NAME: detail" lines to $QUORUM_RESULT; every wait
;; is bounded; always exits.
(require 'quorum)

(defvar qt-result (getenv "QUORUM_RESULT"))

(defun qt-check (name ok &optional detail)
  (let ((coding-system-for-write 'utf-8))
    (write-region (format "%s emacs-package/%s%s\n" (if ok "ok" "FAIL") name
                          (if ok "" (format ": %S" detail)))
                  nil qt-result 'append 'silent))
  ok)

(defun qt-wait (pred seconds)
  "Runs the event loop until PRED is non-nil or SECONDS pass; returns PRED's value."
  (let ((end (+ (float-time) seconds)))
    (while (and (not (funcall pred)) (< (float-time) end))
      (accept-process-output nil 0.1))
    (funcall pred)))

;; A review's final diagnostics: provisional ones (passes still answering) say so.
(defun qt-final ()
  (let ((ds (flymake-diagnostics)))
    (and (not (seq-some (lambda (d) (string-search "provisional" (flymake-diagnostic-text d))) ds))
         ds)))

(defun qt-run ()
  (setq quorum-server-program (getenv "QUORUM_LS")
        quorum-config-file (getenv "QUORUM_CONFIG_FILE")
        quorum-debounce-ms 50)
  (qt-check "not_registered_before_eglot" (not (boundp 'eglot-server-programs)))
  (require 'eglot)
  (qt-check "registered_with_eglot"
            (equal (cdr (assoc quorum-major-modes eglot-server-programs)) #'quorum--eglot-contact)
            (car eglot-server-programs))
  (setq eglot-sync-connect 30 eglot-connect-timeout 30)
  (find-file (getenv "QUORUM_FILE"))
  (unless (eq major-mode 'python-mode) (python-mode))
  (let ((contact (eglot--guess-contact)))
    (qt-check "contact" (and (equal (nth 3 contact) (quorum--eglot-contact nil))
                             (equal (car (nth 3 contact)) (getenv "QUORUM_LS")))
              contact)
    (apply #'eglot contact))
  (unless (qt-check "connected" (qt-wait #'eglot-current-server 30)) (error "no server"))
  (set-buffer-modified-p t)
  (save-buffer) ; didSave starts the review
  (let ((diags (qt-wait #'qt-final 40)))
    (unless (qt-check "diagnostics" (= (length diags) 1) diags) (error "no diagnostics"))
    (qt-check "message" (string-search "(2/2 passes)" (flymake-diagnostic-text (car diags)))
              (flymake-diagnostic-text (car diags))))
  (goto-char (point-min))
  (forward-line 5)
  (qt-check "fingerprint_at_point" (stringp (quorum-fingerprint-at-point)))
  (let ((text (quorum-explain)))
    (qt-check "explain" (and (stringp text) (string-search "m1" text) (string-search "m2" text)) text))
  (quorum-clear)
  (qt-check "clear" (qt-wait (lambda () (null (flymake-diagnostics))) 5) (flymake-diagnostics))
  (quorum-review-file)
  (qt-check "review_file" (= 1 (length (qt-wait #'qt-final 40)))
            (flymake-diagnostics))
  (let ((ledger (condition-case err (list 'ok (quorum-ledger)) (error (list 'error err)))))
    (qt-check "ledger" (eq (car ledger) 'ok) ledger))
  (goto-char (point-min))
  (forward-line 5)
  (quorum-dismiss)
  (qt-check "dismiss" (qt-wait (lambda () (null (flymake-diagnostics))) 5) (flymake-diagnostics))
  (qt-check "dismissed_recorded"
            (file-exists-p (expand-file-name ".quorum/dismissed" (getenv "QUORUM_ROOT"))))
  (goto-char (point-min))
  (qt-check "dismiss_needs_a_finding"
            (condition-case nil (progn (quorum-dismiss) nil) (user-error t)))
  ;; .dir-locals.el cannot set the program, its arguments or the configuration file.
  (qt-check "settings_risky_as_dir_locals"
            (seq-every-p #'risky-local-variable-p '(quorum-server-program quorum-server-args quorum-config-file)))
  ;; eglot-workspace-configuration is a safe local variable: a .dir-locals.el naming a
  ;; configFile is dropped (the rest of the section stays); the user's own value is kept.
  (let ((dir (make-temp-file "quorum-dirlocals-" t)) (inhibit-message t))
    (with-temp-file (expand-file-name ".dir-locals.el" dir)
      (insert "((nil . ((eglot-workspace-configuration . "
              "(:quorum (:configFile \"/proc/self/cwd/evil.json\" :trigger \"manual\"))))))\n"))
    (with-temp-buffer
      (setq default-directory (file-name-as-directory dir))
      (hack-dir-local-variables-non-file-buffer)
      (qt-check "dir_local_config_file_dropped"
                (equal (eglot--workspace-configuration-plist nil) '(:quorum (:trigger "manual")))
                (eglot--workspace-configuration-plist nil)))
    (with-temp-buffer
      (setq-local eglot-workspace-configuration '(:quorum (:configFile "/home/u/q.json")))
      (qt-check "user_config_file_kept"
                (equal (eglot--workspace-configuration-plist nil) '(:quorum (:configFile "/home/u/q.json")))
                (eglot--workspace-configuration-plist nil)))
    (delete-directory dir t))
  ;; A configuration file the repository supplies is refused however it is named.
  (let ((root (getenv "QUORUM_ROOT")) (home (expand-file-name "~")))
    (dolist (bad `(("relative" . "ws-cfg.json") ("dotdot" . ,(concat root "/src/../ws-cfg.json"))
                   ("tilde" . "~/link.json") ("symlink" . ,(concat home "/link.json"))
                   ("inside" . ,(getenv "QUORUM_WS_CONFIG"))))
      (qt-check (concat "config_refused/" (car bad))
                (condition-case nil (progn (quorum-resolve-config (cdr bad) root) nil) (user-error t))))
    (make-symbolic-link (getenv "QUORUM_CONFIG_FILE") (concat home "/good.json") t)
    (qt-check "config_tilde_expands"
              (equal (quorum-resolve-config "~/good.json" root) (file-truename (getenv "QUORUM_CONFIG_FILE"))))
    (let ((quorum-config-file "ws-cfg.json") (inhibit-message t))
      (qt-check "config_refused_not_sent"
                (not (plist-member (quorum-initialization-options) :configFile))
                (quorum-initialization-options))
      (qt-check "config_refused_said"
                (with-current-buffer "*Messages*"
                  (save-excursion (goto-char (point-max))
                                  (search-backward "ws-cfg.json is relative" nil t)))))))

(condition-case err
    (qt-run)
  (error (qt-check "no_error" nil err)))
(ignore-errors (eglot-shutdown (eglot-current-server)))
(kill-emacs 0)
