import { execFileSync } from "node:child_process";
import { join } from "node:path";

/**
 * A throwaway self-signed certificate for `localhost` and 127.0.0.1 in `dir` (Debian package
 * `openssl`), for a gateway serving TLS in a test; returns the paths of the certificate and key.
 */
export function selfSignedCertificate(dir: string): { certPath: string; keyPath: string } {
  const certPath = join(dir, "gateway.crt");
  const keyPath = join(dir, "gateway.key");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyPath, "-out", certPath, "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
    { stdio: "ignore" },
  );
  return { certPath, keyPath };
}
