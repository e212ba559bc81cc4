// flagd_bench.js DIR [N]: time N evaluations of DIR/flags.json with @openfeature/flagd-core
// after a warm-up, cycling through every flag, channel and key as bench_flags --bench does.
// Prints "flagd-core <evals/s>" for the mix and "flagd-core-rollout <evals/s>" for the
// one 50/50 rollout (bool-half on stable) where every evaluation hashes.
'use strict';
const fs = require('fs');
const { FlagdCore } = require('@openfeature/flagd-core');

const dir = process.argv[2];
const n = Number(process.argv[3] || 1000000);
const meta = JSON.parse(fs.readFileSync(`${dir}/meta.json`, 'utf8'));
const keys = fs.readFileSync(`${dir}/keys.txt`, 'utf8').split('\n');
keys.pop();
const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const core = new FlagdCore(undefined, quiet);
core.setConfigurations(fs.readFileSync(`${dir}/flags.json`, 'utf8'));

const resolve = {
  boolean: (k, d, c) => core.resolveBooleanEvaluation(k, d, c),
  string: (k, d, c) => core.resolveStringEvaluation(k, d, c),
  number: (k, d, c) => core.resolveNumberEvaluation(k, d, c),
  object: (k, d, c) => core.resolveObjectEvaluation(k, d, c),
};
const flags = meta.flags.map((f) => ({ key: f.key, def: f.default, fn: resolve[f.type] }));
// One context object per key and channel, built before timing (as a server would hold them).
const ctxs = keys.map((k) => meta.channels.map((c) => (c === null ? { targetingKey: k } : { targetingKey: k, channel: c })));

let sink = 0;
function run(count) {
  let done = 0;
  while (done < count) {
    for (let k = 0; k < ctxs.length && done < count; k++) {
      const row = ctxs[k];
      for (const f of flags) {
        for (const ctx of row) {
          if (f.fn(f.key, f.def, ctx).variant) sink++;
        }
      }
      done += flags.length * row.length;
    }
  }
  return done;
}
function rollout(count) {
  const def = flags.find((f) => f.key === 'bool-half').def;
  const stable = meta.channels.indexOf('stable');
  let done = 0;
  while (done < count) {
    for (let k = 0; k < ctxs.length && done < count; k++, done++) {
      if (core.resolveBooleanEvaluation('bool-half', def, ctxs[k][stable]).variant) sink++;
    }
  }
  return done;
}
function timed(name, fn) {
  fn(100000);
  const t0 = process.hrtime.bigint();
  const done = fn(n);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${name} ${Math.round(done / secs)} evals/s (${done} evaluations in ${secs.toFixed(3)} s, node ${process.version})`);
}
timed('flagd-core', run);
timed('flagd-core-rollout', rollout);
if (sink === 0) process.exit(1);
