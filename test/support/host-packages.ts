import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The repository root; compiled helpers live in dist/test/support/. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Returns the absolute path of an executable on PATH (plus the sbin folders), or undefined. */
export async function findExecutable(name: string): Promise<string | undefined> {
  const folders = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const folder of folders) {
    if (!folder) continue;
    const candidate = join(folder, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder.
    }
  }
  return undefined;
}

/**
 * Returns the path of each executable, installing the Debian package that
 * ships it through hack/ensure-debian-packages.sh when it is missing.
 * Throws with the package names and the install command when that fails
 * (for example when the tests do not run as root).
 */
export async function requireExecutables<Name extends string>(
  wanted: Record<Name, string>,
): Promise<Record<Name, string>> {
  const missingPackages = new Set<string>();
  const entries = Object.entries(wanted) as [Name, string][];
  for (const [name, debianPackage] of entries) {
    if (!(await findExecutable(name))) missingPackages.add(debianPackage);
  }

  if (missingPackages.size > 0) {
    const packages = [...missingPackages];
    try {
      await execFileAsync(join(repoRoot, 'hack/ensure-debian-packages.sh'), packages, {
        timeout: 15 * 60_000,
      });
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? String(err);
      throw new Error(
        `could not install Debian packages ${packages.join(', ')}: ${stderr.trim()}; ` +
          `install them with: sudo apt-get install ${packages.join(' ')}`,
        { cause: err },
      );
    }
  }

  const paths = {} as Record<Name, string>;
  for (const [name, debianPackage] of entries) {
    const path = await findExecutable(name);
    if (!path)
      throw new Error(`${name} is still missing after installing Debian package ${debianPackage}`);
    paths[name] = path;
  }
  return paths;
}
