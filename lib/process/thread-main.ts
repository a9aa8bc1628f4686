// A core of a worker run as a worker_thread (--threads): its own loop, native server
// and application instance, accepting on the same sockets as the worker's other cores.
import { parentPort, workerData } from 'node:worker_threads';
import { load, startCore, type FromCore, type ToCore, type WorkerSpec } from './worker.js';
import { freezeConfig } from '../config/typed.js';

const data = workerData as { spec: WorkerSpec; core: number };
// A structured clone of the worker's spec: its configuration frozen again, not made again.
const spec: WorkerSpec = { ...data.spec, config: freezeConfig(data.spec.config) };
const core = data.core;
const port = parentPort!;
const post = (m: FromCore) => port.postMessage(m);

const loaded = await load(spec.config);
if (typeof loaded === 'string') {
  post({ type: 'load-error', message: loaded });
} else {
  const backend = startCore(spec, core, loaded, () => post({ type: 'max-requests' }));
  port.on('message', (m: ToCore) => {
    if (m.type === 'stop') {
      void backend.close(m.last === true, m.upgradedMercyMs).then(() => {
        port.close();
        process.exit(0); // in a worker_thread, this ends the thread only
      });
    }
  });
  post({ type: 'ready' });
}
