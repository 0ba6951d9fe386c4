#!/usr/bin/env node
// The plain client a probe is compared with (test/e2e/probe-warmup.test.ts): in a fresh process, warm `concurrency` connections, then
// time `samples` GETs of URL, `concurrency` at a time, with fetch alone. Prints {"p50_ms", "p95_ms", "max_ms"} (nearest rank).
//
//   node test/helpers/probe-baseline.mjs URL [samples=10] [concurrency=5]
const [url, samplesArg = '10', concurrencyArg = '5'] = process.argv.slice(2);
const samples = Number(samplesArg);
const concurrency = Number(concurrencyArg);
const turn = () => new Promise((resolve) => setImmediate(resolve));

async function timed() {
  const started = performance.now();
  const response = await fetch(url);
  await response.text();
  return performance.now() - started;
}

await Promise.all(Array.from({ length: concurrency }, timed));
const times = [];
let claimed = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (claimed < samples) {
      claimed++;
      await turn();
      times.push(await timed());
    }
  }),
);
times.sort((a, b) => a - b);
const rank = (p) => times[Math.min(times.length, Math.max(1, Math.ceil((p / 100) * times.length))) - 1];
const round = (ms) => Math.round(ms * 10) / 10;
console.log(JSON.stringify({ p50_ms: round(rank(50)), p95_ms: round(rank(95)), max_ms: round(times.at(-1)) }));
