/**
 * Optional API keys (`BACKBONE_API_KEYS_FILE`): who may call the public service, and the highest
 * priority each caller may use. The file is read once at start (no reload: restart the gateway
 * to change keys). Raw keys never leave this module: only their SHA-256 digests are kept, and no
 * error message or log line repeats a key or any other text of the file, since a field in the
 * wrong place may be a key.
 *
 * File format, one key per line, fields separated by spaces or tabs:
 *
 *     # key                                     max_priority  name
 *     3f9c2a7e0d6b41c8a5e2f7d9b1c04e6a8f2d5b7c  NORMAL        chart-ui
 *     Zk2m9Qv4Xr7Tb1Wn8Ld5Hs3Jf6Gp0Ce2          CRITICAL      trading-bot
 *
 * - key: 16 to 256 characters of `A-Z a-z 0-9 - . _ ~ + /`, optionally ending in `=` padding
 *   (a Bearer token's characters, so it travels in an `authorization` header as it is);
 * - max_priority: CRITICAL, HIGH, NORMAL or LOW, the highest priority calls with this key get;
 * - name: 1 to 64 characters of `A-Z a-z 0-9 - . _`, unique, for limits' messages and logs.
 * Blank lines and lines starting with `#` are ignored. Keys and names must be unique.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { type Metadata, status } from "@grpc/grpc-js";
import { ConfigError } from "../shared/errors.js";
import { StatusError } from "../shared/grpc/status-mapping.js";
import { PRIORITIES, type Priority } from "./upstream/rate-limiter.js";

export const API_KEYS_VARIABLE = "BACKBONE_API_KEYS_FILE";
export const MIN_KEY_LENGTH = 16;
export const MAX_KEY_LENGTH = 256;
const KEY_CHARS = /^[A-Za-z0-9\-._~+/]+=*$/;
const NAME = /^[A-Za-z0-9\-._]{1,64}$/;

/** One configured key; the key itself is kept only as its digest. */
export interface ApiKey {
  /** SHA-256 of the key, hex. */
  readonly digest: string;
  readonly name: string;
  /** The highest priority calls with this key are served at. */
  readonly maxPriority: Priority;
  /** Line of the keys file, for messages. */
  readonly line: number;
}

function digestOf(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/**
 * The keys of a keys file's text. Anything malformed is a ConfigError naming `source`, the line
 * and the field, never quoting the file.
 */
export function parseApiKeys(text: string, source: string): ApiKey[] {
  const fail = (line: number, problem: string) => new ConfigError(API_KEYS_VARIABLE, source, `line ${line}: ${problem}`);
  const keys: ApiKey[] = [];
  const lineOfDigest = new Map<string, number>();
  const lineOfName = new Map<string, number>();
  text
    .replace(/^\uFEFF/, "")
    .split("\n")
    .forEach((raw, i) => {
      const line = i + 1;
      const content = raw.trim();
      if (content === "" || content.startsWith("#")) return;
      const fields = content.split(/[ \t]+/);
      if (fields.length !== 3) throw fail(line, `has ${fields.length} fields; expected 3: key max_priority name`);
      const [key, maxPriority, name] = fields as [string, string, string];
      if (key.length < MIN_KEY_LENGTH) throw fail(line, `the key (field 1) has ${key.length} characters; keys need at least ${MIN_KEY_LENGTH}`);
      if (key.length > MAX_KEY_LENGTH) throw fail(line, `the key (field 1) has ${key.length} characters; keys may have at most ${MAX_KEY_LENGTH}`);
      if (!KEY_CHARS.test(key)) throw fail(line, "the key (field 1) may hold only A-Z a-z 0-9 - . _ ~ + / and trailing = padding");
      if (!(PRIORITIES as readonly string[]).includes(maxPriority)) throw fail(line, `max_priority (field 2) must be ${PRIORITIES.join(", ")}`);
      if (!NAME.test(name)) throw fail(line, "the name (field 3) must be 1 to 64 characters of A-Z a-z 0-9 - . _");
      const digest = digestOf(key);
      const keyLine = lineOfDigest.get(digest);
      if (keyLine !== undefined) throw fail(line, `the key repeats the key of line ${keyLine}`);
      const nameLine = lineOfName.get(name);
      if (nameLine !== undefined) throw fail(line, `the name repeats the name of line ${nameLine}`);
      lineOfDigest.set(digest, line);
      lineOfName.set(name, line);
      keys.push({ digest, name, maxPriority: maxPriority as Priority, line });
    });
  // An empty file would refuse every call; it is more likely a mistake than a wish.
  if (keys.length === 0) throw new ConfigError(API_KEYS_VARIABLE, source, `lists no key; unset ${API_KEYS_VARIABLE} to serve without keys`);
  return keys;
}

/** The keys named by `BACKBONE_API_KEYS_FILE`, or undefined when it is unset (no keys: open service). */
export function loadApiKeys(env: NodeJS.ProcessEnv): ApiKey[] | undefined {
  const path = env[API_KEYS_VARIABLE];
  if (path === undefined || path === "") return undefined;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(API_KEYS_VARIABLE, path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseApiKeys(text, path);
}

/** Who is calling, as far as the service's limits are concerned. */
export interface Caller {
  /** The client per-client limits count against: `API key "name"`, or `peer HOST` without keys. */
  readonly client: string;
  /** The highest priority the caller may use; undefined when no keys are configured. */
  readonly ceiling?: Priority;
}

/** The key a call's metadata carries: `authorization: Bearer KEY`, else `x-api-key: KEY`. */
function presentedKey(metadata: Metadata): string | undefined {
  const authorization = metadata.get("authorization")[0];
  if (typeof authorization === "string" && authorization !== "") {
    const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (!bearer) throw new StatusError(status.UNAUTHENTICATED, "authorization: expected `Bearer <API key>`");
    return bearer[1];
  }
  const apiKey = metadata.get("x-api-key")[0];
  return typeof apiKey === "string" && apiKey.trim() !== "" ? apiKey.trim() : undefined;
}

/** The host part of a grpc-js peer (`127.0.0.1:5000`, `::1:5000`, `::ffff:10.0.0.2:5000`). */
export function peerHost(peer: string): string {
  return peer.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1").replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
}

/**
 * The one place calls are identified. Without keys everybody may call, at any priority, and a
 * client is its peer host; with keys a call needs a known key, whose ceiling caps its priority.
 */
export class CallerPolicy {
  private readonly byDigest: ReadonlyMap<string, ApiKey> | undefined;

  constructor(keys: readonly ApiKey[] | undefined) {
    this.byDigest = keys === undefined ? undefined : new Map(keys.map((k) => [k.digest, k]));
  }

  get requiresKeys(): boolean {
    return this.byDigest !== undefined;
  }

  /** The caller of a call with `metadata` from `peer`; UNAUTHENTICATED without a known key when keys are required. */
  identify(metadata: Metadata, peer: string): Caller {
    if (this.byDigest === undefined) return { client: `peer ${peerHost(peer)}` };
    const key = presentedKey(metadata);
    if (key === undefined) throw new StatusError(status.UNAUTHENTICATED, "missing API key: send `authorization: Bearer <key>` or `x-api-key: <key>`");
    // Looked up by digest: no comparison runs over the secret itself.
    const known = this.byDigest.get(digestOf(key));
    if (known === undefined) throw new StatusError(status.UNAUTHENTICATED, "unknown API key");
    return { client: `API key "${known.name}"`, ceiling: known.maxPriority };
  }
}
