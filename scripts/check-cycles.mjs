// Fails if the compiled sources have an import cycle (DESIGN.md: no import cycles).
import madge from 'madge';

const res = await madge(new URL('../dist/src', import.meta.url).pathname, { fileExtensions: ['js'] });
const cycles = res.circular();
if (cycles.length > 0) {
  console.error(`import cycles found (${cycles.length}):`);
  for (const c of cycles) console.error(`  ${c.join(' -> ')}`);
  process.exit(1);
}
console.log(`no import cycles (${Object.keys(res.obj()).length} modules checked)`);
