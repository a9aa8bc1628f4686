// The tsgi command's master mode: a Master (lib/process/master.ts) started and run to
// its end, with --py-autoreload's watch of the application's files (a change is a
// chain reload).
import type { Config } from '../config/typed.js';
import { logMessage as log } from '../logging/log-format.js';
import { applicationFile, watchApplication, type Watcher } from './autoreload.js';
import { Master } from './master.js';

/**
 * --master: binds, spawns the workers and runs until stopped; resolves with the exit
 * code. autoreload: --py-autoreload's seconds (0: off), a change to the application's
 * files being a chain reload.
 */
export async function runMaster(config: Config, autoreload = 0): Promise<number> {
  let master: Master | undefined;
  let watcher: Watcher | undefined;
  const file = autoreload > 0 ? applicationFile(config) : undefined;
  if (file !== undefined) {
    watcher = watchApplication(file, autoreload, (changed) => {
      log(`tsgi: py-autoreload: ${changed} changed: graceful chain reload`);
      watcher!.rescan();
      void master?.reload();
    });
    log(`tsgi: py-autoreload: watching ${watcher.count} file${watcher.count === 1 ? '' : 's'} every ${autoreload} s (the application and the modules it imports)`);
  }
  try {
    const m = new Master(config);
    await m.start();
    master = m;
    return await m.exited;
  } catch (err) {
    log(`tsgi: ${(err as Error).message}`);
    return 1;
  } finally {
    watcher?.stop();
  }
}
