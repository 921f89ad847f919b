'use strict';
const test = require('node:test');
const assert = require('node:assert');
const {install} = require('./stub');

const {load} = install();
const s = load('settings');
const reader = (values) => ({get: (k, d) => (k in values ? values[k] : d)});

test('settings_server_command_prefers_setting_then_bundled_then_path', () => {
  assert.deepStrictEqual(s.serverCommand(reader({'server.path': '/opt/q/quorum-ls', 'server.args': ['-v']}), '/ext', () => true),
                         {command: '/opt/q/quorum-ls', args: ['-v']});
  assert.strictEqual(s.serverCommand(reader({}), '/ext', (p) => p === '/ext/bin/quorum-ls').command, '/ext/bin/quorum-ls');
  assert.strictEqual(s.serverCommand(reader({'server.path': '  '}), '/ext', () => false).command, 'quorum-ls');
});

test('settings_server_settings_drop_empty_config_and_clamp', () => {
  assert.deepStrictEqual(s.serverSettings(reader({})), {trigger: 'onSave', debounceMs: 1000});
  assert.deepStrictEqual(s.serverSettings(reader({configFile: ' /home/u/q.toml ', trigger: 'manual', debounceMs: 99999999})),
                         {configFile: '/home/u/q.toml', trigger: 'manual', debounceMs: 600000});
  assert.strictEqual(s.serverSettings(reader({trigger: 'bogus', debounceMs: 'x'})).trigger, 'onSave');
  assert.strictEqual(s.serverSettings(reader({debounceMs: -5})).debounceMs, 0);
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
