/** The orders a run placed, so the end of the run can close what is still open. */
export interface SimOrder {
  id: string;
  placedAt: number;
  done: boolean;
}

export class OrderBook {
  readonly #orders = new Map<string, SimOrder>();

  placed(id: string, at: number): void {
    this.#orders.set(id, { id, placedAt: at, done: false });
  }

  /** Marks an order finished; returns when it was placed (undefined for an order of another run). */
  finish(id: string): number | undefined {
    const order = this.#orders.get(id);
    if (!order) return undefined;
    order.done = true;
    return order.placedAt;
  }

  open(): SimOrder[] {
    return [...this.#orders.values()].filter((o) => !o.done);
  }
}
