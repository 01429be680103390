import { readFileSync } from "node:fs";
import { type ChannelCredentials, type ChannelOptions, credentials, InterceptingCall, type Interceptor } from "@grpc/grpc-js";
import { UsageError } from "./usage-error.js";

/** PEM certificate (or CA) to trust: mdb then speaks TLS to the gateway. */
export const GATEWAY_CA_VARIABLE = "BACKBONE_GATEWAY_CA";
/** The API key mdb presents (`authorization: Bearer KEY`) to a gateway that requires keys. */
export const API_KEY_VARIABLE = "BACKBONE_API_KEY";

export interface GatewayConnection {
  readonly channelOptions: ChannelOptions;
  readonly credentials: ChannelCredentials;
}

/** Adds the key to every call's metadata. */
function bearer(key: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set("authorization", `Bearer ${key}`);
        next(metadata, listener);
      },
    });
}

/** How mdb reaches a gateway configured with TLS and API keys (README "Security"); plaintext and keyless otherwise. */
export function gatewayConnection(env: NodeJS.ProcessEnv): GatewayConnection {
  const caPath = env[GATEWAY_CA_VARIABLE]?.trim();
  const key = env[API_KEY_VARIABLE]?.trim();
  let ca: Buffer | undefined;
  if (caPath) {
    try {
      ca = readFileSync(caPath);
    } catch (e) {
      throw new UsageError(`${GATEWAY_CA_VARIABLE}: cannot read ${JSON.stringify(caPath)}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (key !== undefined && key !== "" && /\s/.test(key)) throw new UsageError(`${API_KEY_VARIABLE}: an API key has no spaces`);
  return {
    // grpc-js takes client interceptors among the channel options.
    channelOptions: key ? { interceptors: [bearer(key)] } : {},
    credentials: ca ? credentials.createSsl(ca) : credentials.createInsecure(),
  };
}
