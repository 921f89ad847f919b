'use strict';
// Activation against the stubbed `vscode` and a recording LanguageClient: what is registered, how
// the server is started, and the glue (diagnostics filter, configuration answers, progress,
// commands, the ledger's MethodNotFound message).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {install} = require('./stub');

const {vscode, state, lc, load} = install({languageClient: true});
const ext = load('extension');
const manifest = require('../package.json');

// A home with the user's server, an extension with a bundled one, and a workspace holding its own.
const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-ext-')));
const touch = (p) => { fs.mkdirSync(path.dirname(p), {recursive: true}); fs.writeFileSync(p, ''); return p; };
const userServer = touch(path.join(tmp, 'home', 'bin', 'quorum-ls'));
const bundled = touch(path.join(tmp, 'ext', 'bin', 'quorum-ls'));
const wsServer = touch(path.join(tmp, 'ws', 'tools', 'quorum-ls'));
const userConfig = touch(path.join(tmp, 'home', 'cfg.json'));
const wsConfig = touch(path.join(tmp, 'ws', 'cfg.json'));
process.env.HOME = path.join(tmp, 'home');
const context = {extensionPath: path.join(tmp, 'ext'), subscriptions: []};
let client;
const changeSettings = (key) => { for (const l of state.configListeners) l({affectsConfiguration: (s) => key.startsWith(s)}); };
const settle = () => new Promise((r) => setTimeout(r, 10));
// A fresh activation (after deactivate): the stub's registries start empty again.
async function reactivate() {
  state.commands.clear();
  state.configListeners.length = 0;
  await ext.activate({extensionPath: path.join(tmp, 'ext'), subscriptions: []});
  return lc.clients.at(-1);
}

test.before(async () => {
  state.workspaceFolders = [{uri: vscode.Uri.file(path.join(tmp, 'ws'))}];
  state.config = {'server.path': '~/bin/quorum-ls', trigger: 'manual', minSeverity: 'warning', minConfidence: 0.6};
  await ext.activate(context);
  client = lc.clients[0];
});

test('extension_starts_quorum_ls_over_stdio_with_settings', () => {
  assert.strictEqual(lc.clients.length, 1);
  assert.strictEqual(client.id, 'quorum', 'the id makes languageclient honour quorum.trace.server');
  assert.deepStrictEqual(client.server.run, {command: userServer, args: [], transport: 0, options: {cwd: os.homedir()}},
                         '~ expands in quorum.server.path');
  assert.ok(state.outputs[0].lines.some((l) => l.includes(userServer) && l.includes('quorum.server.path')),
            state.outputs[0].lines);
  assert.deepStrictEqual(client.options.initializationOptions, {trigger: 'manual', debounceMs: 1000});
  assert.ok(client.options.documentSelector.some((d) => d.language === 'python' && d.scheme === 'file'));
  assert.strictEqual(client.options.outputChannel, state.outputs[0]);
  assert.ok(client.started);
  assert.ok(state.items[0].visible, 'status bar item shown');
});

test('extension_registers_exactly_the_contributed_commands', () => {
  const contributed = manifest.contributes.commands.map((c) => c.command).sort();
  assert.deepStrictEqual([...state.commands.keys()].sort(), contributed);
  // languageclient registers the server's own command ids; ours must not collide with them.
  for (const id of ['quorum.reviewFile', 'quorum.reviewChanges', 'quorum.reviewStaged', 'quorum.dismiss', 'quorum.clear', 'quorum.explain'])
    assert.ok(!state.commands.has(id), id);
});

test('extension_settings_in_manifest_cover_the_issue', () => {
  const props = manifest.contributes.configuration.properties;
  for (const k of ['quorum.server.path', 'quorum.configFile', 'quorum.trigger', 'quorum.minSeverity', 'quorum.minConfidence', 'quorum.trace.server'])
    assert.ok(props[k], k);
  assert.deepStrictEqual(props['quorum.trace.server'].enum, ['off', 'messages', 'verbose']);
});

