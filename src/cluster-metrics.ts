// /metrics of a cluster (WORKERS > 1) reports the whole process group, whichever worker answers: the
// worker asks the primary over IPC, the primary collects every worker's registry (as JSON) and sums
// them with prom-client's aggregation (counters and histograms add up; per-process gauges follow
// each metric's own rule), and hands the text back.
import cluster from 'node:cluster';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';

const ASK = 'gatehouse:metrics:ask'; // worker → primary
const COLLECT = 'gatehouse:metrics:collect'; // primary → every worker
const COLLECTED = 'gatehouse:metrics:collected'; // worker → primary
const ANSWER = 'gatehouse:metrics:answer'; // primary → the asking worker

type Json = MetricObjectWithValues<MetricValue<string>>[];
type Message =
  | { type: typeof ASK; id: number }
  | { type: typeof COLLECT; id: number }
  | { type: typeof COLLECTED; id: number; metrics: Json }
  | { type: typeof ANSWER; id: number; text?: string; error?: string };

const isMessage = (m: unknown): m is Message =>
  typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('gatehouse:metrics:');

/** A worker that has not answered by then is left out of the sum. */
const COLLECT_TIMEOUT_MS = 2_000;

/** In the primary: answers workers' requests for the group's metrics. */
export function serveClusterMetrics(): void {
  let next = 0;
  const pending = new Map<number, { responses: Json[]; waiting: number; finish: () => void }>();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === COLLECTED) {
      const request = pending.get(message.id);
      if (!request) return;
      request.responses.push(message.metrics);
      if (--request.waiting === 0) request.finish();
      return;
    }
    if (message.type !== ASK) return;
    const id = next++;
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected());
    const responses: Json[] = [];
    const finish = () => {
      clearTimeout(timer);
      pending.delete(id);
      const reply = (answer: Message) => {
        if (worker.isConnected()) worker.send(answer);
      };
      AggregatorRegistry.aggregate(responses)
        .metrics()
        .then(
          (text) => reply({ type: ANSWER, id: message.id, text }),
          (e: unknown) => reply({ type: ANSWER, id: message.id, error: String(e) }),
        );
    };
    const timer = setTimeout(finish, COLLECT_TIMEOUT_MS);
    pending.set(id, { responses, waiting: workers.length, finish });
    for (const w of workers) w?.send({ type: COLLECT, id } satisfies Message);
  });
}

/**
 * In a worker: answers the primary's collection with `registry`, and returns the function /metrics
 * calls to get the whole group's text.
 */
export function clusterMetricsSource(registry: Registry): { contentType: string; metrics(): Promise<string> } {
  let next = 0;
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (e: Error) => void }>();
  process.on('message', (message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === COLLECT) {
      registry.getMetricsAsJSON().then((metrics) => process.send?.({ type: COLLECTED, id: message.id, metrics } satisfies Message), () => undefined);
    } else if (message.type === ANSWER) {
      const request = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.text !== undefined) request?.resolve(message.text);
      else request?.reject(new Error(message.error ?? 'the primary sent no metrics'));
    }
  });
  return {
    contentType: registry.contentType,
    metrics: () =>
      new Promise<string>((resolve, reject) => {
        const id = next++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error('the cluster primary did not answer with the metrics in time'));
        }, COLLECT_TIMEOUT_MS * 2);
        waiting.set(id, {
          resolve: (text) => {
            clearTimeout(timer);
            resolve(text);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        process.send?.({ type: ASK, id } satisfies Message);
      }),
  };
}
