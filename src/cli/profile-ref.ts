// A profile named on the command line (or by a scenario), checked before anything runs: a
// built-in id, or a profile file that exists and validates. Problems are the user's (exit 2).
import { ProfileError } from "../cost/profile.ts";
import { resolveProfile } from "../run/run-job.ts";
import { UserError } from "./user-error.ts";

/** Throws a UserError naming the profile (and, for a bad file, its line and field). */
export function checkProfileRef(ref: string, command: string): void {
  try {
    resolveProfile(ref);
  } catch (e) {
    if (e instanceof ProfileError) throw new UserError(e.message);
    throw new UserError(`vxsim ${command}: ${(e as Error).message}`);
  }
}
