// flagd_compat.js DIR: evaluate DIR/flags.json with @openfeature/flagd-core for every line
// of DIR/evals.tsv (bootmeta's answers) and report every difference. Exit 1 on any.
// bootmeta says SPLIT where flagd says TARGETING_MATCH (flagd has one reason for all
// targeting); a disabled flag gives the caller's default in flagd, and we pass bootmeta's
// default variant's value as that default, so the values must still agree.
'use strict';
const fs = require('fs');
const { isDeepStrictEqual } = require('util');
const { FlagdCore, MemoryStorage } = require('@openfeature/flagd-core');

const dir = process.argv[2];
const text = fs.readFileSync(`${dir}/flags.json`, 'utf8');
const meta = JSON.parse(fs.readFileSync(`${dir}/meta.json`, 'utf8'));
const keys = fs.readFileSync(`${dir}/keys.txt`, 'utf8').split('\n');
keys.pop();

const logs = [];
const logger = {
  error: (...a) => logs.push(`error: ${a.join(' ')}`),
  warn: (...a) => logs.push(`warn: ${a.join(' ')}`),
  info: () => {},
  debug: (...a) => logs.push(`debug: ${a.join(' ')}`),
};

// Schema-valid? (strict: throws on any schema error)
new MemoryStorage(logger).setConfigurations(text, true);
const core = new FlagdCore(undefined, logger);
core.setConfigurations(text);

const types = new Map(meta.flags.map((f) => [f.key, f]));
const resolvers = {
  boolean: (k, d, c) => core.resolveBooleanEvaluation(k, d, c),
  string: (k, d, c) => core.resolveStringEvaluation(k, d, c),
  number: (k, d, c) => core.resolveNumberEvaluation(k, d, c),
  object: (k, d, c) => core.resolveObjectEvaluation(k, d, c),
};

let compared = 0;
const mismatches = [];
const byReason = {};
for (const line of fs.readFileSync(`${dir}/evals.tsv`, 'utf8').split('\n')) {
  if (!line) continue;
  const [flag, channel, ki, variant, reason, valueJson] = line.split('\t');
  const f = types.get(flag);
  const ctx = { targetingKey: keys[Number(ki)] };
  if (channel !== '') ctx.channel = channel;
  const res = resolvers[f.type](flag, f.default, ctx);
  const want = JSON.parse(valueJson);
  const wantReason = reason === 'SPLIT' ? 'TARGETING_MATCH' : reason;
  const problems = [];
  if (res.errorCode) problems.push(`error ${res.errorCode}: ${res.errorMessage}`);
  if (!isDeepStrictEqual(res.value, want)) problems.push(`value ${JSON.stringify(res.value)} != ${valueJson}`);
  if (reason !== 'DISABLED' && res.variant !== variant) problems.push(`variant ${res.variant} != ${variant}`);
  if (res.reason !== wantReason) problems.push(`reason ${res.reason} != ${wantReason}`);
  compared++;
  byReason[reason] = (byReason[reason] || 0) + 1;
  if (problems.length) mismatches.push(`${flag} channel=${channel || '(none)'} key=${JSON.stringify(ctx.targetingKey)}: ${problems.join('; ')}`);
}

// Expected: fractional without a targeting key (the empty key) says so at debug level.
const bad = logs.filter((l) => !l.startsWith('debug: Missing targetingKey property'));
console.log(`flagd-core compat: ${compared} evaluations compared, ${mismatches.length} mismatches`);
console.log(`  by bootmeta reason: ${JSON.stringify(byReason)}`);
if (bad.length) {
  console.log(`flagd-core logged ${bad.length} problems, first:`);
  for (const l of bad.slice(0, 10)) console.log(`  ${l}`);
}
for (const m of mismatches.slice(0, 20)) console.log(`  MISMATCH ${m}`);
if (compared === 0 || mismatches.length || bad.length) process.exit(1);
