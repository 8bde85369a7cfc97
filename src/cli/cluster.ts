/**
 * `serve --workers N|auto`: N worker processes (node:cluster) serve one
 * port, each with its own connection to the one database (a SQLite file in
 * WAL mode, or PostgreSQL). The primary process serves nothing itself: it
 * starts the workers, replaces one that dies (and logs it), forwards SIGHUP
 * (credentials reload) and, on SIGTERM or SIGINT, has every worker drain
 * its requests and exit before it exits.
 *
 * Everything a worker decides is decided by the database (compare-and-swap
 * writes, shared single-use state when the store offers it), so N workers
 * behave as N instances on one database. `/healthz` and `/readyz` answer
 * for the worker that takes the connection (per process); `/metrics`
 * answers for all of them: the worker asks the primary, which gathers every
 * live worker's metrics and sums them.
 */
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from "prom-client";
import { generateSecret } from "../model/secrets.js";
import type { ServeOptions } from "./args.js";
import { messageOf, StartupError } from "./errors.js";
import type { ServeMetrics } from "./metrics.js";
import { closeOnSignal, serve, type CliOutput } from "./serve.js";

/** What a worker tells the primary. */
type WorkerMessage =
  | { type: "listening"; lines: string[] }
  | { type: "failed"; message: string }
  /** A scrape of `/metrics` arrived: the primary gathers every worker's metrics. */
  | { type: "metrics-scrape"; id: number }
  /** This worker's metrics, for a gathering. */
  | { type: "metrics-json"; id: number; json: WorkerMetrics };
/** What the primary tells a worker. */
type PrimaryMessage =
  | { type: "stop" }
  /** Send your metrics for gathering `id`. */
  | { type: "metrics-collect"; id: number }
  /** The summed metrics for scrape `id`. */
  | { type: "metrics-text"; id: number; text: string };

/** One worker's metrics, as `getMetricsAsJSON` gives them. */
type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

/** How long the primary waits for the workers' metrics before answering with those it has. */
const METRICS_GATHER_MS = 2_000;

/** Deaths within this window count towards the replacement backoff. */
const DEATH_WINDOW_MS = 60_000;
/** Longest wait before a replacement starts, when workers keep dying. */
const MAX_REPLACEMENT_DELAY_MS = 5_000;
/** How long the primary waits for draining workers before it kills them. */
const DRAIN_DEADLINE_MS = 15_000;

/**
 * Runs `serve` as the primary of `options.workers` processes, or as one of
 * its workers when this process is one. Resolves with the exit code: 0 once
 * every worker has drained and exited after SIGTERM / SIGINT, 1 when the
 * workers could not start.
 *
 * @example
 * ```ts
 * const options = { host: "127.0.0.1", port: 8787, db: "./oauth-clients.sqlite", databaseUrl: null, scopeCatalog: null, workers: 2 };
 * const code = await serveWithWorkers(["serve", "--workers", "2"], options, process.env, { out: console.log, err: console.error });
 * process.exit(code);
 * ```
 */
export function serveWithWorkers(
  argv: readonly string[],
  options: ServeOptions,
  env: Readonly<Record<string, string | undefined>>,
  output: CliOutput,
  script: string = process.argv[1] ?? "",
): Promise<number> {
  return cluster.isWorker ? runWorker(options, env, output) : runPrimary(argv, options, env, output, script);
}

/** A worker: serves like a single process, but reports its start-up lines to the primary instead of printing them. */
async function runWorker(options: ServeOptions, env: Readonly<Record<string, string | undefined>>, output: CliOutput): Promise<number> {
  const startup: string[] = [];
  let started = false;
  const workerOutput: CliOutput = {
    out: (line) => (started ? output.out(line) : startup.push(line)),
    err: (line) => output.err(line),
  };
  let running;
  try {
    running = await serve(options, env, workerOutput, { metrics: aggregateThroughPrimary });
  } catch (error) {
    send({ type: "failed", message: error instanceof StartupError ? error.message : messageOf(error) });
    return 1;
  }
  started = true;
  // A signal may reach the worker itself (Ctrl-C signals the whole process group) as well as the
  // primary's stop request: the second must not count as "signalled twice, exit at once".
  let stopping = false;
  const signalled = () => void (stopping = true);
  process.once("SIGINT", signalled);
  process.once("SIGTERM", signalled);
  const stop = () => {
    if (!stopping) process.kill(process.pid, "SIGTERM");
  };
  // The primary asks, or is gone (killed, say): drain and exit, as on SIGTERM.
  process.on("message", (message: PrimaryMessage) => {
    if (message.type === "stop") stop();
  });
  process.once("disconnect", stop);
  send({ type: "listening", lines: startup });
  return closeOnSignal(running, { out: () => {}, err: output.err });
}

function send(message: WorkerMessage): void {
  process.send?.(message);
}

/**
 * Makes this worker's `/metrics` answer with the sum over every worker: a
 * scrape goes to the primary, which asks each worker for its metrics
 * (answered here from the local registry) and sends back their sum. Without
 * an answer in time, the worker's own metrics are served.
 */
function aggregateThroughPrimary(metrics: ServeMetrics): void {
  const registry = metrics.registry;
  const local = registry.metrics.bind(registry);
  const waiting = new Map<number, (text: string) => void>();
  let next = 0;
  process.on("message", (message: PrimaryMessage) => {
    if (message.type === "metrics-collect") {
      void registry.getMetricsAsJSON().then((json) => send({ type: "metrics-json", id: message.id, json }));
    } else if (message.type === "metrics-text") {
      waiting.get(message.id)?.(message.text);
      waiting.delete(message.id);
    }
  });
  registry.metrics = () => {
    if (!process.connected) return local();
    const id = next++;
    return new Promise<string>((resolveText) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        void local().then(resolveText);
      }, METRICS_GATHER_MS * 2);
      timer.unref();
      waiting.set(id, (text) => {
        clearTimeout(timer);
        resolveText(text);
      });
      send({ type: "metrics-scrape", id });
    });
  };
}

