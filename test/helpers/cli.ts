/** The `rapyer` CLI spawned as a user runs it (through tsx, from src/cli/main.ts): exit code and output. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname;

export interface Run { code: number; stdout: string; stderr: string }

export async function runCli(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
