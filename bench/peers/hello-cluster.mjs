// The startup scenario's peer for master mode: bench/lib/hello-peer.mjs's node:http hello
// in 2 node:cluster workers under their primary, Node's own master and workers. Two Node
// starts come one after the other before the first response can, as under tsgi's master.
// The workers share the port the primary chose for their listen(0); each says it on
// stderr as tsgi does, and the scenario takes the first. SIGINT to the primary stops all.
import cluster from 'node:cluster';
import { createRequire } from 'node:module';
import { HELLO_PEER } from '../lib/hello-peer.mjs';

if (cluster.isPrimary) {
  for (let i = 0; i < 2; i++) cluster.fork();
  process.on('SIGINT', () => {
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGINT');
  });
} else {
  new Function('require', HELLO_PEER)(createRequire(import.meta.url));
}
