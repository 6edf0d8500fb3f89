/**
 * The V8 flags every deligo process runs with. The Dockerfile's `NODE_OPTIONS`, the npm scripts
 * that start the platform and the processes the benches start carry the same ones
 * (tests/deploy-settings.test.ts keeps them in step).
 *
 * `--max-semi-space-size=64`: a young generation four times Node 20's default (16 MB semi-spaces).
 * The API and the workers allocate each request's and each job's short-lived objects by megabytes
 * a second, nearly all dead by the next scavenge; with room for four times as many, a scavenge comes
 * a quarter as often and copies about as few survivors. In bench/dispatch's CPU profiles garbage
 * collection fell from 9.1 to 5.6 % of the worker's samples and from 7.0 to 5.1 % of the API's,
 * for about 100 MB more resident memory each (docs/benchmarks.md, fourteenth round).
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
