// A `vscode` module just real enough for the real vscode-languageclient to run inside it: working
// events, documents, a diagnostics collection, configuration; anything else it touches is an inert
// stand-in (providers it registers, watchers). `state` records what the extension and client did.
'use strict';
const Module = require('module');
const path = require('path');

class Disposable {
  constructor(f) { this.f = f; }
  static from(...ds) { return new Disposable(() => ds.forEach((d) => d && d.dispose && d.dispose())); }
  dispose() { if (this.f) this.f(); this.f = undefined; }
}
class EventEmitter {
  constructor() { this.listeners = new Set(); this.event = (l, thisArg) => {
    const f = l.bind(thisArg); this.listeners.add(f); return new Disposable(() => this.listeners.delete(f)); }; }
  fire(v) { for (const l of [...this.listeners]) l(v); }
  dispose() { this.listeners.clear(); }
}
class CancellationTokenSource {
  constructor() { const e = new EventEmitter(); this.token = {isCancellationRequested: false, onCancellationRequested: e.event}; this.e = e; }
  cancel() { this.token.isCancellationRequested = true; this.e.fire(); }
  dispose() {}
}
class Uri {
  constructor(scheme, p) { this.scheme = scheme; this.path = p; this.fsPath = p; }
  static file(p) { return new Uri('file', p); }
  static parse(s) { const m = /^([a-z]+):(?:\/\/)?(.*)$/.exec(s); return new Uri(m[1], decodeURIComponent(m[2])); }
  toString() { return `${this.scheme}://${encodeURI(this.path)}`; }
  toJSON() { return this.toString(); }
  with() { return this; }
}
class Position { constructor(line, character) { this.line = line; this.character = character; } }
class Range { constructor(a, b, c, d) { Object.assign(this, typeof a === 'number' ? {start: new Position(a, b), end: new Position(c, d)} : {start: a, end: b}); } }
class Diagnostic { constructor(range, message, severity) { Object.assign(this, {range, message, severity}); } }
class Plain { constructor(...args) { this.args = args; } }

// Whatever the client only registers or stores: callable, constructible, disposable.
function inert() {
  const f = function () { return inert(); };
  return new Proxy(f, {
    get(_t, k) {
      if (k === 'then' || k === Symbol.iterator) return undefined;
      if (k === Symbol.toPrimitive) return () => '';
      if (k === 'dispose') return () => undefined;
      return inert();
    },
    construct() { return inert(); },
  });
}
const withInert = (obj) => new Proxy(obj, {get: (t, k) => (k in t ? t[k] : typeof k === 'symbol' ? undefined : inert())});

