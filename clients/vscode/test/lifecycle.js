'use strict';
// The extension's compiled code inside the real vscode-languageclient (only `vscode` is a
// stand-in, test/vscode-real.js), against quorum-ls and the stand-in model server: a save shows
// the review in the status bar and its finding; the server is killed → its findings go and the
// client restarts it → the status bar still follows the next review; a new quorum.server.path
// starts that binary. Run by tests/e2e/test_vscode_client through tests/editors/runner.py (same
// variables as integration.js); writes "ok vscode/lifecycle/NAME" lines to $QUORUM_RESULT.
const fs = require('fs');
const os = require('os');
const path = require('path');
const {install} = require('./vscode-real');

const {vscode, state, textDocument, load} = install();
const ext = load('extension');
const env = process.env;
let failed = false;
function check(name, cond, detail) {
  fs.appendFileSync(env.QUORUM_RESULT, `${cond ? 'ok' : 'FAIL'} vscode/lifecycle/${name}${cond ? '' : ': ' + JSON.stringify(detail)}\n`);
  if (!cond) failed = true;
  return cond;
}
const waitFor = (pred, ms) => new Promise((resolve) => {
  const end = Date.now() + ms;
  const tick = () => { const v = pred(); if (v || Date.now() > end) return resolve(v); setTimeout(tick, 50); };
  tick();
});
/** The pids of this process's children (the servers languageclient spawned). */
function children() {
  const dir = `/proc/${process.pid}/task`;
  return fs.readdirSync(dir).flatMap((t) => fs.readFileSync(`${dir}/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
}
const collection = () => state.collections.at(-1);
const findings = (uri) => (collection() && !collection().disposed && collection().get(uri)) || [];

async function review(doc, item, label) {
  const from = item.texts.length;
  state.events.save.fire(doc);
  const seen = await waitFor(() => item.texts.slice(from).some((t) => /passes ·/.test(t)) &&
                                   /1 findings/.test(item.text), 40000);
  check(`${label}/status_bar_follows`, seen, item.texts.slice(from));
  check(`${label}/finding_shown`, await waitFor(() => findings(doc.uri).length === 1, 5000), findings(doc.uri));
  check(`${label}/no_progress_popups`, !state.messages.some((m) => m[0] === 'progress'), state.messages);
}

async function main() {
  const root = env.QUORUM_ROOT;
  fs.rmSync(path.join(root, '.quorum', 'dismissed'), {force: true}); // integration.js dismissed the finding
  state.workspaceFolders = [{uri: vscode.Uri.file(root), name: 'repo', index: 0}];
  state.config = {'server.path': env.QUORUM_LS, configFile: env.QUORUM_CONFIG_FILE, debounceMs: 0};
  await ext.activate({extensionPath: fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-ext-')), subscriptions: []});
  const item = state.items[0];
  const output = state.outputs[0].lines.join('');
  check('output_says_which_server', output.includes(`starting ${fs.realpathSync(env.QUORUM_LS)} (quorum.server.path)`), output.slice(0, 500));
  const first = children();
  if (!check('server_started', first.length === 1, first)) return;
  const uri = vscode.Uri.file(env.QUORUM_FILE);
  const doc = textDocument(uri, 'python', fs.readFileSync(env.QUORUM_FILE, 'utf8'));
  state.textDocuments.push(doc);
  state.events.open.fire(doc);
  await review(doc, item, 'first');

  process.kill(first[0], 'SIGKILL'); // a crash: languageclient restarts the server
  check('crash/findings_cleared', await waitFor(() => findings(uri).length === 0, 10000), findings(uri));
  const second = await waitFor(() => { const c = children(); return c.length === 1 && c[0] !== first[0] && c; }, 20000);
  if (!check('crash/restarted', second, children())) return;
  await new Promise((r) => setTimeout(r, 500)); // the restarted client re-opens the document
  await review(doc, item, 'after_crash');

  const mark = path.join(os.tmpdir(), `quorum-wrapper-${process.pid}`);
  const wrapper = `${mark}.sh`;
  fs.writeFileSync(wrapper, `#!/bin/sh\necho "$$" > '${mark}'\nexec '${env.QUORUM_LS}' "$@"\n`, {mode: 0o755});
  state.config['server.path'] = wrapper;
  state.events.config.fire({affectsConfiguration: (s) => 'quorum.server.path'.startsWith(s)});
  check('new_path/new_binary_started', await waitFor(() => fs.existsSync(mark), 20000), state.messages);
  check('new_path/old_server_gone', await waitFor(() => !children().includes(second[0]), 20000), children());
  await new Promise((r) => setTimeout(r, 500));
  await review(doc, item, 'new_path');
  fs.rmSync(mark, {force: true});
  fs.rmSync(wrapper, {force: true});
  await ext.deactivate();
}

main().catch((e) => check('no_error', false, String(e && e.stack || e)))
  .finally(() => process.exit(failed ? 1 : 0));
