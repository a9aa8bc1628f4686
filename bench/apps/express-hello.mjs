// bench/frameworks-node.mjs: an Express 5 hello world (GET / -> "Hello, World!\n",
// text/plain). build() for its usual server (bench/peers/frameworks-node.mjs),
// application for tsgi (the node interface).
import express from 'express';
import { fromNodeListener } from '../../dist/lib/index.js';

export function build() {
  const app = express();
  app.get('/', (req, res) => {
    res.type('text/plain').send('Hello, World!\n');
  });
  return app;
}

export const application = fromNodeListener(build());
