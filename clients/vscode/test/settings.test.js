'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {install} = require('./stub');

const {load} = install();
const s = load('settings');
const reader = (values) => ({get: (k, d) => (k in values ? values[k] : d)});

test('settings_server_settings_drop_empty_config_and_clamp', () => {
  const home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-home-')));
  fs.writeFileSync(path.join(home, 'q.toml'), '');
  const ctx = {folders: [], home};
  assert.deepStrictEqual(s.serverSettings(reader({}), ctx), {trigger: 'onSave', debounceMs: 1000});
  assert.deepStrictEqual(s.serverSettings(reader({configFile: ` ${home}/q.toml `, trigger: 'manual', debounceMs: 99999999}), ctx),
                         {configFile: `${home}/q.toml`, trigger: 'manual', debounceMs: 600000});
  const why = [];
  assert.deepStrictEqual(s.serverSettings(reader({configFile: '~/missing.json'}), ctx, (w) => why.push(w)), {trigger: 'onSave', debounceMs: 1000});
  assert.match(why[0], /missing\.json/, 'a missing file is said, not sent');
  assert.strictEqual(s.serverSettings(reader({trigger: 'bogus', debounceMs: 'x'}), ctx).trigger, 'onSave');
  assert.strictEqual(s.serverSettings(reader({debounceMs: -5}), ctx).debounceMs, 0);
});

test('settings_thresholds_filter_severity_and_confidence', () => {
  const t = s.thresholds(reader({minSeverity: 'warning', minConfidence: 0.5}));
  assert.deepStrictEqual(t, {maxSeverity: 2, minConfidence: 0.5});
  assert.strictEqual(s.keepDiagnostic(t, 1, {confidence: 0.9}), true);
  assert.strictEqual(s.keepDiagnostic(t, 2, {confidence: 0.5}), true);
  assert.strictEqual(s.keepDiagnostic(t, 3, {confidence: 0.9}), false, 'information is below warning');
  assert.strictEqual(s.keepDiagnostic(t, 1, {confidence: 0.49}), false);
  assert.strictEqual(s.keepDiagnostic(t, undefined, undefined), true, 'no severity = error, no confidence = kept');
  assert.deepStrictEqual(s.thresholds(reader({minSeverity: 'nope', minConfidence: 7})), {maxSeverity: 4, minConfidence: 1});
});
