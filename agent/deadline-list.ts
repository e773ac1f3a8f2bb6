/** An element of a DeadlineList: the list links its nodes through these fields (no wrapper objects). */
export interface DeadlineNode {
  prev: DeadlineNode | null;
  next: DeadlineNode | null;
  /** performance.now() time at which the node expires. */
  deadlineMs: number;
  /** Called once when the deadline passes; the node is already out of the list. */
  expire(nowMs: number): void;
}

/**
 * The requests in flight, in send order, with their timeout. Every request
 * of an assignment has the same timeout, so deadlines grow along the list and
 * only the head can be due: one timer serves all requests, and adding or
 * removing a request is O(1) with no timer work per request.
 */
export class DeadlineList {
  private head: DeadlineNode | null = null;
  private tail: DeadlineNode | null = null;
  private count = 0;
  private timer: NodeJS.Timeout | null = null;

  get size(): number {
    return this.count;
  }

  /** Appends a node; its deadline must not be earlier than the tail's. */
  push(node: DeadlineNode): void {
    node.prev = this.tail;
    node.next = null;
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.count++;
    if (!this.timer) this.arm(performance.now());
  }

  remove(node: DeadlineNode): void {
    if (node.prev) node.prev.next = node.next;
    else if (this.head === node) this.head = node.next;
    else return; // not in the list
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = null;
    node.next = null;
    this.count--;
    // The timer is left as it is: when it fires early it just re-arms for the new head.
  }

  /** Removes every node, oldest first, handing each to `visit`; no node expires. */
  drain(visit: (node: DeadlineNode) => void): void {
    this.stopTimer();
    while (this.head) {
      const node = this.head;
      this.remove(node);
      visit(node);
    }
  }

  stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(nowMs: number): void {
    if (!this.head) return;
    // setTimeout has whole-ms resolution and may fire a fraction early: onTimer re-arms if so.
    this.timer = setTimeout(() => this.onTimer(), Math.max(1, Math.ceil(this.head.deadlineMs - nowMs)));
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = null;
    const nowMs = performance.now();
    while (this.head && this.head.deadlineMs <= nowMs) {
      const node = this.head;
      this.remove(node);
      node.expire(nowMs);
    }
    if (!this.timer) this.arm(nowMs);
  }
}