function makeVscode() {
  const ev = {open: new EventEmitter(), change: new EventEmitter(), close: new EventEmitter(), save: new EventEmitter(),
              willSave: new EventEmitter(), config: new EventEmitter(), folders: new EventEmitter(), editor: new EventEmitter(),
              tabs: new EventEmitter()};
  const state = {config: {}, workspaceConfig: {}, workspaceFolders: [], textDocuments: [], messages: [], items: [],
                 outputs: [], collections: [], commands: new Map(), events: ev};
  const message = (kind) => (m) => { state.messages.push([kind, m]); return Promise.resolve(undefined); };
  const collection = () => {
    const map = new Map();
    const c = {map, disposed: false, name: 'quorum', set(uri, ds) { map.set(uri.toString(), ds || []); }, delete(uri) { map.delete(uri.toString()); },
               clear() { map.clear(); }, get(uri) { return map.get(uri.toString()); }, has(uri) { return map.has(uri.toString()); },
               forEach(f) { map.forEach((v, k) => f(Uri.parse(k), v)); }, dispose() { this.disposed = true; map.clear(); }};
    state.collections.push(c);
    return c;
  };
  const vscode = withInert({
    Uri, Position, Range, Diagnostic, Disposable, EventEmitter, CancellationTokenSource,
    CancellationError: class extends Error {}, Location: Plain, MarkdownString: Plain, DiagnosticRelatedInformation: Plain,
    DiagnosticSeverity: {Error: 0, Warning: 1, Information: 2, Hint: 3}, DiagnosticTag: {Unnecessary: 1, Deprecated: 2},
    StatusBarAlignment: {Left: 1, Right: 2}, ProgressLocation: {SourceControl: 1, Window: 10, Notification: 15},
    version: '1.82.0',
    env: withInert({language: 'en', appName: 'Visual Studio Code', machineId: 'test', sessionId: 'test'}),
    window: withInert({
      createOutputChannel(name) {
        const ch = {name, lines: [], append(t) { this.lines.push(t); }, appendLine(t) { this.lines.push(t); }, show() {}, clear() {}, dispose() {}, replace() {}};
        state.outputs.push(ch);
        return ch;
      },
      createStatusBarItem() {
        const item = {text: '', texts: [], show() { this.texts.push(this.text); }, hide() {}, dispose() {}};
        state.items.push(item);
        return item;
      },
      showInformationMessage: message('info'), showWarningMessage: message('warning'), showErrorMessage: message('error'),
      withProgress(options, task) { state.messages.push(['progress', options.title]); return task({report() {}}, new CancellationTokenSource().token); },
      activeTextEditor: undefined, visibleTextEditors: [], onDidChangeActiveTextEditor: ev.editor.event,
      onDidChangeVisibleTextEditors: ev.editor.event, tabGroups: {all: [], onDidChangeTabs: ev.tabs.event},
    }),
    workspace: withInert({
      getConfiguration: (section) => ({
        get: (k, d) => (k in state.workspaceConfig ? state.workspaceConfig[k] : k in state.config ? state.config[k] : d),
        inspect: (k) => ({key: `${section}.${k}`, globalValue: state.config[k], workspaceValue: state.workspaceConfig[k]}),
        has: (k) => k in state.config,
      }),
      get workspaceFolders() { return state.workspaceFolders; },
      getWorkspaceFolder: (uri) => state.workspaceFolders.find((f) => uri.fsPath.startsWith(f.uri.fsPath + '/')),
      get textDocuments() { return state.textDocuments; },
      onDidOpenTextDocument: ev.open.event, onDidChangeTextDocument: ev.change.event, onDidCloseTextDocument: ev.close.event,
      onDidSaveTextDocument: ev.save.event, onWillSaveTextDocument: ev.willSave.event,
      onDidChangeConfiguration: ev.config.event, onDidChangeWorkspaceFolders: ev.folders.event,
      createFileSystemWatcher: () => inert(),
    }),
    languages: withInert({
      createDiagnosticCollection: collection,
      match: (selector, doc) => ([].concat(selector).some((s) => (typeof s === 'string' ? s : s.language) === doc.languageId &&
                                                                  (!s.scheme || s.scheme === doc.uri.scheme)) ? 10 : 0),
      getDiagnostics: () => [],
    }),
    commands: withInert({
      registerCommand(id, f) { state.commands.set(id, f); return new Disposable(() => state.commands.delete(id)); },
      executeCommand: async () => undefined,
    }),
    extensions: withInert({all: [], getExtension: () => undefined}),
  });
  return {vscode, state};
}

/** A text document as languageclient reads it. */
function textDocument(uri, languageId, text, version = 1) {
  return {uri, languageId, version, isClosed: false, isDirty: false, fileName: uri.fsPath, getText: () => text,
          lineCount: text.split('\n').length, eol: 1, save: async () => true};
}

function install() {
  const {vscode, state} = makeVscode();
  const original = Module._load;
  Module._load = function (request, parent, isMain) {
    if (request === 'vscode') return vscode;
    return original.call(this, request, parent, isMain);
  };
  return {vscode, state, textDocument, load: (name) => require(path.join(__dirname, '..', 'out', name))};
}

module.exports = {install};
