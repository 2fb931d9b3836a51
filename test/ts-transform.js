// Jest transformer for the TypeScript sources: TypeScript's own transpileModule (type erasure only, as
// Node 24 does at run time), emitting ES modules. It has no native binary, so the lockfile holds every
// platform's dependencies and `npm ci` works everywhere.
import { createHash } from 'node:crypto';
import ts from 'typescript';

const compilerOptions = {
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2023,
  sourceMap: false,
  inlineSourceMap: true,
  inlineSources: true,
  verbatimModuleSyntax: true,
};

export default {
  process(sourceText, sourcePath) {
    const { outputText } = ts.transpileModule(sourceText, { compilerOptions, fileName: sourcePath });
    return { code: outputText };
  },
  getCacheKey(sourceText, sourcePath) {
    return createHash('sha256').update(ts.version).update('\0').update(sourcePath).update('\0').update(sourceText).digest('hex');
  },
};
