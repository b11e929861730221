// Longest test files first, from durations measured in CI (test/support/durations.json, seconds),
// so two workers finish together instead of one running a long file alone at the end. Jest's own
// order needs timings from an earlier run on the same machine, which a fresh CI machine has not.
// A file not listed counts as 30 s; refresh the list when the slow files change.
const Sequencer = require('@jest/test-sequencer').default;
const path = require('node:path');
const durations = require('./durations.json');

const root = path.resolve(__dirname, '../..');
const secondsOf = (test) => durations[path.relative(root, test.path)] ?? 30;

class LongestFirst extends Sequencer {
  sort(tests) {
    return [...tests].sort((a, b) => secondsOf(b) - secondsOf(a) || (a.path < b.path ? -1 : 1));
  }
}

module.exports = LongestFirst;
