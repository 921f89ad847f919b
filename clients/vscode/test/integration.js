'use strict';
// Drives quorum-ls over stdio through vscode-languageserver-protocol the way VS Code does, with the
// extension's own glue (out/: capabilities, settings, configuration answers, diagnostics filter,
// status bar, ledger handling): initialize → didOpen → didSave → diagnostics → code action →
// resolve → apply → dismiss. Run by tests/e2e/test_vscode_client through tests/editors/runner.py,
// which provides the stand-in model server, a changed file in a temp git repo and these variables:
// QUORUM_LS, QUORUM_CONFIG_FILE, QUORUM_ROOT, QUORUM_FILE, QUORUM_RESULT, QUORUM_LINE6, QUORUM_FIXED6.
// Writes "ok vscode/NAME" / "FAIL vscode/NAME: detail" lines to $QUORUM_RESULT; every wait is bounded.
const fs = require('fs');
const cp = require('child_process');
const path = require('path');
const url = require('url');
const rpc = require('vscode-languageserver-protocol/node');
const {install} = require('./stub');

const {load} = install();
const settings = load('settings');
const protocol = load('protocol');
const {ReviewStatus} = load('status');

const env = process.env;
let failed = false;
function check(name, cond, detail) {
  fs.appendFileSync(env.QUORUM_RESULT, `${cond ? 'ok' : 'FAIL'} vscode/${name}${cond ? '' : ': ' + JSON.stringify(detail)}\n`);
  if (!cond) failed = true;
  return cond;
}

// What VS Code 1.82 + vscode-languageclient 9 advertise for the features quorum-ls uses.
function vscodeCapabilities() {
  return {
    general: {positionEncodings: ['utf-16']},
    window: {workDoneProgress: true, showMessage: {}},
    workspace: {configuration: true, didChangeConfiguration: {dynamicRegistration: true},
                executeCommand: {dynamicRegistration: true}, workspaceFolders: true, applyEdit: true,
                workspaceEdit: {documentChanges: true, resourceOperations: ['create', 'rename', 'delete']}},
    textDocument: {
      synchronization: {dynamicRegistration: true, willSave: true, willSaveWaitUntil: true, didSave: true},
      publishDiagnostics: {relatedInformation: true, versionSupport: false, tagSupport: {valueSet: [1, 2]},
                           codeDescriptionSupport: true, dataSupport: true},
      diagnostic: {dynamicRegistration: true, relatedDocumentSupport: false},
      codeAction: {dynamicRegistration: true, isPreferredSupport: true, disabledSupport: true, dataSupport: true,
                   resolveSupport: {properties: ['edit']}, honorsChangeAnnotations: false,
                   codeActionLiteralSupport: {codeActionKind: {valueSet: ['', 'quickfix', 'refactor', 'source']}}},
    },
  };
}

// Applies LSP TextEdits (UTF-16 positions, which JS strings index directly) to text.
function applyEdits(text, edits) {
  const lines = text.split('\n');
  const offset = (p) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start));
  for (const e of sorted) text = text.slice(0, offset(e.range.start)) + e.newText + text.slice(offset(e.range.end));
  return text;
}

function waitFor(pred, ms) {
  return new Promise((resolve) => {
    const end = Date.now() + ms;
    const tick = () => {
      const v = pred();
      if (v || Date.now() > end) return resolve(v);
      setTimeout(tick, 50);
    };
    tick();
  });
}

