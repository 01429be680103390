/**
 * V8 flags the gateway and the storage daemon run with: `npm start`, `npm run daemon` and
 * `npm run demo` pass them (package.json; a test holds the scripts to this list), and the gateway
 * passes them to the daemon it starts. `npm run bench` runs with them too, so its clients and its
 * in-process baselines run alike. Node accepts them only on its command line, not in NODE_OPTIONS.
 *
 * `--initial-old-space-size=64`: both processes keep a small heap (~15 MB live) while moving
 * hundreds of MB of buffers. From a heap that small V8 sets the next full collection ~24 MB
 * above it, less than one young generation, so it starts an incremental mark-compact after
 * almost every scavenge: the daemon ran ~4 per million candles of a bulk read, a third of its CPU
 * with V8's helper threads, and the gateway in some runs ~3 per million, with 10-20 ms blocks of
 * its event loop. A 64 MB floor under that limit leaves under 1 per million; a heap that grows
 * past it is sized by V8 as before.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--initial-old-space-size=64"];
