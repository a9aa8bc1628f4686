// The frameworks scenario: Hono's hello world, as its users write it. tsgi serves it
// with --wsgi-file (interface auto: fetch); bench/peers/hono-node-server.mjs serves the
// same module on @hono/node-server.
import { Hono } from 'hono';

const app = new Hono();
app.get('/', (c) => c.text('Hello, World!\n'));

export default app;
