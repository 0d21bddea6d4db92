// Holds the worker between two moments of a test: while held, claim() hands out nothing, so every
// event posted meanwhile waits in the store and the next claim takes them all at once (one batch),
// whatever the machine's speed. The SQLite store decides synchronously, so no claim straddles hold().
import type { ClaimOptions } from '../../src/store/types.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';

export class HeldClaimsStore extends SqliteStore {
  held = false;
  override async claim(o: ClaimOptions) {
    return this.held ? [] : super.claim(o);
  }
}
