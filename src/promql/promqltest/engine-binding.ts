// Binds the runner to Muninn's engine and parser.
import { Engine } from '../engine/index.js';
import type { EngineOptions } from '../engine/index.js';
import { parseExpr } from '../parser/index.js';
import { makeAtRewriter } from './at-rewrite.js';
import { ENGINE_OPTIONS, PARSER_OPTIONS } from './corpus.js';
import type { AtRewriter, QueryEngine } from './runner.js';

export function createEngine(opts: EngineOptions = ENGINE_OPTIONS): QueryEngine {
  return new Engine(opts);
}

/** The `@` re-run rewriter (parses with the scripts' parser options). */
export function createAtRewriter(): AtRewriter {
  return makeAtRewriter((q) => parseExpr(q, PARSER_OPTIONS));
}
