/**
 * An ordered index for the memory store: a B+ tree of records in list order
 * (created_at, then client_id). Insert, delete and replace cost O(log n)
 * whatever the order records arrive in (imports insert out of order), and a
 * page after a position costs O(log n + page): leaves are linked in order.
 */
import type { ListPosition } from "../src/model/store.js";

/** Entries per node before it splits; a few cache lines of pointers. */
const MAX_ENTRIES = 64;
/** Below this a node borrows from or merges with a sibling. */
const MIN_ENTRIES = MAX_ENTRIES / 4;

/**
 * List order: created_at, then client_id, compared as strings.
 *
 * @example
 * ```ts
 * compareListOrder({ created_at: "2025", client_id: "a" }, { created_at: "2025", client_id: "b" }); // -1
 * ```
 */
export function compareListOrder(a: ListPosition, b: ListPosition): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  if (a.client_id === b.client_id) return 0;
  return a.client_id < b.client_id ? -1 : 1;
}

interface Leaf<T> {
  readonly leaf: true;
  items: T[];
  next: Leaf<T> | null;
}

interface Branch<T> {
  readonly leaf: false;
  children: Node<T>[];
  /** `bounds[i]` is at most the smallest key of `children[i + 1]` and above every key of `children[i]`. */
  bounds: ListPosition[];
}

type Node<T> = Leaf<T> | Branch<T>;

const positionOf = (item: ListPosition): ListPosition => ({ created_at: item.created_at, client_id: item.client_id });

/** Number of entries in `items` at or before `position` (the index of the first one after it). */
function upperBound(items: readonly ListPosition[], position: ListPosition): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareListOrder(items[mid]!, position) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Where the entry at `position` sits in a leaf, or -1. `position` is usually
 * the stored item itself: comparing references first touches no record and
 * no string, where a binary search reads both keys of every entry it visits
 * (cache misses that dominate once the store is large).
 */
function indexIn(items: readonly ListPosition[], position: ListPosition): number {
  const at = items.indexOf(position);
  if (at >= 0) return at;
  const candidate = upperBound(items, position) - 1;
  return candidate >= 0 && compareListOrder(items[candidate]!, position) === 0 ? candidate : -1;
}

const sizeOf = <T>(node: Node<T>): number => (node.leaf ? node.items.length : node.children.length);

/**
 * Items kept in list order by their (created_at, client_id) position, which
 * must be unique.
 *
 * @example
 * ```ts
 * const index = new OrderedIndex<StoredClient>();
 * index.insert(record);
 * index.page({ created_at: "2025-01-01T00:00:00.000Z", client_id: "x" }, 50); // up to 50 records after that position
 * ```
 */
export class OrderedIndex<T extends ListPosition> {
  #root: Node<T> = { leaf: true, items: [], next: null };
  #size = 0;

  /** Number of items. */
  get size(): number {
    return this.#size;
  }

  /** Adds an item; its position must not be in the index yet. */
  insert(item: T): void {
    const split = this.#insert(this.#root, item);
    if (split) this.#root = { leaf: false, children: [this.#root, split.node], bounds: [split.bound] };
    this.#size++;
  }

  /** Removes the item at `position`; false if there is none. */
  delete(position: ListPosition): boolean {
    if (!this.#delete(this.#root, position)) return false;
    const root = this.#root;
    if (!root.leaf && root.children.length === 1) this.#root = root.children[0]!;
    this.#size--;
    return true;
  }

  /**
   * Replaces the item at the same position as `item` (found faster when
   * `current`, the item stored there, is given); false if there is none.
   */
  replace(item: T, current: ListPosition = item): boolean {
    let node = this.#root;
    while (!node.leaf) node = node.children[upperBound(node.bounds, item)]!;
    const at = indexIn(node.items, current);
    if (at < 0) return false;
    node.items[at] = item;
    return true;
  }

  /** Up to `limit` items in order, strictly after `after` (from the start without it). */
  page(after: ListPosition | null | undefined, limit: number): T[] {
    let leaf: Node<T> = this.#root;
    if (after) {
      while (!leaf.leaf) leaf = leaf.children[upperBound(leaf.bounds, after)]!;
    } else {
      while (!leaf.leaf) leaf = leaf.children[0]!;
    }
    const out: T[] = [];
    let at = after ? upperBound(leaf.items, after) : 0;
    for (let current: Leaf<T> | null = leaf; current && out.length < limit; current = current.next, at = 0) {
      const items = current.items;
      while (at < items.length && out.length < limit) out.push(items[at++]!);
    }
    return out;
  }

  /** Inserts below `node`; returns the new right sibling when `node` split. */
  #insert(node: Node<T>, item: T): { node: Node<T>; bound: ListPosition } | null {
    if (node.leaf) {
      node.items.splice(upperBound(node.items, item), 0, item);
      if (node.items.length <= MAX_ENTRIES) return null;
      const right: Leaf<T> = { leaf: true, items: node.items.splice(MAX_ENTRIES / 2), next: node.next };
      node.next = right;
      return { node: right, bound: positionOf(right.items[0]!) };
    }
    const at = upperBound(node.bounds, item);
    const split = this.#insert(node.children[at]!, item);
    if (!split) return null;
    node.children.splice(at + 1, 0, split.node);
    node.bounds.splice(at, 0, split.bound);
    if (node.children.length <= MAX_ENTRIES) return null;
    const middle = MAX_ENTRIES / 2;
    const right: Branch<T> = { leaf: false, children: node.children.splice(middle), bounds: node.bounds.splice(middle) };
    return { node: right, bound: node.bounds.pop()! };
  }

  #delete(node: Node<T>, position: ListPosition): boolean {
    if (node.leaf) {
      const at = indexIn(node.items, position);
      if (at < 0) return false;
      node.items.splice(at, 1);
      return true;
    }
    const at = upperBound(node.bounds, position);
    const child = node.children[at]!;
    if (!this.#delete(child, position)) return false;
    if (sizeOf(child) < MIN_ENTRIES) this.#rebalance(node, at);
    return true;
  }

  /** Refills the underfull `parent.children[at]` from a sibling, or merges the two. */
  #rebalance(parent: Branch<T>, at: number): void {
    const left = at > 0 ? at - 1 : at;
    const a = parent.children[left]!;
    const b = parent.children[left + 1];
    if (!b) return; // an only child: the root collapses onto it
    if (sizeOf(a) + sizeOf(b) <= MAX_ENTRIES) {
      if (a.leaf && b.leaf) {
        a.items.push(...b.items);
        a.next = b.next;
      } else if (!a.leaf && !b.leaf) {
        a.bounds.push(parent.bounds[left]!, ...b.bounds);
        a.children.push(...b.children);
      }
      parent.children.splice(left + 1, 1);
      parent.bounds.splice(left, 1);
      return;
    }
    // The sibling has entries to spare: move one across the bound between them.
    if (a.leaf && b.leaf) {
      if (at === left) a.items.push(b.items.shift()!);
      else b.items.unshift(a.items.pop()!);
      parent.bounds[left] = positionOf(b.items[0]!);
    } else if (!a.leaf && !b.leaf) {
      if (at === left) {
        a.children.push(b.children.shift()!);
        a.bounds.push(parent.bounds[left]!);
        parent.bounds[left] = b.bounds.shift()!;
      } else {
        b.children.unshift(a.children.pop()!);
        b.bounds.unshift(parent.bounds[left]!);
        parent.bounds[left] = a.bounds.pop()!;
      }
    }
  }
}
