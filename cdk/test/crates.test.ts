import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_FUNCTIONS_DIR } from '../lib/constructs/pipeline-function';
import { CRATES } from './helpers';

// The contract with the Rust side: functions/<crate>/Cargo.toml builds a binary named <crate>
// (RustFunction passes `--bin <crate>`), and the workspace builds it.
describe('Rust crates the stack bundles', () => {
  const workspace = fs.readFileSync(path.join(DEFAULT_FUNCTIONS_DIR, '../Cargo.toml'), 'utf8');

  test.each(CRATES)('functions/%s exists, is named so, and is a workspace member', (crate) => {
    const manifestPath = path.join(DEFAULT_FUNCTIONS_DIR, crate, 'Cargo.toml');
    expect(fs.existsSync(manifestPath)).toBe(true);
    const manifest = fs.readFileSync(manifestPath, 'utf8');
    expect(manifest).toMatch(new RegExp(`^name\\s*=\\s*"${crate}"`, 'm'));
    const bins = [...manifest.matchAll(/^\[\[bin\]\][^[]*?^name\s*=\s*"([^"]+)"/gms)].map((m) => m[1]);
    if (bins.length > 0) expect(bins).toContain(crate);
    expect(workspace.includes(`"functions/${crate}"`) || workspace.includes('"functions/*"')).toBe(true);
  });
});
