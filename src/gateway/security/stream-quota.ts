import { status } from "@grpc/grpc-js";
import { StatusError } from "../../shared/grpc/status-mapping.js";

export const STREAMS_PER_CLIENT_VARIABLE = "BACKBONE_MAX_STREAMS_PER_CLIENT";

/**
 * Open streams per client, bounded: one client (an API key, or a peer host without keys) cannot
 * hold every stream slot the gateway's memory and the hub's fan-out can afford.
 */
export class StreamQuota {
  private readonly open = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** Streams `client` holds now. */
  openBy(client: string): number {
    return this.open.get(client) ?? 0;
  }

  /**
   * Takes a slot for `client`, RESOURCE_EXHAUSTED when it holds `limit` already. The slot is
   * given back by the returned function, once however often it is called.
   */
  acquire(client: string): () => void {
    const held = this.openBy(client);
    if (held >= this.limit) {
      throw new StatusError(
        status.RESOURCE_EXHAUSTED,
        `${client} has ${held} streams open, the most one client may (${STREAMS_PER_CLIENT_VARIABLE}=${this.limit}); close one first`,
      );
    }
    this.open.set(client, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.openBy(client) - 1;
      if (left > 0) this.open.set(client, left);
      else this.open.delete(client);
    };
  }
}
