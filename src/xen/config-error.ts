// The user-facing error of the Xen model: bad configuration or a call that no guest could
// make (a dead domain trapping), never a guest-visible outcome (those are errno / status values).
export class XenConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XenConfigError";
  }
}
