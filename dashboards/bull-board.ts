import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Router } from 'express';
import { QUEUES } from '../runtime/queue-registry.ts';
import type { QueueSet } from '../runtime/queues.ts';

export const BULL_BOARD_PATH = '/admin/queues';

/** Bull Board over every registered queue, each shard of a sharded one on its own. Mount it behind the admin gate. */
export function bullBoardRouter(queues: QueueSet): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: queues.all().map(
      ({ id, label, queue }) => new BullMQAdapter(queue, { displayName: label, description: QUEUES[id].description }),
    ),
    serverAdapter,
    // The map links to the board; the board's menu links back.
    options: { uiConfig: { boardTitle: 'deligo queues', miscLinks: [{ text: 'Ops live map', url: '/admin/map' }] } },
  });
  return serverAdapter.getRouter() as Router;
}
