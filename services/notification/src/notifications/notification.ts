import type { SubscribedEvent, SubscribedType } from '@platform/contracts';

/** The events the customer hears about (SPEC §2); each is also the `kind` of its notification. */
export type NotificationKind = SubscribedType<'notification'>;

/** An event the customer is notified of, checked against its schema. */
export type NotifiableEvent = SubscribedEvent<'notification'>;

/** What a notification adds to its sentence, for operators and tests: only the keys the event carried. */
export interface NotificationDetails {
  reason?: string;
  amount?: number;
  total_amount?: number;
  product_name?: string;
  charge_id?: string;
  refund_id?: string;
}

/** What the customer is told about one event. */
export interface Notice {
  order_id: string;
  kind: NotificationKind;
  recipient: string;
  customer_fullname: string | null;
  message: string;
  details: NotificationDetails;
}
