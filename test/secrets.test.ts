import { describe, expect, it } from "vitest";
import {
  DEFAULT_SCRYPT_PARAMS,
  constantTimeEqual,
  createSecretHasher,
  createSecretHasherOn,
  portableSecretCrypto,
  defaultSecretHasher,
  generateClientId,
  generateSecret,
  generateVerificationToken,
} from "../src/model/secrets.js";
import { nodeSecretCrypto } from "../src/platform/crypto.node.js";
import { platformCrypto } from "#platform/crypto";

// Small scrypt cost so the suite stays fast; the format records the params.
const FAST_SCRYPT = { logN: 10, r: 8, p: 1 };
const HEX64 = "0123456789abcdef".repeat(4);
const SALT32 = "00112233445566778899aabbccddeeff";

describe("client ids: 32 lowercase hex chars, 128 random bits", () => {
  it("is 32 lowercase hex characters", () => {
    for (let i = 0; i < 20; i++) expect(generateClientId()).toMatch(/^[0-9a-f]{32}$/);
  });

  it("differs between calls", () => {
    const ids = new Set(Array.from({ length: 200 }, () => generateClientId()));
    expect(ids.size).toBe(200);
  });

  it("draws from all 16 hex digits (4 bits per character)", () => {
    const chars = new Set(Array.from({ length: 50 }, () => generateClientId()).join(""));
    expect(chars.size).toBe(16);
  });
});

describe("client secrets: ≥ 256 bits from a CSPRNG, URL-safe, optional prefix", () => {
  it("is at least 43 URL-safe characters", () => {
    for (let i = 0; i < 20; i++) expect(generateSecret()).toMatch(/^[A-Za-z0-9_-]{43,}$/);
  });

  it("carries at least 256 bits: 43 characters from a 64-symbol alphabet", () => {
    const secrets = Array.from({ length: 200 }, () => generateSecret());
    const alphabet = new Set(secrets.join(""));
    expect(alphabet.size).toBe(64);
    const bits = Math.min(...secrets.map((s) => s.length)) * Math.log2(alphabet.size);
    expect(bits).toBeGreaterThanOrEqual(256);
  });

  it("differs between calls", () => {
    const secrets = new Set(Array.from({ length: 200 }, () => generateSecret()));
    expect(secrets.size).toBe(200);
  });

  it("prepends the configured prefix", () => {
    const secret = generateSecret("ocs_");
    expect(secret.startsWith("ocs_")).toBe(true);
    expect(secret.slice("ocs_".length)).toMatch(/^[A-Za-z0-9_-]{43,}$/);
  });

  it("verification tokens are URL-safe and random", () => {
    const a = generateVerificationToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(generateVerificationToken()).not.toBe(a);
  });
});

