// A stand-in for the `vscode` module (and, on request, `vscode-languageclient/node`) so the
// extension's compiled code in out/ runs under `node --test`. Only what the extension uses is
// here; `state` records what the code did so tests can check it.
'use strict';
const Module = require('module');
const path = require('path');

function makeVscode() {
  const state = {
    commands: new Map(), messages: [], config: {}, diagnostics: new Map(), activeEditor: undefined,
    workspaceFolders: [], documents: [], configListeners: [], items: [], outputs: [],
    workspaceConfig: {}, // what a repository's .vscode/settings.json says (config: the user's)
  };
  class Uri {
    constructor(fsPath, scheme = 'file') { this.fsPath = fsPath; this.scheme = scheme; }
    toString() { return 'file://' + this.fsPath; }
    static file(p) { return new Uri(p); }
    static parse(s) { return new Uri(s.replace(/^file:\/\//, '')); }
  }
  const message = (kind) => (m) => { state.messages.push([kind, m]); return Promise.resolve(undefined); };
  const vscode = {
    Uri,
    StatusBarAlignment: {Left: 1, Right: 2},
    DiagnosticSeverity: {Error: 0, Warning: 1, Information: 2, Hint: 3},
    window: {
      createOutputChannel(name) {
        const ch = {name, shown: 0, lines: [], show() { this.shown++; }, append(t) { this.lines.push(t); },
                    appendLine(t) { this.lines.push(t); }, dispose() {}};
        state.outputs.push(ch);
        return ch;
      },
      createStatusBarItem() {
        const item = {text: '', visible: false, show() { this.visible = true; }, hide() { this.visible = false; }, dispose() {}};
        state.items.push(item);
        return item;
      },
      showInformationMessage: message('info'),
      showWarningMessage: message('warning'),
      showErrorMessage: message('error'),
      get activeTextEditor() { return state.activeEditor; },
      async showTextDocument(doc) { state.documents.push(doc); },
    },
    workspace: {
      getConfiguration: () => ({
        get: (k, d) => (k in state.workspaceConfig ? state.workspaceConfig[k] : k in state.config ? state.config[k] : d),
        inspect: (k) => ({key: 'quorum.' + k, globalValue: state.config[k], workspaceValue: state.workspaceConfig[k]}),
      }),
      get workspaceFolders() { return state.workspaceFolders; },
      getWorkspaceFolder: (uri) => state.workspaceFolders.find((f) => uri.fsPath.startsWith(f.uri.fsPath + '/')),
      async openTextDocument(options) { return options; },
      onDidChangeConfiguration(listener) { state.configListeners.push(listener); return {dispose() {}}; },
    },
    languages: {getDiagnostics: (uri) => state.diagnostics.get(uri.toString()) || []},
    commands: {
      registerCommand(id, f) {
        if (state.commands.has(id)) throw new Error(`command '${id}' already exists`);
        state.commands.set(id, f);
        return {dispose() {}};
      },
    },
  };
  return {vscode, state};
}

// A LanguageClient that records what the extension asks of it.
function makeLanguageClient() {
  const fake = {clients: []};
  class LanguageClient {
    constructor(id, name, server, options) {
      Object.assign(this, {id, name, server, options, features: [], requests: [], notifications: [],
                           handlers: new Map(), progress: new Map(), reply: null, stateListeners: [],
                           diagnostics: {cleared: 0, clear() { this.cleared++; }}});
      fake.clients.push(this);
    }
    registerFeature(f) { this.features.push(f); }
    onDidChangeState(l) { this.stateListeners.push(l); return {dispose() {}}; }
    async dispose() { this.disposed = true; }
    async start() { this.started = true; }
    async stop() { this.stopped = true; }
    async restart() { this.restarted = true; }
    onRequest(type, h) { this.handlers.set(type.method || type, h); return {dispose() {}}; }
    onProgress(type, token, h) { this.progress.set(token, h); return {dispose: () => this.progress.delete(token)}; }
    async sendRequest(method, params) { this.requests.push([method, params]); return this.reply ? this.reply(method, params) : null; }
    async sendNotification(method, params) { this.notifications.push([method, params]); }
  }
  fake.module = {
    LanguageClient, TransportKind: {stdio: 0}, State: {Stopped: 1, Starting: 3, Running: 2},
    WorkDoneProgress: {type: {method: '$/progress'}},
    WorkDoneProgressCreateRequest: {type: {method: 'window/workDoneProgress/create'}},
  };
  return fake;
}

// Installs the stubs for modules loaded from now on; returns {vscode, state, lc, load(name)}.
function install({languageClient = false} = {}) {
  const {vscode, state} = makeVscode();
  const lc = languageClient ? makeLanguageClient() : null;
  const original = Module._load;
  Module._load = function (request, parent, isMain) {
    if (request === 'vscode') return vscode;
    if (lc && request === 'vscode-languageclient/node') return lc.module;
    return original.call(this, request, parent, isMain);
  };
  const load = (name) => require(path.join(__dirname, '..', 'out', name));
  return {vscode, state, lc, load};
}

module.exports = {install};
