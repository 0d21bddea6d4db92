// What every end-to-end file of this folder needs: stacks (emulator + middleware, test/support/stack.ts)
// started per test and all closed when the file ends, and the records of a stack's org by e-mail.
import { after } from 'node:test';
import { startStack, type Stack, type StackOptions } from '../../../test/support/stack.ts';

/** A `stack(options)` for this file: `defaults` under each call's options (env merged); every stack closes after the file. */
export function stacksClosedAfterFile(defaults: StackOptions = {}): (o?: StackOptions) => Promise<Stack> {
  const stacks: Stack[] = [];
  after(async () => {
    for (const s of stacks) await s.close();
  });
  return async (o = {}) => {
    const s = await startStack({ ...defaults, ...o, env: { ...defaults.env, ...o.env } });
    stacks.push(s);
    return s;
  };
}

/** The org's records of `sobject` whose Email is `email`, whatever its case. */
export async function byEmail(s: Stack, sobject: string, email: string): Promise<any[]> {
  return (await s.records(sobject)).filter((r) => String(r.Email).toLowerCase() === email.toLowerCase());
}
