// Runbooks the benchmarks generate.

/** `count` trivial `run: "true"` steps owned by one role, in phases of at most 1000 (the record schema's limit per phase). */
export function stepsRunbookText(name, count) {
  const lines = ['version: 1', `name: ${name}`, 'roles: { ops: { title: Operations } }', 'phases:'];
  for (let i = 0; i < count; i++) {
    if (i % 1000 === 0) lines.push(`  - id: phase-${i / 1000 + 1}`, '    steps:');
    lines.push(`      - { id: s${i + 1}, owner: ops, run: "true" }`);
  }
  return `${lines.join('\n')}\n`;
}