/** The primary: forks, waits for every worker to listen, replaces the dead, drains all on a signal. */
function runPrimary(
  argv: readonly string[],
  options: ServeOptions,
  env: Readonly<Record<string, string | undefined>>,
  output: CliOutput,
  script: string,
): Promise<number> {
  const count = options.workers ?? 1;
  const workerEnv: Record<string, string> = {};
  // One token for every worker: each would otherwise generate its own.
  if (!env.OAUTH_REGISTRY_API_TOKEN && !env.OAUTH_REGISTRY_API_KEY && (options.credentials ?? null) === null) {
    const token = generateSecret();
    output.out(`API token (generated for this run; set OAUTH_REGISTRY_API_TOKEN to keep one): ${token}`);
    workerEnv.OAUTH_REGISTRY_API_TOKEN = token;
  }
  cluster.setupPrimary({ exec: script, args: [...argv] });

  return new Promise<number>((resolveExit) => {
    const live = new Set<Worker>();
    const deaths: number[] = [];
    let stopping = false;
    let startingUp = true;
    let listening = 0;
    let failed = false;

    const fork = (): Worker => {
      const worker = cluster.fork(workerEnv);
      live.add(worker);
      worker.on("message", (message: WorkerMessage) => {
        if (message.type === "metrics-scrape") return gatherMetrics(worker, message.id);
        if (message.type === "metrics-json") return gatherings.get(message.id)?.add(worker, message.json);
        if (message.type === "failed") {
          output.err(`error: worker ${worker.process.pid}: ${message.message}`);
          if (startingUp) stopAll(true);
          return;
        }
        if (startingUp) {
          if (++listening === 1) for (const line of message.lines) output.out(line);
          if (listening === count) {
            startingUp = false;
            output.out(`serving with ${count} worker processes (pids ${[...live].map((w) => w.process.pid).join(", ")}); primary pid ${process.pid}`);
          }
        } else {
          output.out(`worker ${worker.process.pid} started and listening`);
        }
      });
      worker.on("exit", (code, signal) => {
        live.delete(worker);
        if (stopping) {
          if (code !== 0) failed = true;
          if (live.size === 0) finish();
          return;
        }
        const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
        if (startingUp) {
          output.err(`error: worker ${worker.process.pid} ${how} while starting`);
          stopAll(true);
          return;
        }
        const now = Date.now();
        deaths.push(now);
        while (deaths.length > 0 && deaths[0]! < now - DEATH_WINDOW_MS) deaths.shift();
        // Immediately for an odd death; backing off when they keep coming (a crash loop must not spin the CPU).
        const delay = deaths.length <= 1 ? 0 : Math.min(MAX_REPLACEMENT_DELAY_MS, 100 * 2 ** (deaths.length - 1));
        output.err(`worker ${worker.process.pid} ${how}; starting a replacement${delay > 0 ? ` in ${delay} ms` : ""}`);
        setTimeout(() => {
          if (!stopping) fork();
        }, delay).unref();
      });
      return worker;
    };

    // Scrapes being gathered, by id: the answers so far, and the function that adds one.
    const gatherings = new Map<number, { add(worker: Worker, json: WorkerMetrics): void }>();
    let gatheringId = 0;
    const gatherMetrics = (asker: Worker, scrape: number) => {
      const id = gatheringId++;
      const asked = [...live].filter((w) => w.isConnected());
      const answers = new Map<Worker, WorkerMetrics>();
      const answer = () => {
        if (!gatherings.delete(id)) return;
        clearTimeout(timer);
        const text = AggregatorRegistry.aggregate([...answers.values()]).metrics();
        void Promise.resolve(text).then((summed) => {
          if (asker.isConnected()) asker.send({ type: "metrics-text", id: scrape, text: summed } satisfies PrimaryMessage);
        });
      };
      // A worker that does not answer in time (busy, dying) is left out of this scrape.
      const timer = setTimeout(answer, METRICS_GATHER_MS);
      timer.unref();
      gatherings.set(id, {
        add(worker, json) {
          answers.set(worker, json);
          if (answers.size === asked.length) answer();
        },
      });
      for (const worker of asked) worker.send({ type: "metrics-collect", id } satisfies PrimaryMessage);
    };

    let deadline: NodeJS.Timeout | undefined;
    const stopAll = (failure: boolean) => {
      if (failure) failed = true;
      if (stopping) return;
      stopping = true;
      if (live.size === 0) return finish();
      for (const worker of live) {
        if (worker.isConnected()) worker.send({ type: "stop" } satisfies PrimaryMessage);
        else worker.process.kill("SIGTERM");
      }
      deadline = setTimeout(() => {
        output.err(`workers still running after ${DRAIN_DEADLINE_MS} ms: killing them`);
        failed = true;
        for (const worker of live) worker.process.kill("SIGKILL");
      }, DRAIN_DEADLINE_MS);
      deadline.unref();
    };
    const finish = () => {
      clearTimeout(deadline);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      process.off("SIGHUP", onHangup);
      resolveExit(failed ? 1 : 0);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second signal while draining: stop waiting.
        for (const worker of live) worker.process.kill("SIGKILL");
        return;
      }
      output.out(`${signal} received, draining ${live.size} workers`);
      stopAll(false);
    };
    const onHangup = () => {
      for (const worker of live) worker.process.kill("SIGHUP");
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    process.on("SIGHUP", onHangup);
    for (let i = 0; i < count; i++) fork();
  });
}
