;;; quorum.el --- Code review by a quorum of models, through quorum-ls  -*- lexical-binding: t -*-

;; Copyright (c) 2026 The quorum authors
;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1"))
;; Keywords: tools, languages, convenience
;; SPDX-License-Identifier: MIT

;;; Commentary:

;; The Emacs client for quorum-ls.  Loading this file registers the server with eglot (when
;; `quorum-register-with-eglot' is non-nil) and, as an add-on client, with lsp-mode when that is
;; present; neither package is loaded by this file.  Findings arrive as Flymake diagnostics
;; (eglot) whose messages end with the agreement, e.g. "(4/6 passes)"; code actions offer the
;; fix, Dismiss and Explain.
;;
;;   (require 'quorum)
;;   (setq quorum-config-file "~/.config/quorum/config.json")  ; optional
;;   M-x eglot in a changed file, save it, and the review runs.
;;
;; Commands (eglot): `quorum-review-file', `quorum-review-changes', `quorum-review-staged',
;; `quorum-dismiss', `quorum-explain', `quorum-clear', `quorum-ledger'.

;;; Code:

(require 'flymake)
(require 'project)
(require 'seq)

(defgroup quorum nil
  "Code review by a quorum of models (quorum-ls)."
  :group 'tools
  :prefix "quorum-")

(defcustom quorum-server-program "quorum-ls"
  "The quorum-ls executable: a name found in `exec-path' or a file name.
Risky as a file-local or directory-local variable: a project must not
pick the program that runs."
  :type 'string
  :risky t)

(defcustom quorum-server-args nil
  "Extra command-line arguments for quorum-ls."
  :type '(repeat string)
  :risky t)

(defcustom quorum-config-file nil
  "The quorum configuration file: an absolute name or one under \"~/\".
nil: $QUORUM_CONFIG, else the user configuration file.  It must lie
outside the reviewed project (symlinks followed): the server takes
provider keys only from user-level files.  A refused file is said and
the user configuration is used instead."
  :type '(choice (const :tag "Default" nil) file)
  :risky t)

(defcustom quorum-trigger 'onSave
  "When reviews run: on each save, or only on a quorum command."
  :type '(choice (const :tag "On save" onSave) (const :tag "Manual" manual)))

(defcustom quorum-debounce-ms 1000
  "Milliseconds to wait after a save before reviewing.
A newer save restarts the wait."
  :type 'integer)

(defcustom quorum-major-modes
  '(c-mode c++-mode python-mode js-mode js2-mode typescript-mode go-mode rust-mode
           java-mode sh-mode ruby-mode)
  "Major modes whose buffers quorum-ls reviews."
  :type '(repeat symbol))

(defcustom quorum-register-with-eglot t
  "Whether loading quorum adds quorum-ls to `eglot-server-programs'.
Eglot runs one server per major mode and project, so this makes
quorum-ls the server of `quorum-major-modes'; lsp-mode users get
quorum as an add-on next to their other servers."
  :type 'boolean)

;; eglot, jsonrpc and lsp-mode are optional at load time (`emacs -Q' has no eglot on Emacs 28).
(defvar eglot-server-programs)
(declare-function eglot-current-server "eglot" ())
(declare-function eglot--path-to-uri "eglot" (path))
(declare-function jsonrpc-request "jsonrpc" (connection method params &rest args))
(declare-function lsp-register-client "ext:lsp-mode" (client))
(declare-function make-lsp-client "ext:lsp-mode" (&rest args))
(declare-function lsp-stdio-connection "ext:lsp-mode" (command &optional test-command))

(defconst quorum--method-not-found -32601
  "JSON-RPC error code of a request the server does not know.")

(defun quorum-server-command ()
  "The command line that starts quorum-ls."
  (cons quorum-server-program quorum-server-args))

(defun quorum-resolve-config (file root)
  "The real name of configuration FILE, or a `user-error' saying why it is refused.
\"~\" and \"~/...\" expand to the home folder; other relative names are
refused (they would resolve against the project); symlinks are followed,
and the result must exist and lie outside ROOT."
  (let ((expanded (if (string-match-p "\\`~\\(/\\|\\'\\)" file) (expand-file-name file) file)))
    (unless (string-prefix-p "/" expanded)
      (user-error "quorum: configuration file %s is relative: give an absolute name or ~/..." file))
    (let ((real (file-truename (expand-file-name expanded))))
      (unless (file-exists-p real)
        (user-error "quorum: configuration file %s does not exist" real))
      (when (file-in-directory-p real (file-truename root))
        (user-error "quorum: configuration file %s is inside the project %s" real root))
      real)))

(defun quorum-initialization-options ()
  "The settings sent to quorum-ls as initializationOptions.
A refused `quorum-config-file' is said and left out."
  (append (list :trigger (symbol-name quorum-trigger) :debounceMs quorum-debounce-ms)
          (and quorum-config-file
               (condition-case err
                   (list :configFile (quorum-resolve-config quorum-config-file (quorum--root)))
                 (user-error
                  (message "%s; using the user configuration" (error-message-string err))
                  nil)))))

(defun quorum--eglot-contact (_interactive)
  "The eglot contact for quorum-ls.
Computed each time eglot starts the server, so changed settings apply."
  (append (quorum-server-command)
          (list :initializationOptions (quorum-initialization-options))))

(defun quorum-eglot-register ()
  "Add quorum-ls to `eglot-server-programs' for `quorum-major-modes'."
  (add-to-list 'eglot-server-programs (cons quorum-major-modes #'quorum--eglot-contact)))

(defun quorum--config-file-key-p (key)
  "Whether KEY (keyword, symbol or string) names the configFile setting."
  (member (format "%s" key) '(":configFile" "configFile")))

(defun quorum--without-config-file (section)
  "SECTION (a plist, alist or hash table) without its configFile entry."
  (cond ((hash-table-p section)
         (let ((copy (copy-hash-table section)))
           (dolist (k '("configFile" configFile :configFile) copy) (remhash k copy))))
        ((and (consp section) (keywordp (car section)))
         (let (out)
           (while section
             (unless (quorum--config-file-key-p (car section))
               (setq out (cons (cadr section) (cons (car section) out))))
             (setq section (cddr section)))
           (nreverse out)))
        ((consp section)
         (seq-remove (lambda (e) (and (consp e) (quorum--config-file-key-p (car e)))) section))
        (t section)))

(defun quorum--local-workspace-configuration-p ()
  "Whether `eglot-workspace-configuration' has a local value here."
  (or (assq 'eglot-workspace-configuration file-local-variables-alist)
      (assq 'eglot-workspace-configuration dir-local-variables-alist)))

(defun quorum--filter-workspace-configuration (plist)
  "PLIST (eglot's workspace configuration) without a local quorum configFile.
eglot marks `eglot-workspace-configuration' safe, so a project's
.dir-locals.el could otherwise name the file that says where API keys are
sent.  The server refuses such files too; this is the client's half."
  (if (not (and (consp plist) (quorum--local-workspace-configuration-p)))
      plist
    (let (out)
      (while plist
        (let* ((section (car plist)) (value (cadr plist))
               (clean (if (member (format "%s" section) '(":quorum" "quorum"))
                          (quorum--without-config-file value)
                        value)))
          (unless (equal clean value)
            (message "quorum: configFile from local variables ignored %s"
                     "(a project cannot choose where API keys are sent)"))
          (setq out (cons clean (cons section out)) plist (cddr plist))))
      (nreverse out))))

(with-eval-after-load 'eglot
  (when (fboundp 'eglot--workspace-configuration-plist)
    (advice-add 'eglot--workspace-configuration-plist :filter-return
                #'quorum--filter-workspace-configuration))
  (when quorum-register-with-eglot (quorum-eglot-register)))

(with-eval-after-load 'lsp-mode
  (lsp-register-client
   (make-lsp-client :new-connection (lsp-stdio-connection #'quorum-server-command)
                    :major-modes quorum-major-modes
                    :server-id 'quorum
                    :add-on? t
                    :initialization-options #'quorum-initialization-options)))

;;; Commands (through the buffer's eglot connection)

(defun quorum--server ()
  "The eglot connection of this buffer, or a user error."
  (or (and (featurep 'eglot) (eglot-current-server))
      (user-error "quorum: no eglot connection in this buffer (M-x eglot)")))

(defun quorum--request (method params)
  "Send METHOD with PARAMS to quorum-ls and return the result."
  (jsonrpc-request (quorum--server) method params))

(defun quorum--execute (command &rest args)
  "Run the server's COMMAND with ARGS."
  (quorum--request :workspace/executeCommand (list :command command :arguments (vconcat args))))

(defun quorum--uri ()
  "The URI of this buffer's file."
  (eglot--path-to-uri (or buffer-file-name (user-error "quorum: this buffer has no file"))))

(defun quorum--root ()
  "The project root the workspace-wide reviews start from."
  (let ((project (project-current)))
    (directory-file-name
     (expand-file-name (if project (project-root project) default-directory)))))

(defun quorum-fingerprint-at-point ()
  "The fingerprint of the quorum finding on this line, or nil."
  (seq-some (lambda (d)
              (let ((lsp (alist-get 'eglot-lsp-diag (flymake-diagnostic-data d))))
                (and (equal (plist-get lsp :source) "quorum")
                     (plist-get (plist-get lsp :data) :fingerprint))))
            (flymake-diagnostics (line-beginning-position) (line-end-position))))

(defun quorum--finding-command (command)
  "Run the server's COMMAND on the finding at point; return its result."
  (quorum--execute command (quorum--uri)
                   (or (quorum-fingerprint-at-point)
                       (user-error "quorum: no finding on this line"))))

(defun quorum-review-file ()
  "Review this file's changes now."
  (interactive)
  (quorum--execute "quorum.reviewFile" (quorum--uri)))

(defun quorum-review-changes ()
  "Review every file changed against HEAD in this project."
  (interactive)
  (quorum--execute "quorum.reviewChanges" (list :root (quorum--root))))

(defun quorum-review-staged ()
  "Review the staged changes of this project."
  (interactive)
  (quorum--execute "quorum.reviewStaged" (list :root (quorum--root))))

(defun quorum-dismiss ()
  "Dismiss the finding on this line for good.
The server records it in the project's .quorum/dismissed."
  (interactive)
  (quorum--finding-command "quorum.dismiss"))

(defun quorum-explain ()
  "Show what each pass said about the finding on this line."
  (interactive)
  (let ((text (quorum--finding-command "quorum.explain")))
    (when (stringp text) (message "%s" text))
    text))

(defun quorum-clear ()
  "Clear every quorum finding."
  (interactive)
  (quorum--execute "quorum.clear"))

(defun quorum-ledger ()
  "Show the server's call ledger; a server without one is said so plainly.
Returns the ledger, or nil when the server has none."
  (interactive)
  (condition-case err
      (let ((ledger (quorum--request :quorum/ledger (list :root (quorum--root)))))
        (with-current-buffer (get-buffer-create "*quorum ledger*")
          (let ((inhibit-read-only t))
            (erase-buffer)
            (insert (format "%S\n" ledger)))
          (special-mode)
          (display-buffer (current-buffer)))
        ledger)
    (jsonrpc-error
     (if (eql (alist-get 'jsonrpc-error-code (cdr err)) quorum--method-not-found)
         (progn (message "quorum: this quorum-ls has no call ledger %s"
                         "(quorum/ledger); update the server")
                nil)
       (signal (car err) (cdr err))))))

(provide 'quorum)
;;; quorum.el ends here
