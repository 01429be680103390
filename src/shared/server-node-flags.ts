/**
 * V8 flags the gateway and the storage daemon run with: `npm start`, `npm run daemon` and
 * `npm run demo` pass them (package.json; a test holds the scripts to this list), and the gateway
 * passes them to the daemon it starts. `npm run bench` runs with them too, so its clients and its
 * in-process baselines run alike. Node accepts them only on its command line, not in NODE_OPTIONS.
 *
 * `--initial-old-space-size=128`: both processes keep a small heap while moving hundreds of MB of
 * buffers. From a small heap V8 sets the next full collection only ~24 MB above it, less than one
 * young generation, so it starts an incremental mark-compact after almost every scavenge: the
 * daemon (~15 MB live) ran ~4 per million candles of a bulk read, a third of its CPU with V8's
 * helper threads. A 64 MB floor cured the daemon, but the gateway holds 24-35 MB after warming up
 * and still had runs of a mark-compact every ~300 ms during bulk fetches (pauses up to ~30 ms,
 * inside its longest event-loop blocks); at 128 it ran 1-3 in the bulk bench's two 10M fetches.
 * A heap that grows past the floor is sized by V8 as before.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--initial-old-space-size=128"];
