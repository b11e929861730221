import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

// Orchestration apart from rules: no function in core/ longer than ~60 lines, and no positional
// parameter list of 6 or more (named options instead). A guard, so the shape stays as it is.
const MAX_LINES = 60;
const MAX_PARAMS = 5;
const CORE = join(__dirname, '..', '..', 'core');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function oversized(file: string): string[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = src.getLineAndCharacterOfPosition(node.getStart()).line;
      const lines = src.getLineAndCharacterOfPosition(node.getEnd()).line - first + 1;
      const params = node.parameters.length;
      if (lines > MAX_LINES || params > MAX_PARAMS)
        found.push(`${file.slice(CORE.length + 1)}:${first + 1} ${lines} lines, ${params} parameters`);
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return found;
}

describe('core/ code shape', () => {
  it(`has no function over ${MAX_LINES} lines or with more than ${MAX_PARAMS} parameters`, () => {
    const files = tsFiles(CORE);
    expect(files.length).toBeGreaterThan(30);
    expect(files.flatMap(oversized)).toEqual([]);
  });
});
