import type { Job, JobsOptions } from 'bullmq';
import type { QueueSet } from '../runtime/queues.ts';
import type { JobDefinition } from './job-definition.ts';

/**
 * Adds one job after checking its payload against the job's own schema, so a producer bug
 * fails where it happens rather than later inside a worker.
 */
export async function enqueue<P>(queues: QueueSet, job: JobDefinition<P>, payload: P, options?: JobsOptions): Promise<Job> {
  if (typeof job.queue !== 'string') throw new Error(`${job.name} runs on several queues; add it to the one you mean`);
  const data = job.payload.parse(payload);
  return queues.get(job.queue).add(job.name, data, { ...job.options, ...options });
}
