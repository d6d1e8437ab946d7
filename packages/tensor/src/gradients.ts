// Registers tfjs-core's gradient functions. They ship only as an ESM file tree with extensionless relative
// imports ('./gradients/Abs_grad'), which plain Node cannot resolve, so we try, in order:
//   1. require() — works under tsx (its CJS hook resolves extensionless paths);
//   2. import()  — works under vitest/vite (which inlines invalid-for-Node ESM deps);
//   3. a Node resolve hook that appends '.js' to tfjs-core's relative imports, then import() — plain Node
//      (e.g. the published dist).
// Each copy registers into tfjs's global gradient registry and calls ops through the global engine, so the
// gradients work with the one `tf` instance this package exports (the same trick the @tensorflow/tfjs
// umbrella bundle uses).
import { createRequire, register } from 'node:module';

const SPEC = '@tensorflow/tfjs-core/dist/register_all_gradients';

const HOOK = `
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    const inTfjsCore = context.parentURL && context.parentURL.includes('/@tensorflow/tfjs-core/dist/');
    if (inTfjsCore && (specifier.startsWith('./') || specifier.startsWith('../'))) return next(specifier + '.js', context);
    throw e;
  }
}`;

export async function registerAllGradients(): Promise<void> {
  const errors: string[] = [];
  try {
    createRequire(import.meta.url)(SPEC);
    return;
  } catch (e) {
    errors.push(`require: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    await import(`${SPEC}.js`);
    return;
  } catch (e) {
    errors.push(`import: ${(e as Error).message.split('\n')[0]}`);
  }
  try {
    register(`data:text/javascript,${encodeURIComponent(HOOK)}`, import.meta.url);
    // a new URL: the failed attempt above is cached by the loader under the plain one
    await import(`${import.meta.resolve(`${SPEC}.js`)}?with-resolve-hook`);
  } catch (e) {
    errors.push(`import with resolve hook: ${(e as Error).message.split('\n')[0]}`);
    throw new Error(`@engram-ar/tensor: cannot register tfjs gradients:\n  ${errors.join('\n  ')}`);
  }
}
