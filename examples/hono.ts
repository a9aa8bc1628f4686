// Hono, unchanged, on tsgi: tsgi --http :9090 --wsgi-file examples/hono.ts
// (--interface auto sees the fetch method of the default export; docs/frameworks.md).
import { Hono } from 'hono';

const app = new Hono();
app.get('/', (c) => c.text('Hello Hono!\n'));
app.get('/hello/:name', (c) => c.json({ hello: c.req.param('name') }));

export default app;
