// V8 heap settings the service is run with (npm start, the test stack, the benchmark). Measured with
// `npm run bench`: the live heap under a 2,000+ events/s burst is about 40 MB, but with no cap V8
// lets the heap grow to 220 MB of mostly garbage (peak RSS 354 MB). A 128 MB old space and 8 MB
// semi-spaces keep the peak RSS near 170 MB for a few percent of throughput. Memory held per
// batch is bounded (work in flight, never all users), so the cap does not scale with the org.
// One V8 helper thread instead of four (node bench/peak-rss.ts, issue 17): each helper that runs a
// concurrent compile or GC job gets its own glibc malloc arena, and at the peak those arenas held
// 25 MB of the RSS (/proc/<pid>/smaps); with one helper the peak was 1-15 MB lower, side by side.
// WebAssembly compiled by Liftoff only (node bench/peak-rss.ts, issue 17): the only WebAssembly is
// undici's HTTP parser behind fetch (outbound Salesforce and Didomi calls; webhooks are parsed by
// Node's native one), and V8's background TurboFan tier-up of it malloced ~23 MB at start-up that
// stayed resident: idle RSS 113 -> 94 MB, PostgreSQL peak 144/144/144/144 -> 139/145/141/141 MB side by side.
export const NODE_FLAGS = ['--max-old-space-size=128', '--max-semi-space-size=8', '--v8-pool-size=1', '--liftoff-only'];
