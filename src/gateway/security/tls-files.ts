import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError } from "../../shared/errors.js";

export const TLS_CERT_VARIABLE = "BACKBONE_TLS_CERT";
export const TLS_KEY_VARIABLE = "BACKBONE_TLS_KEY";

/** The gateway's TLS certificate chain and private key, PEM, as grpc-js takes them. */
export interface TlsFiles {
  readonly certChain: Buffer;
  readonly privateKey: Buffer;
}

function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(variable, path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/**
 * `BACKBONE_TLS_CERT` and `BACKBONE_TLS_KEY` (PEM file paths, both or neither), checked here so
 * that a wrong file is a configuration error naming its variable, not a failure to listen.
 */
export function loadTlsFiles(env: NodeJS.ProcessEnv, nowMs: number): TlsFiles | undefined {
  const certPath = env[TLS_CERT_VARIABLE] || undefined;
  const keyPath = env[TLS_KEY_VARIABLE] || undefined;
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined) throw new ConfigError(TLS_CERT_VARIABLE, "", `must be set with ${TLS_KEY_VARIABLE} (both or neither)`);
  if (keyPath === undefined) throw new ConfigError(TLS_KEY_VARIABLE, "", `must be set with ${TLS_CERT_VARIABLE} (both or neither)`);
  const certChain = readPem(TLS_CERT_VARIABLE, certPath);
  const privateKey = readPem(TLS_KEY_VARIABLE, keyPath);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certChain);
  } catch {
    throw new ConfigError(TLS_CERT_VARIABLE, certPath, "is not a PEM certificate");
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKey);
  } catch {
    throw new ConfigError(TLS_KEY_VARIABLE, keyPath, "is not a PEM private key (or it is encrypted: the gateway takes an unencrypted key)");
  }
  if (!cert.checkPrivateKey(key)) throw new ConfigError(TLS_KEY_VARIABLE, keyPath, `is not the key of the certificate in ${TLS_CERT_VARIABLE}`);
  if (Date.parse(cert.validTo) <= nowMs) throw new ConfigError(TLS_CERT_VARIABLE, certPath, `expired on ${new Date(cert.validTo).toISOString()}`);
  return { certChain, privateKey };
}
