// The entry point of a worker process spawned by the master (lib/process/master-workers.ts).
import { runWorker, type WorkerSpec } from './worker.js';
import { freezeConfig } from '../config/typed.js';
import { forgetGivenCache } from './compile-cache.js';

const spec = JSON.parse(process.env.TSGI_WORKER ?? 'null') as WorkerSpec | null;
if (spec === null) {
  process.stderr.write('tsgi: worker-main is started by the master, with TSGI_WORKER set\n');
  process.exit(1);
}
delete process.env.TSGI_WORKER;
forgetGivenCache();
runWorker({ ...spec, config: freezeConfig(spec.config) }).catch((err: unknown) => {
  process.stderr.write(`tsgi: worker ${spec.id}: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
