/**
 * A bound on expensive work (slow password hashes): at most `concurrency`
 * tasks run at once and at most `maxQueue` wait; past that, new work is
 * refused at once instead of piling up in memory.
 */
import { OverloadedError } from "./errors.js";

/** Runs tasks under the limit; rejects with {@link OverloadedError} when the queue is full. */
export type WorkLimiter = <T>(task: () => T | Promise<T>) => Promise<T>;

/**
 * Creates a limiter.
 *
 * @example
 * ```ts
 * import { createSecretHasher } from "oauth-client-registry";
 *
 * const limit = createWorkLimiter({ concurrency: 2, maxQueue: 64 });
 * const scrypt = createSecretHasher({ algorithm: "scrypt" });
 * const stored = await scrypt.hash("an imported secret");
 * const ok = await limit(() => scrypt.verify("an imported secret", stored)); // true
 * ```
 */
export function createWorkLimiter(options: { concurrency: number; maxQueue: number }): WorkLimiter {
  const { concurrency, maxQueue } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError("concurrency must be a positive integer");
  if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new TypeError("maxQueue must be a non-negative integer");
  let running = 0;
  const waiting: (() => void)[] = [];

  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  return async <T>(task: () => T | Promise<T>): Promise<T> => {
    if (running < concurrency) running++;
    else if (waiting.length < maxQueue) await new Promise<void>((resolve) => waiting.push(resolve));
    else throw new OverloadedError();
    // A slot handed over by `release` keeps `running` unchanged.
    try {
      return await task();
    } finally {
      release();
    }
  };
}
