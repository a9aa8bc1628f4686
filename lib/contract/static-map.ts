// --static-map MOUNT=DIR (and --static-index NAME), as uWSGI has them: a GET or HEAD whose
// PATH_INFO is under MOUNT is answered with the file of the same relative path under DIR,
// when there is one; anything else (no such file, a directory without an index, another
// method) goes to the application, as in uWSGI. A path that leaves DIR (a ".." segment,
// a symbolic link pointing out of it) is never served. The answer has Content-Type (from
// the extension), Content-Length and Last-Modified, and If-Modified-Since gets a 304.
//
// It wraps the application, so both backends and every process mode serve the same way;
// the file goes out through wsgi.file_wrapper, block by block, closed however the
// response ends.
import { closeSync, constants, fstatSync, openSync, realpathSync, statSync, type Stats } from 'node:fs';
import { extname } from 'node:path';
import { TsgiError } from '../base/errors.js';
import { FileWrapper } from './file-wrapper.js';
import type { Config } from '../config/typed.js';
import type { Application, Environ, StartResponse } from './types.js';

export interface StaticMount {
  /** "/static": no trailing "/" ("" for the root). */
  prefix: string;
  /** The directory, real path (symbolic links resolved). */
  dir: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.htm': 'text/html',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.pdf': 'application/pdf',
  '.wasm': 'application/wasm',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.ogg': 'audio/ogg',
};

/** The Content-Type of a file name, by its extension; application/octet-stream when unknown. */
export function contentTypeOf(name: string): string {
  return TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** "MOUNT=DIR" values, checked: the mount starts with "/", DIR is a directory. */
export function parseStaticMaps(values: readonly string[], cwd = process.cwd()): StaticMount[] {
  return values.map((v) => {
    const eq = v.indexOf('=');
    const prefix = eq === -1 ? '' : v.slice(0, eq).trim().replace(/\/+$/, '');
    const dir = eq === -1 ? '' : v.slice(eq + 1).trim();
    if (eq === -1 || dir === '' || (prefix !== '' && !prefix.startsWith('/'))) {
      throw new TsgiError('TSGI_ERR_OPTION_INVALID', `Expected MOUNT=DIR (MOUNT starting with "/") for static-map but received ${JSON.stringify(v)}`);
    }
    let real: string;
    try {
      real = realpathSync(dir.startsWith('/') ? dir : `${cwd}/${dir}`);
      if (!statSync(real).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
      throw new TsgiError('TSGI_ERR_OPTION_INVALID', `static-map ${JSON.stringify(v)}: ${dir}: ${why}`);
    }
    return { prefix, dir: real };
  });
}

/** RFC 9110's IMF-fixdate, as Last-Modified carries it. */
function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** The file under mount for a PATH_INFO below it (latin-1 text of the request's bytes), or undefined. */
function fileFor(mount: StaticMount, path: string, indexes: readonly string[]): string | undefined {
  let rel: string;
  if (mount.prefix === '') rel = path;
  else if (path === mount.prefix) rel = '';
  else if (path.startsWith(mount.prefix) && path[mount.prefix.length] === '/') rel = path.slice(mount.prefix.length);
  else return undefined;
  // PATH_INFO holds the request's bytes one per character: the file name's bytes.
  const name = Buffer.from(rel, 'latin1').toString('utf8');
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..' || s.includes('\0'))) return undefined;
  const candidate = [mount.dir, ...segments].join('/');
  let stats: Stats;
  try {
    stats = statSync(candidate);
  } catch {
    return undefined;
  }
  let file = candidate;
  if (stats.isDirectory()) {
    const index = indexes.map((i) => `${candidate}/${i}`).find((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return false;
      }
    });
    if (index === undefined) return undefined;
    file = index;
  } else if (!stats.isFile()) {
    return undefined;
  }
  // A symbolic link that points out of the directory is not followed.
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    return undefined;
  }
  if (!real.startsWith(mount.dir === '/' ? '/' : `${mount.dir}/`)) return undefined;
  return real;
}

/** The application, with the static maps in front of it (the application itself when none). */
export function withStaticMaps(app: Application, mounts: readonly StaticMount[], indexes: readonly string[] = []): Application {
  if (mounts.length === 0) return app;
  // The longest mount first: /static/img before /static.
  const ordered = [...mounts].sort((a, b) => b.prefix.length - a.prefix.length);
  return function staticMapped(environ: Environ, startResponse: StartResponse) {
    const method = environ.REQUEST_METHOD;
    if (method === 'GET' || method === 'HEAD') {
      for (const mount of ordered) {
        const file = fileFor(mount, environ.PATH_INFO, indexes);
        if (file !== undefined) return serveFile(file, method === 'HEAD', environ, startResponse);
      }
    }
    return app(environ, startResponse);
  };
}

function serveFile(file: string, head: boolean, environ: Environ, startResponse: StartResponse): Iterable<Uint8Array> {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    startResponse('404 Not Found', [['Content-Type', 'text/plain'], ['Content-Length', '10']]);
    return [Buffer.from('Not Found\n')];
  }
  const stats = fstatSync(fd);
  const modified = Math.floor(stats.mtimeMs / 1000) * 1000;
  const lastModified = httpDate(modified);
  const since = environ.HTTP_IF_MODIFIED_SINCE;
  if (typeof since === 'string' && since !== '') {
    const t = Date.parse(since);
    if (!Number.isNaN(t) && modified <= t) {
      closeSync(fd);
      startResponse('304 Not Modified', [['Last-Modified', lastModified]]);
      return [];
    }
  }
  startResponse('200 OK', [
    ['Content-Type', contentTypeOf(file)],
    ['Content-Length', String(stats.size)],
    ['Last-Modified', lastModified],
  ]);
  if (head) {
    closeSync(fd);
    return [];
  }
  return new FileWrapper(fd, 65536);
}

/** The application with --static-map / --static-index of values in front (checked: a bad map throws). */
export function staticMapped(app: Application, config: Config): Application {
  return config.staticMap.length === 0 ? app : withStaticMaps(app, parseStaticMaps(config.staticMap), config.staticIndex);
}
