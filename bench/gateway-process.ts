import { SERVER_NODE_FLAGS } from "../src/shared/server-node-flags.js";
import { launchListening, type ListeningProcess } from "./listening-process.js";

const GATEWAY_MAIN = new URL("../src/gateway/main.ts", import.meta.url).pathname;

/** The gateway as `npm start` runs it (its V8 flags, the daemon as its sidecar), configured by `env`. */
export function launchGatewayProcess(env: Record<string, string>): Promise<ListeningProcess> {
  return launchListening(GATEWAY_MAIN, [], env, SERVER_NODE_FLAGS);
}
