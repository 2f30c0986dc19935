// Query annotations (Prometheus util/annotations): warnings and infos collected during
// evaluation, deduplicated by text, each ending in the " (line:col)" of the sub-expression that
// caused it when the query text is known.
import type { PosRange } from '../ast.js';
import type { Annotations } from '../value.js';

export type AnnotationKind = 'warning' | 'info';

const PREFIX: Record<AnnotationKind, string> = { warning: 'PromQL warning: ', info: 'PromQL info: ' };
const HAS_POSITION = /\(\d+:\d+\)$/;

export class AnnotationSet {
  readonly #warnings = new Set<string>();
  readonly #infos = new Set<string>();
  readonly #query: string | null;

  constructor(query: string | null) {
    this.#query = query;
  }

  /**
   * Adds `message` (without or with the "PromQL warning: "/"PromQL info: " prefix). The position
   * suffix is appended from `pos` unless the message already ends with one.
   */
  add(kind: AnnotationKind, message: string, pos: PosRange | null): void {
    let text = message.startsWith('PromQL ') ? message : PREFIX[kind] + message;
    if (pos !== null && this.#query !== null && !HAS_POSITION.test(text)) text += ` (${positionOf(this.#query, pos.start)})`;
    (kind === 'warning' ? this.#warnings : this.#infos).add(text);
  }

  get size(): number {
    return this.#warnings.size + this.#infos.size;
  }

  toJSON(): Annotations {
    return { warnings: [...this.#warnings], infos: [...this.#infos] };
  }
}

/** Prometheus PositionRange.StartPosInput: 1-based line and column of offset `pos`. */
export function positionOf(query: string, pos: number): string {
  if (pos < 0 || pos > query.length) return 'invalid position';
  const before = query.slice(0, pos);
  const lastBreak = before.lastIndexOf('\n');
  let line = 0;
  for (let i = 0; i < before.length; i++) if (before.charCodeAt(i) === 10) line++;
  return `${line + 1}:${pos - lastBreak}`;
}
