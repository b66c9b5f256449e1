// An error in what the user gave (a bad option value, a file that is not a sweep output): the
// CLI prints its message alone and exits with 2, where an unexpected error exits with 1.
export class UserError extends Error {
  override name = "UserError";
}
