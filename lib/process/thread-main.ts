// A core of a worker run as a worker_thread (--threads): its own loop, native server
// and application instance, accepting on the same sockets as the worker's other cores.
import { parentPort, workerData } from 'node:worker_threads';
import { load, startCore, type FromCore, type ToCore, type WorkerSpec } from './worker.js';

const { spec, core } = workerData as { spec: WorkerSpec; core: number };
const port = parentPort!;
const post = (m: FromCore) => port.postMessage(m);

const loaded = await load(spec.values);
if (typeof loaded === 'string') {
  post({ type: 'load-error', message: loaded });
} else {
  const backend = startCore(spec, core, loaded, () => post({ type: 'max-requests' }));
  port.on('message', (m: ToCore) => {
    if (m.type === 'stop') {
      void backend.close(m.last === true).then(() => {
        port.close();
        process.exit(0); // in a worker_thread, this ends the thread only
      });
    }
  });
  post({ type: 'ready' });
}
