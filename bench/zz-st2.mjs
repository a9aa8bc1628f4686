import { spawn } from 'node:child_process';
import http from 'node:http';
const t0 = performance.now();
const c = spawn(process.execPath, [...process.argv.slice(2), 'bin/tsgi.js', '--http', '127.0.0.1:9377', '--wsgi-file', 'bench/apps/hello.mjs', '--disable-logging', '--master', '--processes', '2'], { stdio: ['ignore', 'inherit', 'pipe'] });
c.stderr.setEncoding('utf8');
c.stderr.on('data', (s) => { for (const l of s.split('\n')) if (l) console.log((performance.now() - t0).toFixed(1).padStart(7), l.slice(0, 110)); });
const poll = () => { const r = http.get('http://127.0.0.1:9377/', (res) => { res.resume(); res.on('end', () => { console.log((performance.now() - t0).toFixed(1).padStart(7), 'FIRST RESPONSE', res.statusCode); c.kill('SIGINT'); }); }); r.on('error', () => setTimeout(poll, 2)); };
poll();
