'use strict';
// Activation against the stubbed `vscode` and a recording LanguageClient: what is registered, how
// the server is started, and the glue (diagnostics filter, configuration answers, progress,
// commands, the ledger's MethodNotFound message).
const test = require('node:test');
const assert = require('node:assert');
const path = require('path');
const {install} = require('./stub');

const {vscode, state, lc, load} = install({languageClient: true});
const ext = load('extension');
const manifest = require('../package.json');

const context = {extensionPath: '/nonexistent-ext', subscriptions: []};
let client;

test.before(async () => {
  state.config = {'server.path': '/opt/quorum-ls', trigger: 'manual', minSeverity: 'warning', minConfidence: 0.6};
  await ext.activate(context);
  client = lc.clients[0];
});

test('extension_starts_quorum_ls_over_stdio_with_settings', () => {
  assert.strictEqual(lc.clients.length, 1);
  assert.strictEqual(client.id, 'quorum', 'the id makes languageclient honour quorum.trace.server');
  assert.deepStrictEqual(client.server.run, {command: '/opt/quorum-ls', args: [], transport: 0});
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
  state.config.configFile = '/home/u/.config/quorum/config.toml';
  const next = async (params) => params.items.map(() => ({configFile: '', raw: true}));
  const r = await client.options.middleware.workspace.configuration({items: [{section: 'quorum'}, {section: 'other'}]}, null, next);
  assert.deepStrictEqual(r, [{configFile: '/home/u/.config/quorum/config.toml', trigger: 'manual', debounceMs: 1000},
                             {configFile: '', raw: true}]);
  delete state.config.configFile;
});

test('extension_progress_goes_to_the_status_bar', () => {
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
  assert.ok(client.stopped);
  await state.commands.get('quorum.reviewCurrentFile')();
  assert.match(state.messages.at(-1)[1], /not running/);
});

test('extension_bundled_server_path_is_used_when_present', () => {
  const s = load('settings');
  const cmd = s.serverCommand({get: (k, d) => d}, path.join(__dirname, '..'), (p) => p.endsWith(path.join('bin', 'quorum-ls')));
  assert.strictEqual(cmd.command, path.join(__dirname, '..', 'bin', 'quorum-ls'));
});
