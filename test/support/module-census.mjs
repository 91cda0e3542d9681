// Preloaded into a NetID child process (--import) by tests that need to know
// which packages it loaded: it notes every module resolved, by import or
// require, and writes the OpenTelemetry ones to stderr as the process exits.
import fs from 'node:fs';
import { registerHooks } from 'node:module';

const loaded = new Set();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    if (result.url.includes('/@opentelemetry/')) loaded.add(result.url);
    return result;
  },
});
process.on('exit', () => {
  fs.writeSync(2, `\nmodule-census opentelemetry ${JSON.stringify([...loaded])}\n`);
});
