import type { JobDefinition } from './job-definition.ts';
import { dispatchMatch } from './dispatch-match.ts';
import { dispatchOfferSweep } from './dispatch-offer-sweep.ts';
import { dispatchOfferTimeout } from './dispatch-offer-timeout.ts';
import { heartbeat } from './heartbeat.ts';
import { locationBatch } from './location-batch.ts';
import { locationPartitions } from './location-partitions.ts';
import { locationRollup } from './location-rollup.ts';
import { locationSweep } from './location-sweep.ts';
import { notificationReconcile } from './notification-reconcile.ts';
import { ordersArchiveRoute } from './orders-archive-route.ts';
import { ordersOutboxRelay } from './orders-outbox-relay.ts';
import { ordersRefreshEta } from './orders-refresh-eta.ts';
import { ordersReindexActive } from './orders-reindex-active.ts';
import { notificationSend } from './notification-send.ts';
import { giftSend } from './gift-send.ts';
import { giftSendBatch } from './gift-send-batch.ts';
import { giftsHousekeeping, giftsPrepare, giftsReconcile, giftsSettle } from './gifts-sweeps.ts';

import { groupOrderExpire } from './group-order-expire.ts';
import { groupOrderReconcile } from './group-order-reconcile.ts';

/** Every job type deligo runs. A worker refuses job names that are not listed here. */
export const JOBS: ReadonlyArray<JobDefinition<any>> = [heartbeat, notificationSend, notificationReconcile, locationBatch, locationSweep, locationPartitions, locationRollup, ordersOutboxRelay, dispatchMatch, dispatchOfferTimeout, dispatchOfferSweep, ordersArchiveRoute, ordersRefreshEta, giftSend, giftsReconcile, giftsSettle, giftsHousekeeping, groupOrderExpire, groupOrderReconcile, giftSendBatch, giftsPrepare, ordersReindexActive];
