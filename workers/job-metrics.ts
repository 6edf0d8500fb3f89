import client from 'prom-client';

/** How long handlers take, by queue, job and outcome. Lives in the default registry. */
export const jobDuration = new client.Histogram({
  name: 'deligo_job_duration_seconds',
  help: 'Job handler duration by queue, job name and outcome',
  labelNames: ['queue', 'job', 'outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});
