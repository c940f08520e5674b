/**
 * One Lambda "execution environment": a worker thread that loads a bundled handler once (cold
 * start) and runs one invocation at a time. Plain JavaScript so it starts without a TypeScript
 * loader: every cold start pays only for the handler's own module graph.
 *
 * Messages in:  { type: 'invoke', id, event, context: { awsRequestId, deadlineMs, ... } }
 * Messages out: { type: 'result', id, ok: true, payload: string | undefined, initMs? }
 *               { type: 'result', id, ok: false, errorType, errorMessage, fatal?, initMs? }
 */
import { registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';

const { entryFile, exportPath, sourceMaps, fallbackResolveDir } = workerData;

if (sourceMaps) process.setSourceMapsEnabled(true);

// Lambda provides the AWS SDK v3 outside the bundle; CDK bundles mark it external. Let bare
// imports that the asset cannot resolve fall back to the project's node_modules.
if (fallbackResolveDir && typeof registerHooks === 'function') {
  const fallbackParent = pathToFileURL(`${fallbackResolveDir.replace(/\/+$/, '')}/`).href;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      try {
        return nextResolve(specifier, context);
      } catch (err) {
        const bare = !specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.includes(':');
        if (!bare || err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
        return nextResolve(specifier, { ...context, parentURL: fallbackParent });
      }
    },
  });
}

let currentRequestId = 'INIT';

// Lambda's Node runtime prefixes console output with a timestamp, the request id and the level.
for (const [method, level] of [
  ['log', 'INFO'],
  ['info', 'INFO'],
  ['warn', 'WARN'],
  ['error', 'ERROR'],
  ['debug', 'DEBUG'],
  ['trace', 'TRACE'],
]) {
  const stream = level === 'WARN' || level === 'ERROR' ? process.stderr : process.stdout;
  console[method] = (...args) => {
    stream.write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${format(...args)}\n`);
  };
}

/** @type {Promise<Function> | undefined} */
let handlerPromise;

async function loadHandler() {
  let mod;
  try {
    mod = await import(pathToFileURL(entryFile).href);
  } catch (err) {
    throw Object.assign(new Error(`Error: Cannot load ${entryFile}: ${err?.message ?? err}`), {
      name: 'Runtime.ImportModuleError',
      fatal: true,
    });
  }
  let fn = mod;
  for (const key of exportPath) fn = fn?.[key];
  // A CommonJS bundle imported as ESM exposes its exports under `default`.
  if (typeof fn !== 'function' && mod?.default) {
    fn = mod.default;
    for (const key of exportPath) fn = fn?.[key];
  }
  if (typeof fn !== 'function') {
    throw Object.assign(new Error(`${entryFile} does not export a function '${exportPath.join('.')}'`), {
      name: 'Runtime.HandlerNotFound',
      fatal: true,
    });
  }
  return fn;
}

function callHandler(handler, event, context) {
  // Callback-style handlers (three parameters, not async) resolve through the callback.
  if (handler.length >= 3 && handler.constructor.name !== 'AsyncFunction') {
    return new Promise((resolve, reject) => {
      const callback = (err, result) => (err ? reject(err) : resolve(result));
      context.done = callback;
      context.succeed = (result) => resolve(result);
      context.fail = (err) => reject(err);
      try {
        const maybe = handler(event, context, callback);
        if (maybe && typeof maybe.then === 'function') maybe.then(resolve, reject);
      } catch (err) {
        reject(err);
      }
    });
  }
  return Promise.resolve().then(() => handler(event, context));
}

function errorFields(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || 'Error',
      errorMessage: err.message,
      stack: err.stack,
      fatal: err.fatal === true,
    };
  }
  return {
    errorType: 'Error',
    errorMessage: typeof err === 'string' ? err : JSON.stringify(err),
    fatal: false,
  };
}

parentPort.on('message', async (msg) => {
  if (msg?.type !== 'invoke') return;
  const { id, event, context: ctx } = msg;
  currentRequestId = ctx.awsRequestId;
  const context = {
    ...ctx,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, ctx.deadlineMs - Date.now()),
  };
  delete context.deadlineMs;
  let initMs;
  try {
    if (!handlerPromise) {
      const started = performance.now();
      handlerPromise = loadHandler();
      await handlerPromise.finally(() => {
        initMs = performance.now() - started;
      });
    }
    const handler = await handlerPromise;
    const result = await callHandler(handler, event, context);
    // Lambda serializes the result as JSON; undefined becomes null.
    const payload = result === undefined ? undefined : JSON.stringify(result);
    parentPort.postMessage({ type: 'result', id, ok: true, payload, initMs });
  } catch (err) {
    const fields = errorFields(err);
    if (fields.stack) console.error(`Invoke Error ${fields.stack}`);
    parentPort.postMessage({ type: 'result', id, ok: false, ...fields, stack: undefined, initMs });
  }
});
