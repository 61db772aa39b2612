/**
 * The JSONPath of Amazon States Language as far as our workflows use it: reference paths (`$`,
 * `$.a.b`, `$.list[0]`), the context object (`$$.Execution.Name`), payload templates whose `key.$`
 * values are paths, and ResultPath merging. Missing paths fail the state with `States.Runtime`, as
 * Step Functions does.
 */

export class StatesRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'States.Runtime';
  }
}

type Segment = string | number;

function segments(path: string): Segment[] {
  if (path === '$') return [];
  if (!path.startsWith('$')) throw new StatesRuntimeError(`not a reference path: ${path}`);
  const out: Segment[] = [];
  const re = /\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]/gy;
  re.lastIndex = 1;
  while (re.lastIndex < path.length) {
    const at = re.lastIndex;
    const m = re.exec(path);
    if (!m || m.index !== at) throw new StatesRuntimeError(`unsupported path syntax: ${path}`);
    out.push(m[1] !== undefined ? m[1] : Number(m[2]));
  }
  return out;
}

/** The value at `path`; throws `States.Runtime` when it does not exist. */
export function readPath(data: unknown, path: string, context?: unknown): unknown {
  const [root, rest] = path.startsWith('$$') ? [context, path.slice(1)] : [data, path];
  let value: unknown = root;
  for (const seg of segments(rest)) {
    if (value === null || typeof value !== 'object' || !(seg in (value as object))) {
      throw new StatesRuntimeError(`path ${path} does not exist in the input`);
    }
    value = (value as Record<string | number, unknown>)[seg];
  }
  return value;
}

/** Whether `path` exists (Choice `IsPresent`). */
export function hasPath(data: unknown, path: string): boolean {
  try {
    readPath(data, path);
    return true;
  } catch {
    return false;
  }
}

/** InputPath/OutputPath: `null` gives `{}`, undefined keeps the data. */
export function selectPath(data: unknown, path: string | null | undefined, context?: unknown): unknown {
  if (path === undefined) return data;
  if (path === null) return {};
  return readPath(data, path, context);
}

/** ResultPath: where a state's result goes in its input (`$` replaces it, `null` discards the result). */
export function applyResultPath(input: unknown, result: unknown, path: string | null | undefined): unknown {
  if (path === null) return input;
  if (path === undefined || path === '$') return result;
  const segs = segments(path);
  const copy: unknown = input !== null && typeof input === 'object' ? structuredClone(input) : {};
  let node = copy as Record<string | number, unknown>;
  for (const [i, seg] of segs.entries()) {
    if (i === segs.length - 1) {
      node[seg] = result;
      break;
    }
    const next = node[seg];
    if (next === undefined) node[seg] = {};
    else if (next === null || typeof next !== 'object') throw new StatesRuntimeError(`ResultPath ${path} runs through a non-object`);
    node = node[seg] as Record<string | number, unknown>;
  }
  return copy;
}

/**
 * A payload template (Parameters, ResultSelector): keys ending in `.$` take the value at their path
 * (in the input, or the context object for `$$.`), others are copied; nested objects and arrays too.
 */
export function resolveTemplate(template: unknown, data: unknown, context: unknown): unknown {
  if (Array.isArray(template)) return template.map((t) => resolveTemplate(t, data, context));
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) {
      if (typeof value !== 'string') throw new StatesRuntimeError(`${key} must be a path string`);
      out[key.slice(0, -2)] = readPath(data, value, context);
    } else out[key] = resolveTemplate(value, data, context);
  }
  return out;
}
