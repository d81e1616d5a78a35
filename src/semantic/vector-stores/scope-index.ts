/**
 * Which table slots belong to each agent, conversation and kind, so a scoped query visits only
 * its own rows instead of testing the scope of every record.
 */
import type { PreparedFilter } from './validation.js';

/** A record's scope, as indexed. */
export interface Scope {
  kind: string;
  agentId: string | null;
  conversationId: string | null;
}

function add(index: Map<string, Set<number>>, key: string | null, slot: number): void {
  if (key === null) return;
  let slots = index.get(key);
  if (slots === undefined) {
    slots = new Set();
    index.set(key, slots);
  }
  slots.add(slot);
}

function remove(index: Map<string, Set<number>>, key: string | null, slot: number): void {
  if (key === null) return;
  const slots = index.get(key);
  if (slots === undefined) return;
  slots.delete(slot);
  // Dropped when empty, so ids that come and go do not pile up.
  if (slots.size === 0) index.delete(key);
}

/** Slot sets per agent, conversation and kind. */
export class ScopeIndex {
  readonly #agents = new Map<string, Set<number>>();
  readonly #conversations = new Map<string, Set<number>>();
  readonly #kinds = new Map<string, Set<number>>();

  /** Records that `slot` holds a record of `scope`. */
  add(slot: number, scope: Scope): void {
    add(this.#agents, scope.agentId, slot);
    add(this.#conversations, scope.conversationId, slot);
    add(this.#kinds, scope.kind, slot);
  }

  /** Forgets that `slot` holds a record of `scope`. */
  remove(slot: number, scope: Scope): void {
    remove(this.#agents, scope.agentId, slot);
    remove(this.#conversations, scope.conversationId, slot);
    remove(this.#kinds, scope.kind, slot);
  }

  /**
   * The smallest set of slots that holds every record matching `filter` (each still to be
   * checked against the whole filter), or `null` when the filter has no scope field.
   */
  candidates(filter: PreparedFilter): Iterable<number>[] | null {
    const options: Iterable<number>[][] = [];
    const sizes: number[] = [];
    if (filter.agentId !== null) {
      const slots = this.#agents.get(filter.agentId);
      if (slots === undefined) return [];
      options.push([slots]);
      sizes.push(slots.size);
    }
    if (filter.conversationId !== null) {
      const slots = this.#conversations.get(filter.conversationId);
      if (slots === undefined) return [];
      options.push([slots]);
      sizes.push(slots.size);
    }
    if (filter.kinds !== null) {
      // A record has one kind, so the kinds' sets are disjoint and their union is their sum.
      const sets = filter.kinds.flatMap((kind) => this.#kinds.get(kind) ?? []);
      options.push(sets);
      sizes.push(sets.reduce((sum, slots) => sum + slots.size, 0));
    }
    if (options.length === 0) return null;
    return options[sizes.indexOf(Math.min(...sizes))] as Iterable<number>[];
  }
}
