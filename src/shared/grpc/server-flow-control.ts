import type { Http2Server, ServerHttp2Session } from "node:http2";
import type { Server } from "@grpc/grpc-js";

/**
 * Widens the HTTP/2 flow-control windows of every session a grpc-js server accepts. grpc-js has
 * no server option for it (only clients get `grpc-node.flow_control_window`), and HTTP/2's default
 * 64 KiB window makes a large request wait for a window update every 64 KiB: bulk writes to the
 * storage daemon moved at ~100 MB/s. grpc-js keeps its HTTP/2 servers in a private map; if that
 * ever changes this does nothing and only speed is lost. Call it after `bindAsync` succeeded.
 */
export function widenServerFlowControl(server: Server, windowBytes: number): void {
  const servers = (server as unknown as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
  if (!(servers instanceof Map)) return;
  for (const http2Server of servers.keys()) {
    http2Server.on("session", (session: ServerHttp2Session) => {
      session.settings({ initialWindowSize: windowBytes });
      session.setLocalWindowSize(windowBytes);
    });
  }
}
