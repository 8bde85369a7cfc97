/**
 * The load generator of the HTTP rows, run as a child process so that the
 * server under test has the event loop to itself. Told over IPC what to
 * send, it sends that many requests over keep-alive connections, with a
 * fixed number in flight, checks every status, and answers when done.
 */
import { Agent, request } from "node:http";

/** One batch the parent asks for. */
export interface HttpBatch {
  port: number;
  method: "GET" | "POST";
  /** Paths to request, used round-robin. */
  paths: string[];
  body?: string;
  /** Sent as `Authorization: Bearer <token>`; no Authorization header without one. */
  token?: string;
  /** The status every answer must have; default 200. */
  status?: number;
  requests: number;
  concurrency: number;
}

/** The answer to a batch. */
export interface HttpBatchResult {
  failures: string[];
}

const agents = new Map<number, Agent>();

function send(batch: HttpBatch, path: string): Promise<string | null> {
  let agent = agents.get(batch.port);
  if (!agent) agents.set(batch.port, (agent = new Agent({ keepAlive: true, maxSockets: batch.concurrency })));
  return new Promise((resolve) => {
    const headers: Record<string, string> = batch.token === undefined ? {} : { authorization: `Bearer ${batch.token}` };
    if (batch.body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(batch.body));
    }
    const req = request({ host: "127.0.0.1", port: batch.port, method: batch.method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve(res.statusCode === (batch.status ?? 200) && text.startsWith("{") ? null : `${res.statusCode}: ${text.slice(0, 200)}`);
      });
    });
    req.on("error", (error) => resolve(String(error)));
    req.end(batch.body);
  });
}

async function run(batch: HttpBatch): Promise<HttpBatchResult> {
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < batch.requests) {
      const path = batch.paths[next++ % batch.paths.length]!;
      const failure = await send(batch, path);
      if (failure !== null && failures.length < 3) failures.push(failure);
    }
  };
  await Promise.all(Array.from({ length: batch.concurrency }, worker));
  return { failures };
}

process.on("message", (message: HttpBatch | "exit") => {
  if (message === "exit") {
    for (const agent of agents.values()) agent.destroy();
    process.disconnect();
    return;
  }
  void run(message).then((result) => process.send!(result));
});
