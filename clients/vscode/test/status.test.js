'use strict';
const test = require('node:test');
const assert = require('node:assert');
const {install} = require('./stub');

const {load} = install();
const {ReviewStatus} = load('status');
const newItem = () => ({text: '', visible: false, show() { this.visible = true; }, hide() { this.visible = false; }});

test('status_shows_running_passes_and_cost_then_result', () => {
  const item = newItem();
  const st = new ReviewStatus(item);
  assert.ok(item.visible);
  assert.match(item.text, /quorum \$0\.0000/);
  st.update('t1', {kind: 'begin', title: 'quorum review', message: 'starting'});
  assert.match(item.text, /0\/0 passes/);
  st.update('t1', {kind: 'report', message: '3/6 passes done, $0.0123', percentage: 50});
  assert.match(item.text, /sync~spin.*3\/6 passes · \$0\.0123/);
  st.update('t1', {kind: 'end', message: '2 findings'});
  assert.strictEqual(item.text, '$(checklist) quorum 2 findings · $0.0123');
});

test('status_sums_concurrent_reviews', () => {
  const item = newItem();
  const st = new ReviewStatus(item);
  st.update('a', {kind: 'report', message: '1/2 passes done, $0.0010'});
  st.update('b', {kind: 'report', message: '2/4 passes done, $0.0020'});
  assert.match(item.text, /3\/6 passes · \$0\.0030/);
  st.update('a', {kind: 'end', message: 'canceled'});
  assert.match(item.text, /2\/4 passes · \$0\.0020/);
  st.reset();
  assert.match(item.text, /checklist/);
});
