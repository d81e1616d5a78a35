/** A list that counts every item but keeps only the first few, so a report stays small however many there are. */
export class BoundedList<T> {
  /** The first `max` items added. */
  readonly kept: T[] = [];
  /** How many items were added in all. */
  count = 0;

  constructor(private readonly max: number) {}

  /** Counts `item` and keeps it while fewer than `max` are kept. */
  add(item: T): void {
    this.count += 1;
    if (this.kept.length < this.max) this.kept.push(item);
  }
}
