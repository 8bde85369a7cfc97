/**
 * Heap bytes per stored client: the memory store holding `--clients`
 * records against a plain Map holding the same records. Run in its own
 * process with --expose-gc (main.ts spawns it), so that collections can be
 * forced and nothing else lives on the heap; prints one JSON line.
 */
import { parseArgs } from "node:util";
import { createMemoryStore } from "../adapters/memory.js";
import type { StoredClient } from "../src/model/store.js";
import { makePopulation } from "./population.js";

/** What this script prints. */
export interface FootprintResult {
  clients: number;
  memoryStoreBytesPerClient: number;
  plainMapBytesPerClient: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

function settledHeap(): number {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage().heapUsed;
}

/** Fresh records, each with strings of its own, as if decoded from requests. */
function freshRecords(clients: number): StoredClient[] {
  return makePopulation(clients).records.map((r) => JSON.parse(JSON.stringify(r)) as StoredClient);
}

const { values } = parseArgs({ options: { clients: { type: "string", default: "100000" } } });
const clients = Number(values.clients);

let before = settledHeap();
let store: ReturnType<typeof createMemoryStore> | null = createMemoryStore();
let records: StoredClient[] | null = freshRecords(clients);
for (const record of records) await store.insert(record);
records = null;
const storeBytes = settledHeap() - before;
if ((await store.getById("missing")) !== null) throw new Error("unexpected client");
store = null;

before = settledHeap();
let map: Map<string, StoredClient> | null = new Map();
records = freshRecords(clients);
for (const record of records) map.set(record.client_id, record);
records = null;
const mapBytes = settledHeap() - before;
if (map.size !== clients) throw new Error("lost records");
map = null;

const result: FootprintResult = {
  clients,
  memoryStoreBytesPerClient: Math.round(storeBytes / clients),
  plainMapBytesPerClient: Math.round(mapBytes / clients),
};
console.log(JSON.stringify(result));
