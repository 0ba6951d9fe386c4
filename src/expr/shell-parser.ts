// The bash grammar (tree-sitter-bash, WebAssembly, run by web-tree-sitter): loaded once, on the first `run:` string that needs it.
//
// Only WebAssembly is used: tree-sitter-bash's native binding (its install script) is never loaded. Both .wasm files are
// read from node_modules by path, so the bundle in dist/ finds them where npm put them. Loading takes ~40 ms; after
// that a parse takes well under a millisecond, so `validate` pays for it only when a runbook has a shell string with a
// template that the plain-command fast path (shell-placement.ts) cannot decide.
import { createRequire } from 'node:module';
import type { Node as SyntaxNode, Parser as TreeSitterParser } from 'web-tree-sitter';
import { readFileLimited } from '../ports/fs.js';

export type { SyntaxNode };

/** Parses a script; the tree is only valid inside `use`, then freed (the parser's memory is WebAssembly's, not the GC's). */
export interface ShellParser {
  parse<T>(script: string, use: (root: SyntaxNode) => T): T;
}

/** The parser could not be loaded: an installation problem, reported as such (not as a bug). */
export class ShellParserUnavailable extends Error {
  constructor(detail: string) {
    super(`the shell parser (tree-sitter-bash) could not be loaded: ${detail}; reinstall deployctl's dependencies (npm ci)`);
    this.name = 'ShellParserUnavailable';
  }
}

const MAX_WASM_BYTES = 16 * 1024 * 1024;

let loading: Promise<ShellParser> | undefined;

export function loadShellParser(): Promise<ShellParser> {
  loading ??= load().catch((error: unknown) => {
    loading = undefined;
    throw error instanceof ShellParserUnavailable ? error : new ShellParserUnavailable(error instanceof Error ? error.message : String(error));
  });
  return loading;
}

function readWasm(specifier: string): Uint8Array {
  let file: string;
  try {
    file = createRequire(import.meta.url).resolve(specifier);
  } catch {
    throw new ShellParserUnavailable(`${specifier} is not installed`);
  }
  const read = readFileLimited(file, MAX_WASM_BYTES);
  if (!read.ok) throw new ShellParserUnavailable(`${file} is larger than ${MAX_WASM_BYTES} bytes`);
  return read.bytes;
}

async function load(): Promise<ShellParser> {
  const runtime = readWasm('web-tree-sitter/tree-sitter.wasm');
  const grammar = readWasm('tree-sitter-bash/tree-sitter-bash.wasm');
  const { Parser, Language } = await import('web-tree-sitter');
  await Parser.init({ wasmBinary: runtime });
  const bash = await Language.load(grammar);
  const parser: TreeSitterParser = new Parser();
  parser.setLanguage(bash);
  return {
    parse(script, use) {
      const tree = parser.parse(script);
      if (tree === null) throw new ShellParserUnavailable('the parser returned no tree');
      try {
        return use(tree.rootNode);
      } finally {
        tree.delete();
      }
    },
  };
}
