// createXen(): a Hypervisor with every subsystem registered and wired, in the order their
// lifecycles need (event channels first: IOREQ and xenstore use them; xenstore last, so a
// dying domain is released from xenstore before its ports close). What it wires:
//   - hypercall numbers: memory_op 12, grant_table_op 20, event_channel_op 32, argo_op 39,
//     dm_op 41 (hv.hypercall), and the memory_op sub-commands (hv.memoryOp);
//   - VIRQ_ARGO to the domain's bind_virq port (hv.raiseVirq -> EventChannels);
//   - the xenstore ring's event channel (allocated by the toolstack, bound by xenstored);
//   - XSA-295 pauses of the architecture's guest atomics into the domain pause bookkeeping.
import { Machine } from "../wasm/machine.ts";
import type { Build } from "../wasm/module.ts";
import { Hypervisor, XenConfigError, type XenArch } from "./hypervisor.ts";
import { DummyPolicy, SiloPolicy, type XsmPolicy } from "./xsm.ts";
import { X86GuestAtomics, guestAtomicsFor, type ArchName, type EmulatedAtomicsOptions, type GuestAtomics } from "./atomics.ts";
import { GrantTables, type GrantOptions } from "./grant-table.ts";
import { EventChannels, type EventChannelsOptions } from "./evtchn.ts";
import { ForeignMapping } from "./foreign.ts";
import { IoreqServers, type IoreqOptions } from "./ioreq.ts";
import { Argo, type ArgoOptions } from "./argo.ts";
import { Xenstore, type XenstoreOptions } from "./xenstore.ts";

export interface XenOptions {
  /** An existing machine, or the Wasm build to create one with (default "release"). */
  machine?: Machine;
  build?: Build;
  /** An XSM policy object, or Xen's "dummy" or "silo" module; by default SILO on arm64, dummy elsewhere. */
  xsm?: XsmPolicy | "dummy" | "silo";
  /** The guest atomics Xen uses: an object, or an architecture whose instruction sequences
   *  the engine runs (with the XSA-295 helpers); default x86 locked operations. */
  atomics?: GuestAtomics | ArchName;
  atomicsOptions?: EmulatedAtomicsOptions;
  /** Host architecture; defaults to the one `atomics` names, else x86-64. */
  arch?: XenArch;
  grants?: GrantOptions;
  evtchn?: EventChannelsOptions;
  ioreq?: IoreqOptions;
  /** Xen's `argo` boot option: off unless enabled here, as in Xen. */
  argo?: ArgoOptions;
  /** xenstored and the toolstack's part; false leaves xenstore out. */
  xenstore?: Omit<XenstoreOptions, "evtchn"> | false;
}

/** A complete Xen model: the hypervisor and its subsystems. */
export interface Xen {
  readonly machine: Machine;
  readonly hv: Hypervisor;
  readonly evtchn: EventChannels;
  readonly grants: GrantTables;
  readonly foreign: ForeignMapping;
  readonly ioreq: IoreqServers;
  readonly argo: Argo;
  readonly xenstore: Xenstore | undefined;
}

const HOST_ARCH: Readonly<Record<ArchName, XenArch>> = {
  "x86-64": "x86-64", "arm64-v8.0": "arm64", "arm64-v8.1-lse": "arm64", riscv64: "riscv64",
};

/** Xen's default XSM module: SILO on Arm (default since XSA-295), the dummy module elsewhere. */
function policy(x: XenOptions["xsm"], arch: XenArch): XsmPolicy {
  if (x === undefined) return arch === "arm64" ? new SiloPolicy() : new DummyPolicy();
  if (x === "dummy") return new DummyPolicy();
  if (x === "silo") return new SiloPolicy();
  if (typeof x === "string") throw new XenConfigError(`xsm must be "dummy", "silo" or a policy object, got "${x}"`);
  return x;
}

export function createXen(opts: XenOptions = {}): Xen {
  const machine = opts.machine ?? new Machine({ build: opts.build ?? "release" });
  let atomics: GuestAtomics;
  let arch = opts.arch;
  if (typeof opts.atomics === "string") {
    atomics = guestAtomicsFor(opts.atomics, machine, opts.atomicsOptions);
    arch ??= HOST_ARCH[opts.atomics];
  } else {
    atomics = opts.atomics ?? new X86GuestAtomics(machine);
  }
  const hv = new Hypervisor({ machine, xsm: policy(opts.xsm, arch ?? "x86-64"), atomics, arch });
  const evtchn = new EventChannels(hv, opts.evtchn);
  const grants = new GrantTables(hv, opts.grants);
  const foreign = new ForeignMapping(hv);
  const ioreq = new IoreqServers(hv, evtchn, opts.ioreq);
  const argo = hv.register(new Argo(hv, opts.argo));
  const xenstore = opts.xenstore === false ? undefined : hv.register(new Xenstore(hv, { ...opts.xenstore, evtchn }));
  return { machine, hv, evtchn, grants, foreign, ioreq, argo, xenstore };
}
