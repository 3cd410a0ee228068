// Drift check: regenerate the typed operations into a temporary folder and fail if src/gql differs from it,
// i.e. when schema.graphql or an operation changed and `npm run codegen` was not run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const committed = 'src/gql';
const fresh = mkdtempSync(join(tmpdir(), 'vp-codegen-'));
try {
  execFileSync('npx', ['graphql-codegen', '--config', 'codegen.ts', '--silent'], {
    stdio: 'inherit',
    env: { ...process.env, CODEGEN_OUT: `${fresh}/` },
  });
  const names = new Set([...readdirSync(committed), ...readdirSync(fresh)]);
  const drifted = [...names].filter((name) => {
    try {
      return readFileSync(join(committed, name), 'utf8') !== readFileSync(join(fresh, name), 'utf8');
    } catch {
      return true;
    }
  });
  if (drifted.length > 0) {
    console.error(`web/src/gql is out of date (${drifted.join(', ')}): run \`npm run codegen\` in web/ and commit it.`);
    process.exit(1);
  }
  console.log(`codegen: web/src/gql matches schema.graphql and the operations (${names.size} files)`);
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
