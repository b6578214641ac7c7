/**
 * The page's entry, kept small: it starts the device's worker (rpc.ts), then loads the app in a task
 * of its own, so that the worker's script is fetched and compiled while the app's code is evaluated
 * (a worker created inside one long evaluation starts only after it).
 */
import './rpc.ts';

void import('./app-main.tsx');
