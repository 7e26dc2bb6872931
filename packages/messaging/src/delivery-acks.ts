/**
 * The deliveries of one channel not yet acknowledged, as delivered, and which of them are done.
 * RabbitMQ's `basic.ack` with `multiple` acknowledges every delivery up to a tag at once (one frame, one
 * settlement in the quorum queue's log, instead of one per message), but only the deliveries before the
 * first unfinished one may go: a later batch finishing first must not acknowledge an earlier one still in
 * its transaction.
 */
export class DeliveryAcks {
  private readonly outstanding: number[] = [];
  /** Finished deliveries not yet passed by the acknowledged prefix, and whether each was settled already. */
  private readonly done = new Map<number, boolean>();
  private head = 0;

  /** Records a delivery, in the sequence the channel delivered it. */
  delivered(tag: number): void {
    this.outstanding.push(tag);
  }

  /**
   * Marks a delivery done; returns the highest tag that may now be acknowledged with `multiple` (every
   * delivery up to it is done), or undefined when the oldest outstanding one is still being handled.
   * `settled` marks a delivery already given back to the broker (`basic.nack`): it lets the prefix move
   * past it, but is never itself the tag acknowledged, which the broker would refuse as unknown.
   */
  finished(tag: number, settled = false): number | undefined {
    this.done.set(tag, settled);
    let ackUpTo: number | undefined;
    while (this.head < this.outstanding.length) {
      const oldest = this.outstanding[this.head] as number;
      const wasSettled = this.done.get(oldest);
      if (wasSettled === undefined) break;
      this.done.delete(oldest);
      if (!wasSettled) ackUpTo = oldest;
      this.head += 1;
    }
    // Drop the acknowledged prefix now and then rather than shifting on every ack.
    if (this.head > 1024 && this.head * 2 > this.outstanding.length) {
      this.outstanding.splice(0, this.head);
      this.head = 0;
    }
    return ackUpTo;
  }

  /** Deliveries still outstanding. */
  get size(): number {
    return this.outstanding.length - this.head;
  }
}
