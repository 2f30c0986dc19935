// The -help text is a golden file (test/golden/help.txt): any change to an option shows up as a
// diff there. Plus sanity checks of the schema itself: unique, well-formed flags and YAML paths,
// and every option in -help with its default.
import '../harness.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { schema } from '../../src/app/config.js';
import { boolOpt, defineGroup, durationOpt, intOpt, optionsOf, renderHelp, renderYaml, defaultsOf, stringOpt } from '../../src/config/index.js';
import { META_FLAGS } from '../../src/config/load.js';
import { formatDuration } from '../../src/util/duration.js';

// the test runs from dist/test/unit; the golden file lives in the source tree
const GOLDEN = new URL('../../../test/golden/help.txt', import.meta.url);

test('-help matches test/golden/help.txt byte for byte', () => {
  const got = renderHelp(schema, 'muninn');
  const want = readFileSync(GOLDEN, 'utf8');
  if (got === want) return;
  const g = got.split('\n');
  const w = want.split('\n');
  let i = 0;
  while (i < g.length && i < w.length && g[i] === w[i]) i++;
  assert.fail(
    `renderHelp(schema, 'muninn') differs from test/golden/help.txt, first at line ${i + 1}:\n` +
      `  golden: ${JSON.stringify(w[i] ?? '<end of file>')}\n` +
      `  now:    ${JSON.stringify(g[i] ?? '<end of output>')}\n` +
      'If the change is intended, run `npm run build && node scripts/update-golden.mjs` and review the diff of test/golden/help.txt.',
  );
});

/** The help text's entries: flag -> [the flag line, the help line]. */
function entries(help: string): Map<string, [string, string]> {
  const lines = help.split('\n');
  assert.equal(lines[0], 'Usage of muninn:');
  assert.equal(lines[lines.length - 1], '', 'ends with a newline');
  const out = new Map<string, [string, string]>();
  for (let i = 1; i + 1 < lines.length; i += 2) {
    const head = lines[i] as string;
    const body = lines[i + 1] as string;
    const m = /^ {2}-(\S+)( \S+)?$/.exec(head);
    assert.ok(m !== null, `flag line ${JSON.stringify(head)}`);
    assert.ok(body.startsWith('    \t'), `help line ${JSON.stringify(body)}`);
    assert.ok(!out.has(m[1] as string), `-${m[1]} listed twice`);
    out.set(m[1] as string, [head, body]);
  }
  return out;
}

test('every option is in -help with its type and default', () => {
  const help = entries(renderHelp(schema, 'muninn'));
  const refs = optionsOf(schema).filter((r) => r.option.hidden !== true);
  const builtins = Object.entries(META_FLAGS).filter(([, m]) => m.help !== undefined).map(([f]) => f);
  assert.equal(help.size, refs.length + builtins.length);
  for (const f of builtins) assert.ok(help.has(f), `built-in -${f} missing from -help`);
  const flags = [...help.keys()];
  assert.deepEqual(flags, [...flags].sort(), 'sorted by flag name');
  for (const { option: o } of refs) {
    const entry = help.get(o.flag);
    assert.ok(entry !== undefined, `-${o.flag} missing from -help`);
    const [head, body] = entry;
    const type = { string: ' string', int: ' int', float: ' float', bool: '', duration: ' duration', list: ' comma-separated-list-of-strings', enum: ' string' }[o.kind];
    assert.equal(head, `  -${o.flag}${type}`);
    assert.ok(body.includes(o.help), `-${o.flag}: help text`);
    for (const v of o.enumValues ?? []) assert.ok(body.includes(v), `-${o.flag}: enum value ${v}`);
    // Go's flag package leaves out zero defaults (0, "", false, 0s) and quotes strings
    let def: string;
    switch (o.kind) {
      case 'string':
      case 'enum':
        def = o.def === '' ? '' : JSON.stringify(o.def);
        break;
      case 'bool':
        def = o.def === true ? 'true' : '';
        break;
      case 'duration':
        def = o.def === 0 ? '' : formatDuration(o.def as number);
        break;
      case 'list':
        def = (o.def as string[]).join(',');
        break;
      case 'int':
      case 'float':
        def = o.def === 0 ? '' : String(o.def);
        break;
      default: {
        const never: never = o.kind;
        throw new Error(`unknown kind ${String(never)}`);
      }
    }
    if (def === '') assert.ok(!body.includes('(default '), `-${o.flag}: zero default shown: ${body}`);
    else assert.ok(body.endsWith(` (default ${def})`), `-${o.flag}: ${JSON.stringify(body)} should end with (default ${def})`);
  }
});

test('schema sanity: flags and YAML paths are unique and well-formed', () => {
  const flags = new Map<string, string>();
  const paths = new Map<string, string>();
  for (const { group, key, option: o } of optionsOf(schema)) {
    const where = `${group}.${key}`;
    assert.match(o.flag, /^[a-z0-9.-]+$/, `${where}: flag -${o.flag}`);
    assert.ok(!/^[.-]|[.-]$|\.\.|\.-|-\./.test(o.flag), `${where}: flag -${o.flag} has an empty segment`);
    assert.ok(!['help', 'h', 'version', 'modules'].includes(o.flag), `${where}: -${o.flag} would hide the built-in flag`);
    assert.equal(flags.get(o.flag), undefined, `-${o.flag} declared by ${flags.get(o.flag)} and ${where}`);
    flags.set(o.flag, where);
    assert.ok(o.help.trim() !== '', `${where}: no help text`);
    if (o.yaml === null) continue;
    assert.match(o.yaml, /^[a-z0-9_.]+$/, `${where}: YAML path ${o.yaml}`);
    assert.ok(!o.yaml.split('.').includes(''), `${where}: YAML path ${o.yaml} has an empty segment`);
    assert.equal(paths.get(o.yaml), undefined, `YAML path ${o.yaml} declared by ${paths.get(o.yaml)} and ${where}`);
    paths.set(o.yaml, where);
  }
  // no option's YAML path is a section holding another option
  for (const p of paths.keys()) {
    for (const q of paths.keys()) assert.ok(!q.startsWith(`${p}.`), `YAML path ${p} is both a value and the section of ${q}`);
  }
});

test('renderHelp formats each kind Go-style and leaves out hidden options', () => {
  const sch = {
    g: defineGroup('g', {
      b: boolOpt('b.on', 'b', true, 'On.'),
      c: boolOpt('a.off', 'c', false, 'Off.'),
      d: durationOpt('d', 'd', 90_000, 'D.'),
      i: intOpt('i', null, 0, 'I.'),
      s: stringOpt('s', 's', 'x y', 'S.'),
      h: stringOpt('hidden', 'hidden', 'secret', 'H.', { hidden: true }),
    }),
  };
  assert.equal(
    renderHelp(sch, 'prog'),
    [
      'Usage of prog:',
      '  -a.off',
      '    \tOff.',
      '  -b.on',
      '    \tOn. (default true)',
      '  -d duration',
      '    \tD. (default 1m30s)',
      '  -help',
      '    \tPrint the flags with their defaults and exit.',
      '  -i int',
      '    \tI.',
      '  -modules',
      '    \tList the modules that -target accepts and exit.',
      '  -s string',
      '    \tS. (default "x y")',
      '  -version',
      '    \tPrint the version and exit.',
      '',
    ].join('\n'),
  );
  assert.ok(!renderYaml(sch, defaultsOf(sch), 'full').includes('secret'), 'hidden options are not rendered as YAML');
});
