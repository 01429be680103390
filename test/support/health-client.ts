import { Client, credentials, type ServiceError } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

/** The public service's name, as health checks and reflection know it. */
export const PUBLIC_SERVICE = "backbone.marketdata.v1.MarketDataService";

/** `grpc.health.v1.Health/Check` for `service` ("" = the whole server); resolves with the status name. */
export function healthCheck(address: string, service: string): Promise<string> {
  const client = new Client(address, credentials.createInsecure());
  const check = healthService.Check!;
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(check.path, check.requestSerialize, check.responseDeserialize, { service }, (err: ServiceError | null, res?: object) => {
      client.close();
      if (err) reject(err);
      else resolve((res as { status: string }).status);
    }),
  );
}