test('extension_asks_for_push_diagnostics_only', () => {
  const caps = {textDocument: {diagnostic: {dynamicRegistration: true}, publishDiagnostics: {}}};
  for (const f of client.features) f.fillClientCapabilities(caps);
  assert.deepStrictEqual(caps, {textDocument: {publishDiagnostics: {}}});
});

test('extension_filters_diagnostics_and_refilters_on_setting_change', () => {
  const uri = vscode.Uri.file('/w/a.py');
  const d = (severity, confidence) => ({severity, data: {confidence, fingerprint: `f${severity}${confidence}`}});
  const all = [d(0, 0.9), d(1, 0.5), d(2, 0.9), d(1, 0.7)];
  const shown = [];
  client.options.middleware.handleDiagnostics(uri, all, (u, ds) => shown.push(ds));
  assert.deepStrictEqual(shown[0], [all[0], all[3]]);
  state.config.minSeverity = 'hint';
  state.config.minConfidence = 0;
  for (const l of state.configListeners) l({affectsConfiguration: (s) => s === 'quorum'});
  assert.deepStrictEqual(shown[1], all, 'lowered thresholds show what was hidden');
  assert.deepStrictEqual(client.notifications.at(-1),
                         ['workspace/didChangeConfiguration', {settings: {quorum: {trigger: 'manual', debounceMs: 1000}}}]);
});

test('extension_answers_configuration_with_server_settings', async () => {
  state.config.configFile = userConfig;
  const next = async (params) => params.items.map(() => ({configFile: '', raw: true}));
  const r = await client.options.middleware.workspace.configuration({items: [{section: 'quorum'}, {section: 'other'}]}, null, next);
  assert.deepStrictEqual(r, [{configFile: userConfig, trigger: 'manual', debounceMs: 1000},
                             {configFile: '', raw: true}]);
  delete state.config.configFile;
});

test('extension_progress_goes_to_the_status_bar', () => {
  for (const f of client.features) f.initialize({}, undefined); // what languageclient does at start
  const create = client.handlers.get('window/workDoneProgress/create');
  assert.ok(create, 'create handler registered after start');
  assert.strictEqual(create({token: 'quorum-1'}), null);
  client.progress.get('quorum-1')({kind: 'report', message: '1/2 passes done, $0.5000'});
  assert.match(state.items[0].text, /1\/2 passes · \$0\.5000/);
  client.progress.get('quorum-1')({kind: 'end', message: '1 findings'});
  assert.ok(!client.progress.has('quorum-1'), 'the progress handler is released at the end');
  assert.match(state.items[0].text, /1 findings · \$0\.5000/);
});

test('extension_commands_call_the_server', async () => {
  const uri = vscode.Uri.file('/w/src/a.py');
  state.workspaceFolders = [{uri: vscode.Uri.file('/w')}];
  state.activeEditor = {document: {uri}, selection: {active: {line: 4}}};
  state.diagnostics.set(uri.toString(), [
    {source: 'other', range: {start: {line: 4}, end: {line: 4}}, data: {fingerprint: 'nope'}},
    {source: 'quorum', range: {start: {line: 3}, end: {line: 5}}, data: {fingerprint: 'fp1'}}]);
  client.requests.length = 0;
  await state.commands.get('quorum.reviewCurrentFile')();
  await state.commands.get('quorum.reviewWorkspaceStaged')();
  await state.commands.get('quorum.dismissAtCursor')();
  assert.deepStrictEqual(client.requests, [
    ['workspace/executeCommand', {command: 'quorum.reviewFile', arguments: ['file:///w/src/a.py']}],
    ['workspace/executeCommand', {command: 'quorum.reviewStaged', arguments: [{root: '/w'}]}],
    ['workspace/executeCommand', {command: 'quorum.dismiss', arguments: ['file:///w/src/a.py', 'fp1']}]]);
  state.activeEditor.selection.active.line = 9;
  await state.commands.get('quorum.dismissAtCursor')();
  assert.strictEqual(client.requests.length, 3, 'no finding on the line: nothing sent');
  assert.match(state.messages.at(-1)[1], /no finding on this line/);
});

