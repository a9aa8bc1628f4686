// The frameworks scenario: Express 5's hello world (GET / -> "Hello, World!\n",
// text/plain), as its users write it. tsgi serves the default export with --wsgi-file
// (interface auto: node, an Express application); bench/peers/frameworks-node.mjs serves
// the same module on http.createServer(app).
import express from 'express';

const app = express();
app.get('/', (req, res) => {
  res.type('text/plain').send('Hello, World!\n');
});

export default app;
