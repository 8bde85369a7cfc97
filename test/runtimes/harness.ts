/**
 * The part of vitest's API the store suites use (describe, it, their skip
 * forms, afterAll, expect), for runtimes vitest does not run on: Bun, Deno
 * and workerd. The runtime runners are bundled with `vitest` aliased to this
 * module, so the exported conformance suite runs there unchanged.
 *
 * `expect` is vitest's own (`@vitest/expect` on chai), so every assertion
 * means exactly what it means under vitest. Cases run one after another, in
 * the order they were registered, like a vitest file without concurrency.
 */
import {
  ASYMMETRIC_MATCHERS_OBJECT,
  chai,
  JestAsymmetricMatchers,
  JestChaiExpect,
  JestExtend,
  setState,
  type ExpectStatic,
} from "@vitest/expect";

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

type Body = () => unknown;

interface Case {
  name: string;
  body: Body;
  skipped: boolean;
}

const cases: Case[] = [];
const afterAllHooks: Body[] = [];
const path: string[] = [];
let skipping = 0;

function register(name: string, body: Body, skipped: boolean): void {
  cases.push({ name: [...path, name].join(" > "), body, skipped: skipped || skipping > 0 });
}

function group(name: string, body: () => void, skipped: boolean): void {
  path.push(name);
  if (skipped) skipping++;
  try {
    body();
  } finally {
    if (skipped) skipping--;
    path.pop();
  }
}

type ItFn = ((name: string, body: Body) => void) & {
  skip: (name: string, body: Body) => void;
  skipIf: (condition: unknown) => (name: string, body: Body) => void;
};
type DescribeFn = ((name: string, body: () => void) => void) & {
  skip: (name: string, body: () => void) => void;
  skipIf: (condition: unknown) => (name: string, body: () => void) => void;
};

export const it: ItFn = Object.assign((name: string, body: Body) => register(name, body, false), {
  skip: (name: string, body: Body) => register(name, body, true),
  skipIf: (condition: unknown) => (name: string, body: Body) => register(name, body, Boolean(condition)),
});
export const test = it;

export const describe: DescribeFn = Object.assign((name: string, body: () => void) => group(name, body, false), {
  skip: (name: string, body: () => void) => group(name, body, true),
  skipIf: (condition: unknown) => (name: string, body: () => void) => group(name, body, Boolean(condition)),
});

export function afterAll(body: Body): void {
  afterAllHooks.push(body);
}

export const expect = ((value: unknown, message?: string) => chai.expect(value, message)) as unknown as ExpectStatic;
Object.assign(expect, chai.expect);
Object.assign(expect, (globalThis as unknown as Record<symbol, object>)[ASYMMETRIC_MATCHERS_OBJECT]);
setState({ assertionCalls: 0, isExpectingAssertions: false, expectedAssertionsNumber: null }, expect);

/** One case's outcome. */
export interface CaseResult {
  name: string;
  status: "passed" | "failed" | "skipped";
  /** The failure, for a failed case. */
  error?: string;
  ms: number;
}

/** Counts and each case's outcome. */
export interface RunResult {
  passed: number;
  failed: number;
  skipped: number;
  cases: CaseResult[];
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}${error.stack ? `\n${error.stack.split("\n").slice(1, 6).join("\n")}` : ""}`;
  return String(error);
}

/** Runs every registered case once, in order, then the afterAll hooks. */
export async function runRegistered(onResult?: (result: CaseResult) => void): Promise<RunResult> {
  const result: RunResult = { passed: 0, failed: 0, skipped: 0, cases: [] };
  for (const testCase of cases) {
    const started = Date.now();
    let outcome: CaseResult;
    if (testCase.skipped) {
      outcome = { name: testCase.name, status: "skipped", ms: 0 };
    } else {
      try {
        await testCase.body();
        outcome = { name: testCase.name, status: "passed", ms: Date.now() - started };
      } catch (error) {
        outcome = { name: testCase.name, status: "failed", error: describeError(error), ms: Date.now() - started };
      }
    }
    result[outcome.status]++;
    result.cases.push(outcome);
    onResult?.(outcome);
  }
  for (const hook of afterAllHooks) await hook();
  return result;
}

/** Prints one line per case and the closing `N passed, N failed, N skipped` line. */
export function printResult(runtime: string, result: CaseResult): void {
  const mark = result.status === "passed" ? "✓" : result.status === "failed" ? "✗" : "-";
  console.log(`${mark} [${runtime}] ${result.name}${result.status === "skipped" ? " (skipped)" : ` ${result.ms}ms`}`);
  if (result.error) console.log(`    ${result.error.replace(/\n/g, "\n    ")}`);
}