test('extension_ledger_method_not_found_gives_a_clear_message', async () => {
  client.reply = (m) => { if (m === 'quorum/ledger') throw Object.assign(new Error('Unhandled method quorum/ledger'), {code: -32601}); };
  await state.commands.get('quorum.showLedger')();
  assert.deepStrictEqual(state.messages.at(-1)[0], 'info');
  assert.match(state.messages.at(-1)[1], /no call ledger/);
  client.reply = () => ({calls: [{model: 'm1', cost: 0.01}]});
  await state.commands.get('quorum.showLedger')();
  assert.strictEqual(state.documents.at(-1).language, 'json');
  assert.deepStrictEqual(JSON.parse(state.documents.at(-1).content), {calls: [{model: 'm1', cost: 0.01}]});
  client.reply = () => { throw Object.assign(new Error('boom'), {code: -32603}); };
  await state.commands.get('quorum.showLedger')();
  assert.deepStrictEqual(state.messages.at(-1), ['error', 'quorum: boom']);
});

test('extension_deactivate_stops_the_client', async () => {
  await ext.deactivate();
  assert.ok(client.disposed);
  await state.commands.get('quorum.reviewCurrentFile')();
  assert.match(state.messages.at(-1)[1], /not running/);
});

test('extension_workspace_settings_cannot_pick_the_server_or_the_config', async () => {
  state.config = {};
  state.workspaceConfig = {'server.path': wsServer, 'server.args': ['--config', wsConfig], configFile: wsConfig};
  state.messages.length = 0;
  const c = await reactivate();
  assert.deepStrictEqual([c.server.run.command, c.server.run.args], [bundled, []], 'the bundled server, no workspace args');
  assert.ok(!('configFile' in c.options.initializationOptions), c.options.initializationOptions);
  const said = state.messages.map((m) => m[1]).join('\n');
  for (const k of ['quorum.server.path', 'quorum.server.args', 'quorum.configFile'])
    assert.match(said, new RegExp(`${k.replace(/\./g, '\\.')} in the workspace settings is ignored`));
  assert.ok(state.outputs.at(-1).lines.some((l) => l.includes(bundled) && l.includes('bundled')));
  state.workspaceConfig = {};
  await ext.deactivate();
});

test('extension_config_file_inside_the_workspace_is_refused', async () => {
  const ws = path.join(tmp, 'ws');
  fs.symlinkSync(wsConfig, path.join(tmp, 'home', 'link.json'));
  const s = load('settings');
  const ctx = {folders: [ws], home: path.join(tmp, 'home')};
  for (const bad of ['cfg.json', ws + '/tools/../cfg.json', '~/link.json', wsConfig]) {
    const why = [];
    const out = s.serverSettings({get: (k, d) => d, inspect: (k) => ({globalValue: k === 'configFile' ? bad : undefined})}, ctx, (w) => why.push(w));
    assert.ok(!('configFile' in out), bad);
    assert.match(why.join(), /quorum\.configFile refused/, bad);
  }
  const ok = s.serverSettings({get: (k, d) => d, inspect: (k) => ({globalValue: k === 'configFile' ? '~/cfg.json' : undefined})}, ctx);
  assert.strictEqual(ok.configFile, userConfig, '~ expands in quorum.configFile');
});