async function main() {
  const file = env.QUORUM_FILE, root = env.QUORUM_ROOT;
  const uri = url.pathToFileURL(file).href;
  const userSettings = {get: (k, d) => ({configFile: env.QUORUM_CONFIG_FILE, debounceMs: 50})[k] ?? d};
  const ctx = {folders: [root], home: env.HOME};
  const server = cp.spawn(env.QUORUM_LS, [], {cwd: root, stdio: ['pipe', 'pipe', 'inherit']});
  const conn = rpc.createProtocolConnection(new rpc.StreamMessageReader(server.stdout),
                                            new rpc.StreamMessageWriter(server.stdin));
  const published = [], registrations = [], shown = [];
  const item = {text: '', texts: [], show() { this.texts.push(this.text); }, hide() {}};
  const status = new ReviewStatus(item);
  conn.onNotification('textDocument/publishDiagnostics', (p) => { if (p.uri === uri) published.push(p); });
  conn.onNotification('window/showMessage', (p) => shown.push(p));
  conn.onNotification('window/logMessage', () => undefined);
  conn.onRequest('client/registerCapability', (p) => { registrations.push(p); return null; });
  conn.onRequest('workspace/configuration', (p) =>
    protocol.answerConfiguration(p.items, [], () => settings.serverSettings(userSettings, ctx)));
  conn.onRequest('window/workDoneProgress/create', ({token}) => {
    const sub = conn.onProgress(rpc.WorkDoneProgress.type, token, (v) => {
      status.update(String(token), v);
      if (v.kind === 'end') sub.dispose();
    });
    return null;
  });
  conn.listen();

  const init = await conn.sendRequest('initialize', {
    processId: process.pid, clientInfo: {name: 'Visual Studio Code', version: '1.82.0'},
    rootUri: url.pathToFileURL(root).href, workspaceFolders: [{uri: url.pathToFileURL(root).href, name: 'repo'}],
    capabilities: protocol.pushDiagnosticsOnly(vscodeCapabilities()),
    initializationOptions: settings.serverSettings(userSettings, ctx),
  });
  check('initialize', init && init.capabilities && init.capabilities.codeActionProvider, init);
  check('server_commands', protocol.LANGUAGES.includes('python') &&
        ['quorum.reviewFile', 'quorum.dismiss'].every((c) => init.capabilities.executeCommandProvider.commands.includes(c)),
        init.capabilities.executeCommandProvider);
  await conn.sendNotification('initialized', {});
  const text = fs.readFileSync(file, 'utf8');
  await conn.sendNotification('textDocument/didOpen', {textDocument: {uri, languageId: 'python', version: 1, text}});
  await conn.sendNotification('textDocument/didSave', {textDocument: {uri}});

  // the final publication: provisional ones (passes still answering) say so in data
  const pub = await waitFor(() => published.find((p) => p.diagnostics.length > 0 &&
    !p.diagnostics.some((x) => x.data && x.data.provisional)), 40000);
  if (!check('diagnostics', pub && pub.diagnostics.length === 1, {published, shown})) return;
  const d = pub.diagnostics[0];
  check('line', d.range.start.line === 5, d.range);
  check('message', d.message.includes('(2/2 passes)'), d.message);
  check('source', d.source === 'quorum', d.source);
  const line6 = text.split('\n')[5];
  check('range_utf16', line6.slice(d.range.start.character, d.range.end.character) === env.QUORUM_LINE6.trim(), d.range);
  const keep = (values) => settings.keepDiagnostic(settings.thresholds({get: (k, v) => values[k] ?? v}), d.severity, d.data);
  check('filter_keeps', d.severity === 2 && keep({}) && keep({minSeverity: 'warning'}), d);
  check('filter_hides_below_min_severity', !keep({minSeverity: 'error'}), d);
  check('filter_reads_confidence', typeof d.data.confidence === 'number' &&
        keep({minConfidence: d.data.confidence}) === true, d.data);
  check('push_only', registrations.every((r) => r.registrations.every((x) => x.method !== 'textDocument/diagnostic')), registrations);
  await waitFor(() => /passes/.test(item.texts.join()) && /findings/.test(item.text), 5000);
  check('status_bar_progress', item.texts.some((t) => /2\/2 passes/.test(t)) && /1 findings/.test(item.text), item.texts);

  const actions = await conn.sendRequest('textDocument/codeAction', {
    textDocument: {uri}, range: {start: {line: 5, character: 6}, end: {line: 5, character: 6}},
    context: {diagnostics: [d], triggerKind: 1}});
  let fix = (actions || []).find((a) => a.kind === 'quickfix');
  if (!check('code_action', fix, actions)) return;
  check('edit_is_lazy', !fix.edit && fix.data, fix);
  check('dismiss_offered', actions.some((a) => a.command && a.command.command === 'quorum.dismiss'), actions);
  if (!fix.edit) fix = await conn.sendRequest('codeAction/resolve', fix);
  const edits = fix && fix.edit && fix.edit.changes ? fix.edit.changes[uri] : undefined;
  if (!check('resolved', edits && edits.length > 0, fix)) return;
  const fixed = applyEdits(text, edits).split('\n');
  check('fix_applied', fixed[5] === env.QUORUM_FIXED6, fixed[5]);
  check('other_lines_kept', fixed[6] === '    return msg' && fixed[4] === 'def wave(n):', fixed);

  try {
    const ledger = await conn.sendRequest('quorum/ledger', {root});
    check('ledger', ledger !== undefined, ledger);
  } catch (e) {
    check('ledger', protocol.isMethodNotFound(e), {code: e.code, message: e.message});
  }

  const before = published.length;
  await conn.sendRequest('workspace/executeCommand', {command: 'quorum.dismiss', arguments: [uri, d.data.fingerprint]});
  const cleared = await waitFor(() => published.slice(before).find((p) => p.diagnostics.length === 0), 5000);
  check('dismiss', cleared, published.slice(before));

  await conn.sendRequest('shutdown');
  await conn.sendNotification('exit');
  const code = await new Promise((resolve) => {
    const t = setTimeout(() => resolve('timeout'), 10000);
    server.on('exit', (c) => { clearTimeout(t); resolve(c); });
  });
  check('exit', code === 0, code);
}

main().catch((e) => check('no_error', false, String(e && e.stack || e)))
  .finally(() => process.exit(failed ? 1 : 0));
