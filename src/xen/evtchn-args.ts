// HYPERVISOR_event_channel_op's argument structs: read from the caller's guest memory
// (copy_from_guest), handed to the port state machine, outputs written back only on success
// (-EFAULT when the caller cannot be read or written, after the op took effect, as Xen).
import type { Machine } from "../wasm/machine.ts";
import { EFAULT, ENOSYS } from "./errno.ts";
import { copyFromGuest, copyToGuest } from "./guest-copy.ts";
import * as L from "../wasm/layout.ts";
import type { EvtchnPorts } from "./evtchn-ports.ts";
import type { DomainEvtchn } from "./evtchn-state.ts";

/** One event_channel_op(cmd, arg) by the domain of `ds`, with the struct at `gpa`. */
export function evtchnOpFromGuest(m: Machine, ports: EvtchnPorts, ds: DomainEvtchn, cmd: number, gpa: number): number {
  const caller = ds.d.domid;
  const rd = (size: number) => copyFromGuest(m, caller, gpa, size);
  /** Writes a u32 OUT field after a successful op that returned it. */
  const out32 = (a: DataView, off: number, v: number): number => {
    if (v < 0) return v;
    a.setUint32(off, v, true);
    return copyToGuest(m, caller, gpa, a) ? 0 : -EFAULT;
  };
  switch (cmd) {
    case L.EVTCHNOP_ALLOC_UNBOUND: {
      const a = rd(L.EVTCHN_ALLOC_UNBOUND_SIZE);
      if (!a) return -EFAULT;
      const port = ports.allocUnbound(ds, a.getUint16(L.EVTCHN_ALLOC_UNBOUND_DOM, true), a.getUint16(L.EVTCHN_ALLOC_UNBOUND_REMOTE_DOM, true));
      return out32(a, L.EVTCHN_ALLOC_UNBOUND_PORT, port);
    }
    case L.EVTCHNOP_BIND_INTERDOMAIN: {
      const a = rd(L.EVTCHN_BIND_INTERDOMAIN_SIZE);
      if (!a) return -EFAULT;
      const port = ports.bindInterdomain(ds, a.getUint16(L.EVTCHN_BIND_INTERDOMAIN_REMOTE_DOM, true), a.getUint32(L.EVTCHN_BIND_INTERDOMAIN_REMOTE_PORT, true));
      return out32(a, L.EVTCHN_BIND_INTERDOMAIN_LOCAL_PORT, port);
    }
    case L.EVTCHNOP_BIND_VIRQ: {
      const a = rd(L.EVTCHN_BIND_VIRQ_SIZE);
      if (!a) return -EFAULT;
      const port = ports.bindVirq(ds, a.getUint32(L.EVTCHN_BIND_VIRQ_VIRQ, true), a.getUint32(L.EVTCHN_BIND_VIRQ_VCPU, true));
      return out32(a, L.EVTCHN_BIND_VIRQ_PORT, port);
    }
    case L.EVTCHNOP_BIND_IPI: {
      const a = rd(L.EVTCHN_BIND_IPI_SIZE);
      if (!a) return -EFAULT;
      return out32(a, L.EVTCHN_BIND_IPI_PORT, ports.bindIpi(ds, a.getUint32(L.EVTCHN_BIND_IPI_VCPU, true)));
    }
    case L.EVTCHNOP_BIND_VCPU: {
      const a = rd(L.EVTCHN_BIND_VCPU_SIZE);
      if (!a) return -EFAULT;
      return ports.bindVcpu(ds, a.getUint32(L.EVTCHN_BIND_VCPU_PORT, true), a.getUint32(L.EVTCHN_BIND_VCPU_VCPU, true));
    }
    case L.EVTCHNOP_SEND:
    case L.EVTCHNOP_CLOSE:
    case L.EVTCHNOP_UNMASK: {
      const a = rd(L.EVTCHN_SEND_SIZE);
      if (!a) return -EFAULT;
      const port = a.getUint32(L.EVTCHN_SEND_PORT, true); // evtchn_close/unmask: the same u32
      if (cmd === L.EVTCHNOP_SEND) return ports.send(ds, port);
      if (cmd === L.EVTCHNOP_CLOSE) return ports.close(ds, port);
      return ports.unmask(ds, port);
    }
    case L.EVTCHNOP_STATUS: {
      const a = rd(L.EVTCHN_STATUS_SIZE);
      if (!a) return -EFAULT;
      const s = ports.status(ds, a.getUint16(L.EVTCHN_STATUS_DOM, true), a.getUint32(L.EVTCHN_STATUS_PORT, true));
      if (typeof s === "number") return s;
      a.setUint32(L.EVTCHN_STATUS_STATUS, s.status, true);
      a.setUint32(L.EVTCHN_STATUS_VCPU, s.vcpu, true);
      for (let o = L.EVTCHN_STATUS_UNBOUND; o < L.EVTCHN_STATUS_SIZE; o++) a.setUint8(o, 0); // the union
      if (s.status === L.EVTCHNSTAT_UNBOUND) a.setUint16(L.EVTCHN_STATUS_UNBOUND_DOM, s.dom!, true);
      if (s.status === L.EVTCHNSTAT_INTERDOMAIN) {
        a.setUint16(L.EVTCHN_STATUS_INTERDOMAIN_DOM, s.dom!, true);
        a.setUint32(L.EVTCHN_STATUS_INTERDOMAIN_PORT, s.port!, true);
      }
      if (s.status === L.EVTCHNSTAT_VIRQ) a.setUint32(L.EVTCHN_STATUS_VIRQ, s.virq!, true);
      return copyToGuest(m, caller, gpa, a) ? 0 : -EFAULT;
    }
    default:
      // bind_pirq (no physical IRQs here), reset and the FIFO ABI are not modelled.
      return -ENOSYS;
  }
}
