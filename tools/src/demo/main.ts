import { ConfigError } from '@platform/config';
import { loadSystemLayout, type SystemLayout } from '../system-layout.js';
import { developmentToken, loadToolAuthConfig, signingSecret } from '../dev-auth.js';
import { loadDemoConfig } from './config.js';
import { createOrderClient } from './order-client.js';
import { matches, playScenarios, type Row } from './scenarios.js';

// `npm run demo`: plays SPEC §7's scenarios against the running system (npm start) and prints a table;
// exits 1 when any row differs from what the seeds say.
const config = loadDemoConfig();
let layout: SystemLayout;
try {
  layout = loadSystemLayout(config.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const paint = (code: number, text: string) => (config.colour ? `\x1b[${code}m${text}\x1b[0m` : text);
const show = (outcome: { status: string; reason: string | null }) =>
  outcome.reason ? `${outcome.status} ${outcome.reason}` : outcome.status;

const ready = await fetch(`${layout.urls.order}/health/ready`).then(
  (response) => response.ok,
  () => false,
);
if (!ready) {
  console.error(
    `The order service is not ready at ${layout.urls.order}: start the system first (npm start).`,
  );
  process.exit(1);
}

console.log(
  'Playing the seed scenarios (seed 000 family-box and veggie-box cases take the 30 s enrichment deadline)…',
);
const started = Date.now();
let done = 0;
const progress = setInterval(() => {
  console.log(paint(2, `  … ${done} finished, ${((Date.now() - started) / 1000).toFixed(0)} s`));
}, 5_000);
// The customer's cancellation needs the customer's token (SPEC §5): signed like `npm run token` signs.
const auth = loadToolAuthConfig(config.env);
const secret = await signingSecret(auth);
const tokenFor = (userId: string, roles: readonly string[] = []): Promise<string | undefined> =>
  secret === undefined ? Promise.resolve(undefined) : developmentToken(secret, auth, userId, roles, 600);
const rows = await playScenarios(createOrderClient(layout.urls, config.timeoutMs, tokenFor), (row) => {
  done += 1;
  const mark = matches(row) ? paint(32, '✓') : paint(31, '✗');
  console.log(`  ${mark} ${row.scenario}: ${show(row.actual)} (${row.seconds.toFixed(1)} s)`);
});
clearInterval(progress);

const header = ['scenario', 'expected', 'actual', 'time to final'];
const lines = rows.map((row: Row) => [
  row.scenario,
  show(row.expected) + (row.alsoAccepted ? ' ¹' : ''),
  show(row.actual),
  `${row.seconds.toFixed(1)} s`,
]);
const widths = header.map((title, i) =>
  Math.max(title.length, ...lines.map((line) => (line[i] ?? '').length)),
);
const format = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
console.log('');
console.log(format(header));
console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
rows.forEach((row, i) => {
  const line = format(lines[i] ?? []);
  console.log(matches(row) ? line : paint(31, line));
});
console.log(
  '¹ or CANCELLED payment_failed: the gateway fails 20 % of charges, so 0.16 % of orders fail all 4 attempts.',
);
const failed = rows.filter((row) => !matches(row)).length;
console.log(
  failed === 0
    ? paint(32, `\nAll ${rows.length} rows as expected.`)
    : paint(31, `\n${failed} of ${rows.length} rows differ.`),
);
process.exitCode = failed === 0 ? 0 : 1;