describe("secret hashing: never stored in plain text", () => {
  describe("sha256 (the default algorithm)", () => {
    const hasher = createSecretHasher({ algorithm: "sha256" });

    it("stores sha256$<64 hex>", async () => {
      expect(await hasher.hash("s3cr3t-value")).toMatch(/^sha256\$[0-9a-f]{64}$/);
    });

    it("is the known SHA-256 digest of the secret", async () => {
      expect(await hasher.hash("abc")).toBe(
        "sha256$ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      );
    });

    it("never contains the secret", async () => {
      const secret = generateSecret();
      expect(await hasher.hash(secret)).not.toContain(secret);
    });

    it("verifies the right secret and refuses a wrong one", async () => {
      const stored = await hasher.hash("correct horse");
      expect(await hasher.verify("correct horse", stored)).toBe(true);
      expect(await hasher.verify("correct hors", stored)).toBe(false);
      expect(await hasher.verify("correct horse ", stored)).toBe(false);
      expect(await hasher.verify("", stored)).toBe(false);
    });

    it("createSecretHasher() defaults to sha256", async () => {
      expect(await createSecretHasher().hash("x")).toMatch(/^sha256\$/);
      expect(await defaultSecretHasher.hash("x")).toMatch(/^sha256\$/);
    });
  });

  describe("scrypt (for imported low-entropy secrets)", () => {
    const hasher = createSecretHasher({ algorithm: "scrypt", scrypt: FAST_SCRYPT });

    it("stores scrypt$<logN>$<r>$<p>$<salt hex>$<hash hex>", async () => {
      expect(await hasher.hash("legacy")).toMatch(/^scrypt\$10\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
    });

    it("is salted: the same secret gives different hashes", async () => {
      const [a, b] = await Promise.all([hasher.hash("legacy"), hasher.hash("legacy")]);
      expect(a).not.toBe(b);
    });

    it("never contains the secret", async () => {
      expect(await hasher.hash("legacy-secret")).not.toContain("legacy-secret");
    });

    it("verifies the right secret and refuses a wrong one", async () => {
      const stored = await hasher.hash("legacy");
      expect(await hasher.verify("legacy", stored)).toBe(true);
      expect(await hasher.verify("Legacy", stored)).toBe(false);
    });

    it("uses the OWASP minimum by default", () => {
      expect(DEFAULT_SCRYPT_PARAMS).toEqual({ logN: 17, r: 8, p: 1 });
    });
  });

  it("the default hasher verifies both the sha256 and the scrypt formats", async () => {
    const sha = await createSecretHasher({ algorithm: "sha256" }).hash("one");
    const sc = await createSecretHasher({ algorithm: "scrypt", scrypt: FAST_SCRYPT }).hash("two");
    expect(await defaultSecretHasher.verify("one", sha)).toBe(true);
    expect(await defaultSecretHasher.verify("two", sc)).toBe(true);
    expect(await defaultSecretHasher.verify("two", sha)).toBe(false);
    expect(await defaultSecretHasher.verify("one", sc)).toBe(false);
  });

  describe("unknown or malformed stored formats verify as false, never throw", () => {
    it.each([
      ["empty", ""],
      ["plain text", "secret"],
      ["unknown algorithm", `md5$${HEX64.slice(0, 32)}`],
      ["bcrypt", "$2b$10$abcdefghijklmnopqrstuuQ1Zx9yZg2cC3bM1oY7KXxJr8m1yQG2a"],
      ["upper-case algorithm", `SHA256$${HEX64}`],
      ["upper-case hex", `sha256$${HEX64.toUpperCase()}`],
      ["short sha256", `sha256$${HEX64.slice(1)}`],
      ["long sha256", `sha256$${HEX64}0`],
      ["sha256 without digest", "sha256$"],
      ["trailing newline", `sha256$${HEX64}\n`],
      ["scrypt logN 0", `scrypt$0$8$1$${SALT32}$${HEX64}`],
      ["scrypt logN 25", `scrypt$25$8$1$${SALT32}$${HEX64}`],
      ["scrypt r 0", `scrypt$10$0$1$${SALT32}$${HEX64}`],
      ["scrypt p 0", `scrypt$10$8$0$${SALT32}$${HEX64}`],
      ["scrypt short salt", `scrypt$10$8$1$${SALT32.slice(2)}$${HEX64}`],
      ["scrypt short hash", `scrypt$10$8$1$${SALT32}$${HEX64.slice(2)}`],
      ["scrypt missing field", `scrypt$10$8$${SALT32}$${HEX64}`],
    ])("%s", async (_label, stored) => {
      await expect(Promise.resolve(defaultSecretHasher.verify("secret", stored))).resolves.toBe(false);
    });

    it("scrypt salt with an odd number of hex digits", async () => {
      const stored = `scrypt$10$8$1$${SALT32}0$${HEX64}`;
      await expect(Promise.resolve(defaultSecretHasher.verify("secret", stored))).resolves.toBe(false);
    });

    it("scrypt parameters beyond the memory limit", async () => {
      const stored = `scrypt$24$8$1$${SALT32}$${HEX64}`;
      await expect(Promise.resolve(defaultSecretHasher.verify("secret", stored))).resolves.toBe(false);
    });
  });
});

describe("node:crypto and @noble/hashes: the same stored formats, each verifies the other's hashes", () => {
  // Under Node the default hasher runs on node:crypto; @noble/hashes is the fallback elsewhere.
  const native = nodeSecretCrypto;
  const implementations = [
    ["node:crypto", "@noble/hashes", native, portableSecretCrypto],
    ["@noble/hashes", "node:crypto", portableSecretCrypto, native],
  ] as const;
  // ASCII, multi-byte UTF-8, and a lone surrogate (both encode it as U+FFFD).
  const secrets = ["correct horse", "pässwörd-秘密-🔑", "lone \ud800 surrogate"];

  it("runs on node:crypto under Node: #platform/crypto resolves to the node:crypto implementation", () => {
    expect(platformCrypto).toBe(nodeSecretCrypto);
  });

  it.each(implementations)("sha256 hashed by %s verifies under %s, and a wrong secret does not", async (_a, _b, from, to) => {
    for (const secret of secrets) {
      const stored = await createSecretHasherOn(from).hash(secret);
      expect(stored).toBe(await createSecretHasherOn(to).hash(secret));
      expect(await createSecretHasherOn(to).verify(secret, stored)).toBe(true);
      expect(await createSecretHasherOn(to).verify(`${secret}x`, stored)).toBe(false);
    }
  });

  it.each(implementations)("scrypt hashed by %s verifies under %s, and a wrong secret does not", async (_a, _b, from, to) => {
    for (const secret of secrets) {
      const stored = await createSecretHasherOn(from, { algorithm: "scrypt", scrypt: FAST_SCRYPT }).hash(secret);
      expect(stored).toMatch(/^scrypt\$10\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
      expect(await createSecretHasherOn(to).verify(secret, stored)).toBe(true);
      expect(await createSecretHasherOn(to).verify(`${secret}x`, stored)).toBe(false);
    }
  });

  it("derives the same scrypt key for the same salt and parameters", async () => {
    const salt = Uint8Array.from({ length: 16 }, (_, i) => i * 7);
    for (const params of [FAST_SCRYPT, { logN: 4, r: 2, p: 3 }]) {
      const [a, b] = await Promise.all([native.scrypt("legacy", salt, params), portableSecretCrypto.scrypt("legacy", salt, params)]);
      expect(Buffer.from(a).toString("hex")).toBe(Buffer.from(b).toString("hex"));
    }
  });

  it.each([
    ["node:crypto", native],
    ["@noble/hashes", portableSecretCrypto],
  ] as const)("%s refuses malformed and over-limit stored hashes without throwing", async (_label, crypto) => {
    const hasher = createSecretHasherOn(crypto);
    for (const stored of [`sha256$${HEX64.slice(1)}`, `scrypt$24$8$1$${SALT32}$${HEX64}`, `scrypt$10$8$1$${SALT32}$${HEX64}`]) {
      expect(await hasher.verify("secret", stored)).toBe(false);
    }
  });
});

describe("constantTimeEqual", () => {
  const bytes = (...values: number[]) => new Uint8Array(values);

  it("is true for equal bytes", () => {
    expect(constantTimeEqual(bytes(1, 2, 3), bytes(1, 2, 3))).toBe(true);
    expect(constantTimeEqual(bytes(), bytes())).toBe(true);
  });

  it("is false when any byte differs, first or last", () => {
    expect(constantTimeEqual(bytes(9, 2, 3), bytes(1, 2, 3))).toBe(false);
    expect(constantTimeEqual(bytes(1, 2, 3), bytes(1, 2, 4))).toBe(false);
    expect(constantTimeEqual(bytes(0x80), bytes(0x00))).toBe(false);
  });

  it("is false when lengths differ, even on a common prefix", () => {
    expect(constantTimeEqual(bytes(1, 2, 3), bytes(1, 2))).toBe(false);
    expect(constantTimeEqual(bytes(), bytes(0))).toBe(false);
  });
});

describe("verifyEach: one secret against several hashes gives verify's answer for each", () => {
  it("shares one digest among SHA-256 hashes and still checks scrypt hashes, mixed in any order", async () => {
    const hasher = createSecretHasher();
    const scrypt = createSecretHasher({ algorithm: "scrypt", scrypt: { logN: 4, r: 8, p: 1 } });
    const right = await hasher.hash("right-secret");
    const other = await hasher.hash("other-secret");
    const slow = await scrypt.hash("right-secret");
    const stored = [right, other, slow, "sha256$not-hex", "unknown$format"];
    for (const secret of ["right-secret", "other-secret", "wrong", ""]) {
      const each = await hasher.verifyEach!(secret, stored);
      const one = await Promise.all(stored.map((hash) => hasher.verify(secret, hash)));
      expect(each).toEqual(one);
    }
    expect(await hasher.verifyEach!("right-secret", stored)).toEqual([true, false, true, false, false]);
    // Only SHA-256 hashes: answered without a promise.
    expect(Array.isArray(hasher.verifyEach!("right-secret", [right, other]))).toBe(true);
  });
});