test('extension_server_order_user_then_bundled_then_path', () => {
  const s = load('settings');
  const ctx = {folders: [path.join(tmp, 'ws')], home: path.join(tmp, 'home')};
  const user = (v) => ({get: (k, d) => d, inspect: (k) => ({globalValue: k === 'server.path' ? v : undefined})});
  assert.deepStrictEqual(s.serverCommand(user('~/bin/quorum-ls'), path.join(tmp, 'ext'), ctx),
                         {command: userServer, args: [], source: 'quorum.server.path'});
  assert.strictEqual(s.serverCommand(user(wsServer), path.join(tmp, 'ext'), ctx).command, wsServer,
                     'a path the user set may lie in a workspace');
  assert.match(s.serverCommand(user('tools/quorum-ls'), path.join(tmp, 'ext'), ctx).error, /relative/);
  assert.strictEqual(s.serverCommand(user(''), path.join(tmp, 'ext'), ctx).source, 'bundled with the extension');
  const onPath = s.serverCommand(user(''), path.join(tmp, 'none'), ctx, fs.existsSync, ['rel', path.join(tmp, 'home', 'bin')].join(path.delimiter));
  assert.deepStrictEqual([onPath.command, onPath.source, onPath.error], [userServer, 'PATH', undefined]);
  const wsOnPath = s.serverCommand(user(''), path.join(tmp, 'none'), ctx, fs.existsSync, path.join(tmp, 'ws', 'tools'));
  assert.match(wsOnPath.error, /inside the workspace folder/, 'a PATH entry inside the workspace is not run');
  assert.match(s.serverCommand(user(''), path.join(tmp, 'none'), ctx, fs.existsSync, '').error, /neither bundled nor on PATH/);
});

test('extension_changed_server_path_starts_the_new_binary', async () => {
  state.config = {'server.path': userServer};
  const first = await reactivate();
  state.config['server.path'] = wsServer; // the user's own choice
  changeSettings('quorum.server.path');
  await settle();
  const second = lc.clients.at(-1);
  assert.notStrictEqual(second, first);
  assert.ok(first.disposed, 'the old server is stopped');
  assert.strictEqual(second.server.run.command, wsServer);
  assert.ok(second.started);
  assert.match(state.messages.find((m) => /restarting/.test(m[1]))[1], /new path/);
  const before = lc.clients.length;
  changeSettings('quorum.server.path'); // quick changes: one restart after the other
  changeSettings('quorum.server.path');
  await settle();
  const made = lc.clients.slice(before - 1);
  assert.strictEqual(made.length, 3);
  assert.deepStrictEqual(made.map((c) => Boolean(c.disposed)), [true, true, false], 'only the newest server is left');
});

test('extension_progress_follows_every_restart_and_findings_go_with_the_server', async () => {
  const c = lc.clients.at(-1);
  for (let start = 0; start < 2; start++) { // languageclient initializes features on each (re)start
    c.handlers.delete('window/workDoneProgress/create');
    for (const f of c.features) f.initialize({}, undefined);
    const create = c.handlers.get('window/workDoneProgress/create');
    assert.ok(create, `create handler registered at start ${start}`);
    create({token: `quorum-${start}`});
    c.progress.get(`quorum-${start}`)({kind: 'report', message: `${start + 1}/3 passes done, $0.2500`});
    assert.match(state.items.at(-1).text, new RegExp(`${start + 1}/3 passes`));
    for (const l of c.stateListeners) l({oldState: 2, newState: 1}); // the server died
    assert.doesNotMatch(state.items.at(-1).text, /passes ·/, 'the status bar forgets the dead review');
  }
  const uri = vscode.Uri.file(path.join(tmp, 'ws', 'a.py'));
  const shown = [];
  c.options.middleware.handleDiagnostics(uri, [{severity: 0, data: {confidence: 1}}], (u, ds) => shown.push(ds));
  const cleared = c.diagnostics.cleared;
  for (const l of c.stateListeners) l({oldState: 2, newState: 1});
  assert.strictEqual(c.diagnostics.cleared, cleared + 1, 'the findings of a dead server are cleared');
  changeSettings('quorum.minSeverity');
  assert.strictEqual(shown.length, 1, 'a threshold change does not bring them back');
  await ext.deactivate();
});

test('extension_untitled_document_must_be_saved_first', async () => {
  state.config = {'server.path': userServer};
  const c = await reactivate();
  state.activeEditor = {document: {uri: new vscode.Uri('Untitled-1', 'untitled')}, selection: {active: {line: 0}}};
  c.requests.length = 0;
  await state.commands.get('quorum.reviewCurrentFile')();
  assert.deepStrictEqual(c.requests, []);
  assert.match(state.messages.at(-1)[1], /save this file first/);
  await ext.deactivate();
});
