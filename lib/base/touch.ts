// uWSGI's touch options (--touch-reload, --touch-logreopen): a file whose modification
// time changes is a command. Looked at every 250 ms (fs.watchFile: stat polling, which
// also sees a file created or replaced after the start); the watch never keeps the
// process alive by itself.
import { unwatchFile, watchFile } from 'node:fs';

/** Calls onTouch(file) each time one of files changes; returns the stop. */
export function watchTouch(files: readonly string[], onTouch: (file: string) => void): () => void {
  for (const file of files) {
    watchFile(file, { interval: 250, persistent: false }, (cur, prev) => {
      if (cur.mtimeMs !== prev.mtimeMs) onTouch(file);
    });
  }
  return () => {
    for (const file of files) unwatchFile(file);
  };
}
