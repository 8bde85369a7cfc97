/**
 * Throwaway TLS certificates for local https servers in tests, made with the
 * `openssl` binary. CI installs it; where it is missing, TLS tests skip
 * unless REQUIRE_OPENSSL=1, which turns the skip into a failure.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Whether the `openssl` binary runs here. */
export const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    if (process.env.REQUIRE_OPENSSL === "1") throw new Error("REQUIRE_OPENSSL=1 but the openssl binary is not available");
    return false;
  }
})();

/** A key and a self-signed certificate (PEM) for the given DNS names, valid one day. */
export interface TestCertificate {
  key: string;
  cert: string;
}

/**
 * A fresh P-256 key and a self-signed certificate naming `names` (the first
 * is the subject CN); pass `cert` as `ca` to the client that should trust it.
 *
 * @example
 * const { key, cert } = selfSignedCertificate(["metadata.test"]);
 * const server = https.createServer({ key, cert }, handler);
 */
export function selfSignedCertificate(names: readonly string[]): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "test-cert-"));
  try {
    execFileSync(
      "openssl",
      [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1",
        "-subj", `/CN=${names[0]}`, "-addext", `subjectAltName=${names.map((name) => `DNS:${name}`).join(",")}`,
      ],
      { stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
