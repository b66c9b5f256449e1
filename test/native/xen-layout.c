/* Prints the Xen public ABI as vxsim names it (assembly/layout.ts, section "Xen ABI") for
 * test/xen-layout.test.ts: one JSON object, name -> value, built against the real headers
 * (Debian libxen-dev). Names follow the rule at the top of that section. */
#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__ /* the current guest ABI */
#define __XEN_TOOLS__ 1 /* the toolstack's view: dm_op, buffered-ioreq modes, physmap batch */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>
#include <xen/hvm/ioreq.h>
#include <xen/argo.h>
#include <xen/memory.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/dm_op.h>
#include <xen/io/xs_wire.h>
#include <xen/io/xenbus.h>

static int first = 1;

static void emit(const char *name, const char *suffix, long long v) {
  printf("%s\n  \"%s%s\": %lld", first ? "{" : ",", name, suffix, v);
  first = 0;
}

/* K: a macro under its upper-cased name; K_AS: under an explicit name. */
#define K_AS(vxname, v) emit(#vxname, "", (long long)(v))
#define SZ(P, type) emit(#P, "_SIZE", (long long)sizeof(type))
#define OFF(P, F, type, member) emit(#P "_" #F, "", (long long)offsetof(type, member))

/* Locates a bit-field: set it to all ones in a zeroed struct and see which bits moved. */
static void bitfield(const char *name, const unsigned char *p, size_t n) {
  int byte = -1;
  for (size_t i = 0; i < n; i++) {
    if (!p[i]) continue;
    if (byte >= 0) {
      fprintf(stderr, "%s spans more than one byte\n", name);
      exit(1);
    }
    byte = (int)i;
  }
  if (byte < 0) {
    fprintf(stderr, "%s not found\n", name);
    exit(1);
  }
  unsigned v = p[byte];
  emit(name, "_BYTE", byte);
  emit(name, "_SHIFT", __builtin_ctz(v));
  emit(name, "_BITS", __builtin_popcount(v));
}
#define BITF(P, F, type, member)                    \
  do {                                              \
    type x_;                                        \
    memset(&x_, 0, sizeof x_);                      \
    x_.member--;                                    \
    bitfield(#P "_" #F, (unsigned char *)&x_, sizeof x_); \
  } while (0)

static void xen(void) {
  K_AS(DOMID_FIRST_RESERVED, DOMID_FIRST_RESERVED);
  K_AS(DOMID_SELF, DOMID_SELF);
  K_AS(DOMID_IO, DOMID_IO);
  K_AS(DOMID_XEN, DOMID_XEN);
  K_AS(DOMID_COW, DOMID_COW);
  K_AS(DOMID_INVALID, DOMID_INVALID);
  K_AS(DOMID_IDLE, DOMID_IDLE);
  K_AS(DOMID_MASK, DOMID_MASK);
  K_AS(XEN_EPERM, XEN_EPERM);
  K_AS(XEN_ENOENT, XEN_ENOENT);
  K_AS(XEN_ESRCH, XEN_ESRCH);
  K_AS(XEN_EIO, XEN_EIO);
  K_AS(XEN_E2BIG, XEN_E2BIG);
  K_AS(XEN_EAGAIN, XEN_EAGAIN);
  K_AS(XEN_ENOMEM, XEN_ENOMEM);
  K_AS(XEN_EACCES, XEN_EACCES);
  K_AS(XEN_EFAULT, XEN_EFAULT);
  K_AS(XEN_EBUSY, XEN_EBUSY);
  K_AS(XEN_EEXIST, XEN_EEXIST);
  K_AS(XEN_ENODEV, XEN_ENODEV);
  K_AS(XEN_EINVAL, XEN_EINVAL);
  K_AS(XEN_ENOSPC, XEN_ENOSPC);
  K_AS(XEN_ENOSYS, XEN_ENOSYS);
  K_AS(XEN_EMSGSIZE, XEN_EMSGSIZE);
  K_AS(XEN_EOPNOTSUPP, XEN_EOPNOTSUPP);
  K_AS(XEN_ECONNREFUSED, XEN_ECONNREFUSED);
  K_AS(HYPERVISOR_MMU_UPDATE, __HYPERVISOR_mmu_update);
  K_AS(HYPERVISOR_MEMORY_OP, __HYPERVISOR_memory_op);
  K_AS(HYPERVISOR_GRANT_TABLE_OP, __HYPERVISOR_grant_table_op);
  K_AS(HYPERVISOR_SCHED_OP, __HYPERVISOR_sched_op);
  K_AS(HYPERVISOR_EVENT_CHANNEL_OP, __HYPERVISOR_event_channel_op);
  K_AS(HYPERVISOR_HVM_OP, __HYPERVISOR_hvm_op);
  K_AS(HYPERVISOR_ARGO_OP, __HYPERVISOR_argo_op);
  K_AS(HYPERVISOR_DM_OP, __HYPERVISOR_dm_op);
  K_AS(VIRQ_TIMER, VIRQ_TIMER);
  K_AS(VIRQ_DEBUG, VIRQ_DEBUG);
  K_AS(VIRQ_CONSOLE, VIRQ_CONSOLE);
  K_AS(VIRQ_DOM_EXC, VIRQ_DOM_EXC);
  K_AS(VIRQ_TBUF, VIRQ_TBUF);
  K_AS(VIRQ_DEBUGGER, VIRQ_DEBUGGER);
  K_AS(VIRQ_XENOPROF, VIRQ_XENOPROF);
  K_AS(VIRQ_CON_RING, VIRQ_CON_RING);
  K_AS(VIRQ_PCPU_STATE, VIRQ_PCPU_STATE);
  K_AS(VIRQ_MEM_EVENT, VIRQ_MEM_EVENT);
  K_AS(VIRQ_ARGO, VIRQ_ARGO);
  K_AS(VIRQ_ENOMEM, VIRQ_ENOMEM);
  K_AS(VIRQ_XENPMU, VIRQ_XENPMU);
  K_AS(VIRQ_ARCH_0, VIRQ_ARCH_0);
  K_AS(VIRQ_ARCH_1, VIRQ_ARCH_1);
  K_AS(VIRQ_ARCH_2, VIRQ_ARCH_2);
  K_AS(VIRQ_ARCH_3, VIRQ_ARCH_3);
  K_AS(VIRQ_ARCH_4, VIRQ_ARCH_4);
  K_AS(VIRQ_ARCH_5, VIRQ_ARCH_5);
  K_AS(VIRQ_ARCH_6, VIRQ_ARCH_6);
  K_AS(VIRQ_ARCH_7, VIRQ_ARCH_7);
  K_AS(NR_VIRQS, NR_VIRQS);
}

/* shared_info / vcpu_info: the x86_64 layout (this program must run on x86_64). */
static void shared_info(void) {
#ifndef __x86_64__
#error "shared_info and vcpu_info are checked in their x86_64 layout: build on x86_64"
#endif
  K_AS(ULONG_SIZE, sizeof(xen_ulong_t));
  K_AS(EVTCHN_2L_NR_CHANNELS, EVTCHN_2L_NR_CHANNELS);
  K_AS(XEN_LEGACY_MAX_VCPUS, XEN_LEGACY_MAX_VCPUS);
  SZ(VCPU_INFO, struct vcpu_info);
  OFF(VCPU_INFO, EVTCHN_UPCALL_PENDING, struct vcpu_info, evtchn_upcall_pending);
  OFF(VCPU_INFO, EVTCHN_UPCALL_MASK, struct vcpu_info, evtchn_upcall_mask);
  OFF(VCPU_INFO, EVTCHN_PENDING_SEL, struct vcpu_info, evtchn_pending_sel);
  OFF(VCPU_INFO, ARCH, struct vcpu_info, arch);
  OFF(VCPU_INFO, TIME, struct vcpu_info, time);
  SZ(SHARED_INFO, struct shared_info);
  OFF(SHARED_INFO, VCPU_INFO, struct shared_info, vcpu_info);
  OFF(SHARED_INFO, EVTCHN_PENDING, struct shared_info, evtchn_pending);
  OFF(SHARED_INFO, EVTCHN_MASK, struct shared_info, evtchn_mask);
  OFF(SHARED_INFO, WC_VERSION, struct shared_info, wc_version);
}

static void grant_table(void) {
  SZ(GRANT_ENTRY_V1, grant_entry_v1_t);
  OFF(GRANT_ENTRY_V1, FLAGS, grant_entry_v1_t, flags);
  OFF(GRANT_ENTRY_V1, DOMID, grant_entry_v1_t, domid);
  OFF(GRANT_ENTRY_V1, FRAME, grant_entry_v1_t, frame);
  K_AS(GNTTAB_NR_RESERVED_ENTRIES, GNTTAB_NR_RESERVED_ENTRIES);
  K_AS(GNTTAB_RESERVED_CONSOLE, GNTTAB_RESERVED_CONSOLE);
  K_AS(GNTTAB_RESERVED_XENSTORE, GNTTAB_RESERVED_XENSTORE);

  K_AS(GTF_INVALID, GTF_invalid);
  K_AS(GTF_PERMIT_ACCESS, GTF_permit_access);
  K_AS(GTF_ACCEPT_TRANSFER, GTF_accept_transfer);
  K_AS(GTF_TRANSITIVE, GTF_transitive);
  K_AS(GTF_TYPE_MASK, GTF_type_mask);
  K_AS(GTF_READONLY, GTF_readonly);
  K_AS(GTF_READING, GTF_reading);
  K_AS(GTF_WRITING, GTF_writing);
  K_AS(GTF_PWT, GTF_PWT);
  K_AS(GTF_PCD, GTF_PCD);
  K_AS(GTF_PAT, GTF_PAT);
  K_AS(GTF_SUB_PAGE, GTF_sub_page);
  K_AS(GTF_TRANSFER_COMMITTED, GTF_transfer_committed);
  K_AS(GTF_TRANSFER_COMPLETED, GTF_transfer_completed);

  K_AS(GNTTABOP_MAP_GRANT_REF, GNTTABOP_map_grant_ref);
  K_AS(GNTTABOP_UNMAP_GRANT_REF, GNTTABOP_unmap_grant_ref);
  K_AS(GNTTABOP_SETUP_TABLE, GNTTABOP_setup_table);
  K_AS(GNTTABOP_DUMP_TABLE, GNTTABOP_dump_table);
  K_AS(GNTTABOP_TRANSFER, GNTTABOP_transfer);
  K_AS(GNTTABOP_COPY, GNTTABOP_copy);
  K_AS(GNTTABOP_QUERY_SIZE, GNTTABOP_query_size);
  K_AS(GNTTABOP_UNMAP_AND_REPLACE, GNTTABOP_unmap_and_replace);
  K_AS(GNTTABOP_SET_VERSION, GNTTABOP_set_version);
  K_AS(GNTTABOP_GET_STATUS_FRAMES, GNTTABOP_get_status_frames);
  K_AS(GNTTABOP_GET_VERSION, GNTTABOP_get_version);
  K_AS(GNTTABOP_SWAP_GRANT_REF, GNTTABOP_swap_grant_ref);
  K_AS(GNTTABOP_CACHE_FLUSH, GNTTABOP_cache_flush);

  K_AS(GNTMAP_DEVICE_MAP, GNTMAP_device_map);
  K_AS(GNTMAP_HOST_MAP, GNTMAP_host_map);
  K_AS(GNTMAP_READONLY, GNTMAP_readonly);
  K_AS(GNTMAP_APPLICATION_MAP, GNTMAP_application_map);
  K_AS(GNTMAP_CONTAINS_PTE, GNTMAP_contains_pte);
  K_AS(GNTMAP_GUEST_AVAIL_MASK, GNTMAP_guest_avail_mask);
  K_AS(GNTCOPY_SOURCE_GREF, GNTCOPY_source_gref);
  K_AS(GNTCOPY_DEST_GREF, GNTCOPY_dest_gref);

  K_AS(GNTST_OKAY, GNTST_okay);
  K_AS(GNTST_GENERAL_ERROR, GNTST_general_error);
  K_AS(GNTST_BAD_DOMAIN, GNTST_bad_domain);
  K_AS(GNTST_BAD_GNTREF, GNTST_bad_gntref);
  K_AS(GNTST_BAD_HANDLE, GNTST_bad_handle);
  K_AS(GNTST_BAD_VIRT_ADDR, GNTST_bad_virt_addr);
  K_AS(GNTST_BAD_DEV_ADDR, GNTST_bad_dev_addr);
  K_AS(GNTST_NO_DEVICE_SPACE, GNTST_no_device_space);
  K_AS(GNTST_PERMISSION_DENIED, GNTST_permission_denied);
  K_AS(GNTST_BAD_PAGE, GNTST_bad_page);
  K_AS(GNTST_BAD_COPY_ARG, GNTST_bad_copy_arg);
  K_AS(GNTST_ADDRESS_TOO_BIG, GNTST_address_too_big);
  K_AS(GNTST_EAGAIN, GNTST_eagain);
  K_AS(GNTST_NO_SPACE, GNTST_no_space);

  SZ(GNTTAB_MAP, struct gnttab_map_grant_ref);
  OFF(GNTTAB_MAP, HOST_ADDR, struct gnttab_map_grant_ref, host_addr);
  OFF(GNTTAB_MAP, FLAGS, struct gnttab_map_grant_ref, flags);
  OFF(GNTTAB_MAP, REF, struct gnttab_map_grant_ref, ref);
  OFF(GNTTAB_MAP, DOM, struct gnttab_map_grant_ref, dom);
  OFF(GNTTAB_MAP, STATUS, struct gnttab_map_grant_ref, status);
  OFF(GNTTAB_MAP, HANDLE, struct gnttab_map_grant_ref, handle);
  OFF(GNTTAB_MAP, DEV_BUS_ADDR, struct gnttab_map_grant_ref, dev_bus_addr);

  SZ(GNTTAB_UNMAP, struct gnttab_unmap_grant_ref);
  OFF(GNTTAB_UNMAP, HOST_ADDR, struct gnttab_unmap_grant_ref, host_addr);
  OFF(GNTTAB_UNMAP, DEV_BUS_ADDR, struct gnttab_unmap_grant_ref, dev_bus_addr);
  OFF(GNTTAB_UNMAP, HANDLE, struct gnttab_unmap_grant_ref, handle);
  OFF(GNTTAB_UNMAP, STATUS, struct gnttab_unmap_grant_ref, status);

  SZ(GNTTAB_SETUP_TABLE, struct gnttab_setup_table);
  OFF(GNTTAB_SETUP_TABLE, DOM, struct gnttab_setup_table, dom);
  OFF(GNTTAB_SETUP_TABLE, NR_FRAMES, struct gnttab_setup_table, nr_frames);
  OFF(GNTTAB_SETUP_TABLE, STATUS, struct gnttab_setup_table, status);
  OFF(GNTTAB_SETUP_TABLE, FRAME_LIST, struct gnttab_setup_table, frame_list);

  SZ(GNTTAB_QUERY_SIZE, struct gnttab_query_size);
  OFF(GNTTAB_QUERY_SIZE, DOM, struct gnttab_query_size, dom);
  OFF(GNTTAB_QUERY_SIZE, NR_FRAMES, struct gnttab_query_size, nr_frames);
  OFF(GNTTAB_QUERY_SIZE, MAX_NR_FRAMES, struct gnttab_query_size, max_nr_frames);
  OFF(GNTTAB_QUERY_SIZE, STATUS, struct gnttab_query_size, status);

  SZ(GNTTAB_COPY, struct gnttab_copy);
  OFF(GNTTAB_COPY, SOURCE, struct gnttab_copy, source);
  OFF(GNTTAB_COPY, SOURCE_REF, struct gnttab_copy, source.u.ref);
  OFF(GNTTAB_COPY, SOURCE_GMFN, struct gnttab_copy, source.u.gmfn);
  OFF(GNTTAB_COPY, SOURCE_DOMID, struct gnttab_copy, source.domid);
  OFF(GNTTAB_COPY, SOURCE_OFFSET, struct gnttab_copy, source.offset);
  OFF(GNTTAB_COPY, DEST, struct gnttab_copy, dest);
  OFF(GNTTAB_COPY, DEST_REF, struct gnttab_copy, dest.u.ref);
  OFF(GNTTAB_COPY, DEST_GMFN, struct gnttab_copy, dest.u.gmfn);
  OFF(GNTTAB_COPY, DEST_DOMID, struct gnttab_copy, dest.domid);
  OFF(GNTTAB_COPY, DEST_OFFSET, struct gnttab_copy, dest.offset);
  OFF(GNTTAB_COPY, LEN, struct gnttab_copy, len);
  OFF(GNTTAB_COPY, FLAGS, struct gnttab_copy, flags);
  OFF(GNTTAB_COPY, STATUS, struct gnttab_copy, status);
}

static void event_channel(void) {
  K_AS(EVTCHNOP_BIND_INTERDOMAIN, EVTCHNOP_bind_interdomain);
  K_AS(EVTCHNOP_BIND_VIRQ, EVTCHNOP_bind_virq);
  K_AS(EVTCHNOP_BIND_PIRQ, EVTCHNOP_bind_pirq);
  K_AS(EVTCHNOP_CLOSE, EVTCHNOP_close);
  K_AS(EVTCHNOP_SEND, EVTCHNOP_send);
  K_AS(EVTCHNOP_STATUS, EVTCHNOP_status);
  K_AS(EVTCHNOP_ALLOC_UNBOUND, EVTCHNOP_alloc_unbound);
  K_AS(EVTCHNOP_BIND_IPI, EVTCHNOP_bind_ipi);
  K_AS(EVTCHNOP_BIND_VCPU, EVTCHNOP_bind_vcpu);
  K_AS(EVTCHNOP_UNMASK, EVTCHNOP_unmask);
  K_AS(EVTCHNOP_RESET, EVTCHNOP_reset);
  K_AS(EVTCHNOP_INIT_CONTROL, EVTCHNOP_init_control);
  K_AS(EVTCHNOP_EXPAND_ARRAY, EVTCHNOP_expand_array);
  K_AS(EVTCHNOP_SET_PRIORITY, EVTCHNOP_set_priority);
  K_AS(EVTCHNSTAT_CLOSED, EVTCHNSTAT_closed);
  K_AS(EVTCHNSTAT_UNBOUND, EVTCHNSTAT_unbound);
  K_AS(EVTCHNSTAT_INTERDOMAIN, EVTCHNSTAT_interdomain);
  K_AS(EVTCHNSTAT_PIRQ, EVTCHNSTAT_pirq);
  K_AS(EVTCHNSTAT_VIRQ, EVTCHNSTAT_virq);
  K_AS(EVTCHNSTAT_IPI, EVTCHNSTAT_ipi);

  SZ(EVTCHN_ALLOC_UNBOUND, struct evtchn_alloc_unbound);
  OFF(EVTCHN_ALLOC_UNBOUND, DOM, struct evtchn_alloc_unbound, dom);
  OFF(EVTCHN_ALLOC_UNBOUND, REMOTE_DOM, struct evtchn_alloc_unbound, remote_dom);
  OFF(EVTCHN_ALLOC_UNBOUND, PORT, struct evtchn_alloc_unbound, port);
  SZ(EVTCHN_BIND_INTERDOMAIN, struct evtchn_bind_interdomain);
  OFF(EVTCHN_BIND_INTERDOMAIN, REMOTE_DOM, struct evtchn_bind_interdomain, remote_dom);
  OFF(EVTCHN_BIND_INTERDOMAIN, REMOTE_PORT, struct evtchn_bind_interdomain, remote_port);
  OFF(EVTCHN_BIND_INTERDOMAIN, LOCAL_PORT, struct evtchn_bind_interdomain, local_port);
  SZ(EVTCHN_BIND_VIRQ, struct evtchn_bind_virq);
  OFF(EVTCHN_BIND_VIRQ, VIRQ, struct evtchn_bind_virq, virq);
  OFF(EVTCHN_BIND_VIRQ, VCPU, struct evtchn_bind_virq, vcpu);
  OFF(EVTCHN_BIND_VIRQ, PORT, struct evtchn_bind_virq, port);
  SZ(EVTCHN_BIND_IPI, struct evtchn_bind_ipi);
  OFF(EVTCHN_BIND_IPI, VCPU, struct evtchn_bind_ipi, vcpu);
  OFF(EVTCHN_BIND_IPI, PORT, struct evtchn_bind_ipi, port);
  SZ(EVTCHN_BIND_VCPU, struct evtchn_bind_vcpu);
  OFF(EVTCHN_BIND_VCPU, PORT, struct evtchn_bind_vcpu, port);
  OFF(EVTCHN_BIND_VCPU, VCPU, struct evtchn_bind_vcpu, vcpu);
  SZ(EVTCHN_SEND, struct evtchn_send);
  OFF(EVTCHN_SEND, PORT, struct evtchn_send, port);
  SZ(EVTCHN_CLOSE, struct evtchn_close);
  OFF(EVTCHN_CLOSE, PORT, struct evtchn_close, port);
  SZ(EVTCHN_UNMASK, struct evtchn_unmask);
  OFF(EVTCHN_UNMASK, PORT, struct evtchn_unmask, port);
  SZ(EVTCHN_STATUS, struct evtchn_status);
  OFF(EVTCHN_STATUS, DOM, struct evtchn_status, dom);
  OFF(EVTCHN_STATUS, PORT, struct evtchn_status, port);
  OFF(EVTCHN_STATUS, STATUS, struct evtchn_status, status);
  OFF(EVTCHN_STATUS, VCPU, struct evtchn_status, vcpu);
  OFF(EVTCHN_STATUS, UNBOUND, struct evtchn_status, u.unbound);
  OFF(EVTCHN_STATUS, UNBOUND_DOM, struct evtchn_status, u.unbound.dom);
  OFF(EVTCHN_STATUS, INTERDOMAIN, struct evtchn_status, u.interdomain);
  OFF(EVTCHN_STATUS, INTERDOMAIN_DOM, struct evtchn_status, u.interdomain.dom);
  OFF(EVTCHN_STATUS, INTERDOMAIN_PORT, struct evtchn_status, u.interdomain.port);
  OFF(EVTCHN_STATUS, PIRQ, struct evtchn_status, u.pirq);
  OFF(EVTCHN_STATUS, VIRQ, struct evtchn_status, u.virq);
}

static void ioreq(void) {
  K_AS(IOREQ_READ, IOREQ_READ);
  K_AS(IOREQ_WRITE, IOREQ_WRITE);
  K_AS(IOREQ_TYPE_PIO, IOREQ_TYPE_PIO);
  K_AS(IOREQ_TYPE_COPY, IOREQ_TYPE_COPY);
  K_AS(IOREQ_TYPE_PCI_CONFIG, IOREQ_TYPE_PCI_CONFIG);
  K_AS(IOREQ_TYPE_TIMEOFFSET, IOREQ_TYPE_TIMEOFFSET);
  K_AS(IOREQ_TYPE_INVALIDATE, IOREQ_TYPE_INVALIDATE);
  K_AS(STATE_IOREQ_NONE, STATE_IOREQ_NONE);
  K_AS(STATE_IOREQ_READY, STATE_IOREQ_READY);
  K_AS(STATE_IOREQ_INPROCESS, STATE_IOREQ_INPROCESS);
  K_AS(STATE_IORESP_READY, STATE_IORESP_READY);

  SZ(IOREQ, ioreq_t);
  OFF(IOREQ, ADDR, ioreq_t, addr);
  OFF(IOREQ, DATA, ioreq_t, data);
  OFF(IOREQ, COUNT, ioreq_t, count);
  OFF(IOREQ, SIZE_OFF, ioreq_t, size);
  OFF(IOREQ, VP_EPORT, ioreq_t, vp_eport);
  OFF(IOREQ, PAD0, ioreq_t, _pad0);
  BITF(IOREQ, STATE, ioreq_t, state);
  BITF(IOREQ, DATA_IS_PTR, ioreq_t, data_is_ptr);
  BITF(IOREQ, DIR, ioreq_t, dir);
  BITF(IOREQ, DF, ioreq_t, df);
  BITF(IOREQ, PAD1, ioreq_t, _pad1);
  OFF(IOREQ, TYPE, ioreq_t, type);
}

static void argo(void) {
  K_AS(XEN_ARGO_DOMID_ANY, XEN_ARGO_DOMID_ANY);
  K_AS(XEN_ARGO_MAX_RING_SIZE, XEN_ARGO_MAX_RING_SIZE);
  K_AS(XEN_ARGO_MAXIOV, XEN_ARGO_MAXIOV);
  K_AS(XEN_ARGO_MSG_SLOT_SIZE, XEN_ARGO_MSG_SLOT_SIZE);
  K_AS(XEN_ARGO_OP_REGISTER_RING, XEN_ARGO_OP_register_ring);
  K_AS(XEN_ARGO_OP_UNREGISTER_RING, XEN_ARGO_OP_unregister_ring);
  K_AS(XEN_ARGO_OP_SENDV, XEN_ARGO_OP_sendv);
  K_AS(XEN_ARGO_OP_NOTIFY, XEN_ARGO_OP_notify);
  K_AS(XEN_ARGO_REGISTER_FLAG_FAIL_EXIST, XEN_ARGO_REGISTER_FLAG_FAIL_EXIST);
  K_AS(XEN_ARGO_RING_EXISTS, XEN_ARGO_RING_EXISTS);
  K_AS(XEN_ARGO_RING_SHARED, XEN_ARGO_RING_SHARED);
  K_AS(XEN_ARGO_RING_EMPTY, XEN_ARGO_RING_EMPTY);
  K_AS(XEN_ARGO_RING_SUFFICIENT, XEN_ARGO_RING_SUFFICIENT);
  K_AS(XEN_ARGO_RING_EMSGSIZE, XEN_ARGO_RING_EMSGSIZE);
  K_AS(XEN_ARGO_RING_EBUSY, XEN_ARGO_RING_EBUSY);

  SZ(ARGO_ADDR, xen_argo_addr_t);
  OFF(ARGO_ADDR, APORT, xen_argo_addr_t, aport);
  OFF(ARGO_ADDR, DOMAIN_ID, xen_argo_addr_t, domain_id);
  OFF(ARGO_ADDR, PAD, xen_argo_addr_t, pad);
  SZ(ARGO_SEND_ADDR, xen_argo_send_addr_t);
  OFF(ARGO_SEND_ADDR, SRC, xen_argo_send_addr_t, src);
  OFF(ARGO_SEND_ADDR, SRC_APORT, xen_argo_send_addr_t, src.aport);
  OFF(ARGO_SEND_ADDR, SRC_DOMAIN_ID, xen_argo_send_addr_t, src.domain_id);
  OFF(ARGO_SEND_ADDR, SRC_PAD, xen_argo_send_addr_t, src.pad);
  OFF(ARGO_SEND_ADDR, DST, xen_argo_send_addr_t, dst);
  OFF(ARGO_SEND_ADDR, DST_APORT, xen_argo_send_addr_t, dst.aport);
  OFF(ARGO_SEND_ADDR, DST_DOMAIN_ID, xen_argo_send_addr_t, dst.domain_id);
  OFF(ARGO_SEND_ADDR, DST_PAD, xen_argo_send_addr_t, dst.pad);
  SZ(ARGO_IOV, xen_argo_iov_t);
  OFF(ARGO_IOV, IOV_HND, xen_argo_iov_t, iov_hnd);
  OFF(ARGO_IOV, IOV_LEN, xen_argo_iov_t, iov_len);
  OFF(ARGO_IOV, PAD, xen_argo_iov_t, pad);
  SZ(ARGO_RING, xen_argo_ring_t);
  OFF(ARGO_RING, RX_PTR, xen_argo_ring_t, rx_ptr);
  OFF(ARGO_RING, TX_PTR, xen_argo_ring_t, tx_ptr);
  OFF(ARGO_RING, RESERVED, xen_argo_ring_t, reserved);
  OFF(ARGO_RING, RING, xen_argo_ring_t, ring);
  SZ(ARGO_REGISTER_RING, xen_argo_register_ring_t);
  OFF(ARGO_REGISTER_RING, APORT, xen_argo_register_ring_t, aport);
  OFF(ARGO_REGISTER_RING, PARTNER_ID, xen_argo_register_ring_t, partner_id);
  OFF(ARGO_REGISTER_RING, PAD, xen_argo_register_ring_t, pad);
  OFF(ARGO_REGISTER_RING, LEN, xen_argo_register_ring_t, len);
  SZ(ARGO_UNREGISTER_RING, xen_argo_unregister_ring_t);
  OFF(ARGO_UNREGISTER_RING, APORT, xen_argo_unregister_ring_t, aport);
  OFF(ARGO_UNREGISTER_RING, PARTNER_ID, xen_argo_unregister_ring_t, partner_id);
  OFF(ARGO_UNREGISTER_RING, PAD, xen_argo_unregister_ring_t, pad);
  SZ(ARGO_RING_DATA_ENT, xen_argo_ring_data_ent_t);
  OFF(ARGO_RING_DATA_ENT, RING, xen_argo_ring_data_ent_t, ring);
  OFF(ARGO_RING_DATA_ENT, RING_APORT, xen_argo_ring_data_ent_t, ring.aport);
  OFF(ARGO_RING_DATA_ENT, RING_DOMAIN_ID, xen_argo_ring_data_ent_t, ring.domain_id);
  OFF(ARGO_RING_DATA_ENT, RING_PAD, xen_argo_ring_data_ent_t, ring.pad);
  OFF(ARGO_RING_DATA_ENT, FLAGS, xen_argo_ring_data_ent_t, flags);
  OFF(ARGO_RING_DATA_ENT, PAD, xen_argo_ring_data_ent_t, pad);
  OFF(ARGO_RING_DATA_ENT, SPACE_REQUIRED, xen_argo_ring_data_ent_t, space_required);
  OFF(ARGO_RING_DATA_ENT, MAX_MESSAGE_SIZE, xen_argo_ring_data_ent_t, max_message_size);
  SZ(ARGO_RING_DATA, xen_argo_ring_data_t);
  OFF(ARGO_RING_DATA, NENT, xen_argo_ring_data_t, nent);
  OFF(ARGO_RING_DATA, PAD, xen_argo_ring_data_t, pad);
  OFF(ARGO_RING_DATA, DATA, xen_argo_ring_data_t, data);
  SZ(ARGO_RING_MESSAGE_HEADER, struct xen_argo_ring_message_header);
  OFF(ARGO_RING_MESSAGE_HEADER, LEN, struct xen_argo_ring_message_header, len);
  OFF(ARGO_RING_MESSAGE_HEADER, SOURCE, struct xen_argo_ring_message_header, source);
  OFF(ARGO_RING_MESSAGE_HEADER, SOURCE_APORT, struct xen_argo_ring_message_header, source.aport);
  OFF(ARGO_RING_MESSAGE_HEADER, SOURCE_DOMAIN_ID, struct xen_argo_ring_message_header, source.domain_id);
  OFF(ARGO_RING_MESSAGE_HEADER, SOURCE_PAD, struct xen_argo_ring_message_header, source.pad);
  OFF(ARGO_RING_MESSAGE_HEADER, MESSAGE_TYPE, struct xen_argo_ring_message_header, message_type);
  OFF(ARGO_RING_MESSAGE_HEADER, DATA, struct xen_argo_ring_message_header, data);
  K_AS(ARGO_GFN_SIZE, sizeof(xen_argo_gfn_t));
}

static void memory(void) {
  K_AS(XENMEM_ADD_TO_PHYSMAP, XENMEM_add_to_physmap);
  K_AS(XENMEM_REMOVE_FROM_PHYSMAP, XENMEM_remove_from_physmap);
  K_AS(XENMEM_ADD_TO_PHYSMAP_BATCH, XENMEM_add_to_physmap_batch);
  K_AS(XENMEM_ACQUIRE_RESOURCE, XENMEM_acquire_resource);
  K_AS(XENMAPSPACE_SHARED_INFO, XENMAPSPACE_shared_info);
  K_AS(XENMAPSPACE_GRANT_TABLE, XENMAPSPACE_grant_table);
  K_AS(XENMAPSPACE_GMFN, XENMAPSPACE_gmfn);
  K_AS(XENMAPSPACE_GMFN_RANGE, XENMAPSPACE_gmfn_range);
  K_AS(XENMAPSPACE_GMFN_FOREIGN, XENMAPSPACE_gmfn_foreign);
  K_AS(XENMAPSPACE_DEV_MMIO, XENMAPSPACE_dev_mmio);
  K_AS(XENMAPIDX_GRANT_TABLE_STATUS, XENMAPIDX_grant_table_status);
  K_AS(XENMEM_RESOURCE_IOREQ_SERVER, XENMEM_resource_ioreq_server);
  K_AS(XENMEM_RESOURCE_GRANT_TABLE, XENMEM_resource_grant_table);
  K_AS(XENMEM_RESOURCE_VMTRACE_BUF, XENMEM_resource_vmtrace_buf);
  K_AS(XENMEM_RESOURCE_GRANT_TABLE_ID_SHARED, XENMEM_resource_grant_table_id_shared);
  K_AS(XENMEM_RESOURCE_GRANT_TABLE_ID_STATUS, XENMEM_resource_grant_table_id_status);
  K_AS(XENMEM_RESOURCE_IOREQ_SERVER_FRAME_BUFIOREQ, XENMEM_resource_ioreq_server_frame_bufioreq);
  K_AS(XENMEM_RESOURCE_IOREQ_SERVER_FRAME_IOREQ_0, XENMEM_resource_ioreq_server_frame_ioreq(0));
  K_AS(PFN_SIZE, sizeof(xen_pfn_t));

  SZ(ADD_TO_PHYSMAP, struct xen_add_to_physmap);
  OFF(ADD_TO_PHYSMAP, DOMID, struct xen_add_to_physmap, domid);
  OFF(ADD_TO_PHYSMAP, SIZE_OFF, struct xen_add_to_physmap, size);
  OFF(ADD_TO_PHYSMAP, SPACE, struct xen_add_to_physmap, space);
  OFF(ADD_TO_PHYSMAP, IDX, struct xen_add_to_physmap, idx);
  OFF(ADD_TO_PHYSMAP, GPFN, struct xen_add_to_physmap, gpfn);
  SZ(ADD_TO_PHYSMAP_BATCH, struct xen_add_to_physmap_batch);
  OFF(ADD_TO_PHYSMAP_BATCH, DOMID, struct xen_add_to_physmap_batch, domid);
  OFF(ADD_TO_PHYSMAP_BATCH, SPACE, struct xen_add_to_physmap_batch, space);
  OFF(ADD_TO_PHYSMAP_BATCH, SIZE_OFF, struct xen_add_to_physmap_batch, size);
  OFF(ADD_TO_PHYSMAP_BATCH, FOREIGN_DOMID, struct xen_add_to_physmap_batch, u.foreign_domid);
  OFF(ADD_TO_PHYSMAP_BATCH, IDXS, struct xen_add_to_physmap_batch, idxs);
  OFF(ADD_TO_PHYSMAP_BATCH, GPFNS, struct xen_add_to_physmap_batch, gpfns);
  OFF(ADD_TO_PHYSMAP_BATCH, ERRS, struct xen_add_to_physmap_batch, errs);
  SZ(REMOVE_FROM_PHYSMAP, struct xen_remove_from_physmap);
  OFF(REMOVE_FROM_PHYSMAP, DOMID, struct xen_remove_from_physmap, domid);
  OFF(REMOVE_FROM_PHYSMAP, GPFN, struct xen_remove_from_physmap, gpfn);
  SZ(MEM_ACQUIRE_RESOURCE, struct xen_mem_acquire_resource);
  OFF(MEM_ACQUIRE_RESOURCE, DOMID, struct xen_mem_acquire_resource, domid);
  OFF(MEM_ACQUIRE_RESOURCE, TYPE, struct xen_mem_acquire_resource, type);
  OFF(MEM_ACQUIRE_RESOURCE, ID, struct xen_mem_acquire_resource, id);
  OFF(MEM_ACQUIRE_RESOURCE, NR_FRAMES, struct xen_mem_acquire_resource, nr_frames);
  OFF(MEM_ACQUIRE_RESOURCE, PAD, struct xen_mem_acquire_resource, pad);
  OFF(MEM_ACQUIRE_RESOURCE, FRAME, struct xen_mem_acquire_resource, frame);
  OFF(MEM_ACQUIRE_RESOURCE, FRAME_LIST, struct xen_mem_acquire_resource, frame_list);
}

static void dm_op(void) {
  K_AS(HVM_IOREQSRV_BUFIOREQ_OFF, HVM_IOREQSRV_BUFIOREQ_OFF);
  K_AS(HVM_IOREQSRV_BUFIOREQ_LEGACY, HVM_IOREQSRV_BUFIOREQ_LEGACY);
  K_AS(HVM_IOREQSRV_BUFIOREQ_ATOMIC, HVM_IOREQSRV_BUFIOREQ_ATOMIC);
  K_AS(XEN_DMOP_CREATE_IOREQ_SERVER, XEN_DMOP_create_ioreq_server);
  K_AS(XEN_DMOP_GET_IOREQ_SERVER_INFO, XEN_DMOP_get_ioreq_server_info);
  K_AS(XEN_DMOP_MAP_IO_RANGE_TO_IOREQ_SERVER, XEN_DMOP_map_io_range_to_ioreq_server);
  K_AS(XEN_DMOP_UNMAP_IO_RANGE_FROM_IOREQ_SERVER, XEN_DMOP_unmap_io_range_from_ioreq_server);
  K_AS(XEN_DMOP_SET_IOREQ_SERVER_STATE, XEN_DMOP_set_ioreq_server_state);
  K_AS(XEN_DMOP_DESTROY_IOREQ_SERVER, XEN_DMOP_destroy_ioreq_server);
  K_AS(XEN_DMOP_TRACK_DIRTY_VRAM, XEN_DMOP_track_dirty_vram);
  K_AS(XEN_DMOP_SET_PCI_INTX_LEVEL, XEN_DMOP_set_pci_intx_level);
  K_AS(XEN_DMOP_SET_ISA_IRQ_LEVEL, XEN_DMOP_set_isa_irq_level);
  K_AS(XEN_DMOP_SET_PCI_LINK_ROUTE, XEN_DMOP_set_pci_link_route);
  K_AS(XEN_DMOP_MODIFIED_MEMORY, XEN_DMOP_modified_memory);
  K_AS(XEN_DMOP_SET_MEM_TYPE, XEN_DMOP_set_mem_type);
  K_AS(XEN_DMOP_INJECT_EVENT, XEN_DMOP_inject_event);
  K_AS(XEN_DMOP_INJECT_MSI, XEN_DMOP_inject_msi);
  K_AS(XEN_DMOP_MAP_MEM_TYPE_TO_IOREQ_SERVER, XEN_DMOP_map_mem_type_to_ioreq_server);
  K_AS(XEN_DMOP_REMOTE_SHUTDOWN, XEN_DMOP_remote_shutdown);
  K_AS(XEN_DMOP_RELOCATE_MEMORY, XEN_DMOP_relocate_memory);
  K_AS(XEN_DMOP_PIN_MEMORY_CACHEATTR, XEN_DMOP_pin_memory_cacheattr);
  K_AS(XEN_DMOP_SET_IRQ_LEVEL, XEN_DMOP_set_irq_level);
  K_AS(XEN_DMOP_NR_VCPUS, XEN_DMOP_nr_vcpus);
  K_AS(XEN_DMOP_NO_GFNS, XEN_DMOP_no_gfns);
  K_AS(XEN_DMOP_IO_RANGE_PORT, XEN_DMOP_IO_RANGE_PORT);
  K_AS(XEN_DMOP_IO_RANGE_MEMORY, XEN_DMOP_IO_RANGE_MEMORY);
  K_AS(XEN_DMOP_IO_RANGE_PCI, XEN_DMOP_IO_RANGE_PCI);

  SZ(DM_OP, struct xen_dm_op);
  OFF(DM_OP, OP, struct xen_dm_op, op);
  OFF(DM_OP, PAD, struct xen_dm_op, pad);
  OFF(DM_OP, U, struct xen_dm_op, u);
  SZ(DM_OP_CREATE_IOREQ_SERVER, struct xen_dm_op_create_ioreq_server);
  OFF(DM_OP_CREATE_IOREQ_SERVER, HANDLE_BUFIOREQ, struct xen_dm_op_create_ioreq_server, handle_bufioreq);
  OFF(DM_OP_CREATE_IOREQ_SERVER, PAD, struct xen_dm_op_create_ioreq_server, pad);
  OFF(DM_OP_CREATE_IOREQ_SERVER, ID, struct xen_dm_op_create_ioreq_server, id);
  SZ(DM_OP_GET_IOREQ_SERVER_INFO, struct xen_dm_op_get_ioreq_server_info);
  OFF(DM_OP_GET_IOREQ_SERVER_INFO, ID, struct xen_dm_op_get_ioreq_server_info, id);
  OFF(DM_OP_GET_IOREQ_SERVER_INFO, FLAGS, struct xen_dm_op_get_ioreq_server_info, flags);
  OFF(DM_OP_GET_IOREQ_SERVER_INFO, BUFIOREQ_PORT, struct xen_dm_op_get_ioreq_server_info, bufioreq_port);
  OFF(DM_OP_GET_IOREQ_SERVER_INFO, IOREQ_GFN, struct xen_dm_op_get_ioreq_server_info, ioreq_gfn);
  OFF(DM_OP_GET_IOREQ_SERVER_INFO, BUFIOREQ_GFN, struct xen_dm_op_get_ioreq_server_info, bufioreq_gfn);
  SZ(DM_OP_IOREQ_SERVER_RANGE, struct xen_dm_op_ioreq_server_range);
  OFF(DM_OP_IOREQ_SERVER_RANGE, ID, struct xen_dm_op_ioreq_server_range, id);
  OFF(DM_OP_IOREQ_SERVER_RANGE, PAD, struct xen_dm_op_ioreq_server_range, pad);
  OFF(DM_OP_IOREQ_SERVER_RANGE, TYPE, struct xen_dm_op_ioreq_server_range, type);
  OFF(DM_OP_IOREQ_SERVER_RANGE, START, struct xen_dm_op_ioreq_server_range, start);
  OFF(DM_OP_IOREQ_SERVER_RANGE, END, struct xen_dm_op_ioreq_server_range, end);
  SZ(DM_OP_SET_IOREQ_SERVER_STATE, struct xen_dm_op_set_ioreq_server_state);
  OFF(DM_OP_SET_IOREQ_SERVER_STATE, ID, struct xen_dm_op_set_ioreq_server_state, id);
  OFF(DM_OP_SET_IOREQ_SERVER_STATE, ENABLED, struct xen_dm_op_set_ioreq_server_state, enabled);
  OFF(DM_OP_SET_IOREQ_SERVER_STATE, PAD, struct xen_dm_op_set_ioreq_server_state, pad);
  SZ(DM_OP_DESTROY_IOREQ_SERVER, struct xen_dm_op_destroy_ioreq_server);
  OFF(DM_OP_DESTROY_IOREQ_SERVER, ID, struct xen_dm_op_destroy_ioreq_server, id);
  OFF(DM_OP_DESTROY_IOREQ_SERVER, PAD, struct xen_dm_op_destroy_ioreq_server, pad);
  SZ(DM_OP_SET_IRQ_LEVEL, struct xen_dm_op_set_irq_level);
  OFF(DM_OP_SET_IRQ_LEVEL, IRQ, struct xen_dm_op_set_irq_level, irq);
  OFF(DM_OP_SET_IRQ_LEVEL, LEVEL, struct xen_dm_op_set_irq_level, level);
  OFF(DM_OP_SET_IRQ_LEVEL, PAD, struct xen_dm_op_set_irq_level, pad);
  SZ(DM_OP_SET_ISA_IRQ_LEVEL, struct xen_dm_op_set_isa_irq_level);
  OFF(DM_OP_SET_ISA_IRQ_LEVEL, ISA_IRQ, struct xen_dm_op_set_isa_irq_level, isa_irq);
  OFF(DM_OP_SET_ISA_IRQ_LEVEL, LEVEL, struct xen_dm_op_set_isa_irq_level, level);
  SZ(DM_OP_NR_VCPUS, struct xen_dm_op_nr_vcpus);
  OFF(DM_OP_NR_VCPUS, VCPUS, struct xen_dm_op_nr_vcpus, vcpus);
  SZ(DM_OP_BUF, struct xen_dm_op_buf);
  OFF(DM_OP_BUF, H, struct xen_dm_op_buf, h);
  OFF(DM_OP_BUF, SIZE_OFF, struct xen_dm_op_buf, size);
}

static void xenstore(void) {
  K_AS(XS_CONTROL, XS_CONTROL);
  K_AS(XS_DIRECTORY, XS_DIRECTORY);
  K_AS(XS_READ, XS_READ);
  K_AS(XS_GET_PERMS, XS_GET_PERMS);
  K_AS(XS_WATCH, XS_WATCH);
  K_AS(XS_UNWATCH, XS_UNWATCH);
  K_AS(XS_TRANSACTION_START, XS_TRANSACTION_START);
  K_AS(XS_TRANSACTION_END, XS_TRANSACTION_END);
  K_AS(XS_INTRODUCE, XS_INTRODUCE);
  K_AS(XS_RELEASE, XS_RELEASE);
  K_AS(XS_GET_DOMAIN_PATH, XS_GET_DOMAIN_PATH);
  K_AS(XS_WRITE, XS_WRITE);
  K_AS(XS_MKDIR, XS_MKDIR);
  K_AS(XS_RM, XS_RM);
  K_AS(XS_SET_PERMS, XS_SET_PERMS);
  K_AS(XS_WATCH_EVENT, XS_WATCH_EVENT);
  K_AS(XS_ERROR, XS_ERROR);
  K_AS(XS_IS_DOMAIN_INTRODUCED, XS_IS_DOMAIN_INTRODUCED);
  K_AS(XS_RESUME, XS_RESUME);
  K_AS(XS_SET_TARGET, XS_SET_TARGET);
  K_AS(XS_RESET_WATCHES, XS_RESET_WATCHES);
  K_AS(XS_DIRECTORY_PART, XS_DIRECTORY_PART);
  SZ(XSD_SOCKMSG, struct xsd_sockmsg);
  OFF(XSD_SOCKMSG, TYPE, struct xsd_sockmsg, type);
  OFF(XSD_SOCKMSG, REQ_ID, struct xsd_sockmsg, req_id);
  OFF(XSD_SOCKMSG, TX_ID, struct xsd_sockmsg, tx_id);
  OFF(XSD_SOCKMSG, LEN, struct xsd_sockmsg, len);
  K_AS(XENSTORE_RING_SIZE, XENSTORE_RING_SIZE);
  K_AS(XENSTORE_PAYLOAD_MAX, XENSTORE_PAYLOAD_MAX);
  K_AS(XENSTORE_ABS_PATH_MAX, XENSTORE_ABS_PATH_MAX);
  K_AS(XENSTORE_REL_PATH_MAX, XENSTORE_REL_PATH_MAX);
  K_AS(XENSTORE_SERVER_FEATURE_RECONNECTION, XENSTORE_SERVER_FEATURE_RECONNECTION);
  K_AS(XENSTORE_SERVER_FEATURE_ERROR, XENSTORE_SERVER_FEATURE_ERROR);
  K_AS(XENSTORE_CONNECTED, XENSTORE_CONNECTED);
  K_AS(XENSTORE_RECONNECT, XENSTORE_RECONNECT);
  K_AS(XENSTORE_ERROR_NONE, XENSTORE_ERROR_NONE);
  K_AS(XENSTORE_ERROR_COMM, XENSTORE_ERROR_COMM);
  K_AS(XENSTORE_ERROR_RINGIDX, XENSTORE_ERROR_RINGIDX);
  K_AS(XENSTORE_ERROR_PROTO, XENSTORE_ERROR_PROTO);
  SZ(XENSTORE_DOMAIN_INTERFACE, struct xenstore_domain_interface);
  OFF(XENSTORE_DOMAIN_INTERFACE, REQ, struct xenstore_domain_interface, req);
  OFF(XENSTORE_DOMAIN_INTERFACE, RSP, struct xenstore_domain_interface, rsp);
  OFF(XENSTORE_DOMAIN_INTERFACE, REQ_CONS, struct xenstore_domain_interface, req_cons);
  OFF(XENSTORE_DOMAIN_INTERFACE, REQ_PROD, struct xenstore_domain_interface, req_prod);
  OFF(XENSTORE_DOMAIN_INTERFACE, RSP_CONS, struct xenstore_domain_interface, rsp_cons);
  OFF(XENSTORE_DOMAIN_INTERFACE, RSP_PROD, struct xenstore_domain_interface, rsp_prod);
  OFF(XENSTORE_DOMAIN_INTERFACE, SERVER_FEATURES, struct xenstore_domain_interface, server_features);
  OFF(XENSTORE_DOMAIN_INTERFACE, CONNECTION, struct xenstore_domain_interface, connection);
  OFF(XENSTORE_DOMAIN_INTERFACE, ERROR, struct xenstore_domain_interface, error);
  K_AS(XENBUS_STATE_UNKNOWN, XenbusStateUnknown);
  K_AS(XENBUS_STATE_INITIALISING, XenbusStateInitialising);
  K_AS(XENBUS_STATE_INIT_WAIT, XenbusStateInitWait);
  K_AS(XENBUS_STATE_INITIALISED, XenbusStateInitialised);
  K_AS(XENBUS_STATE_CONNECTED, XenbusStateConnected);
  K_AS(XENBUS_STATE_CLOSING, XenbusStateClosing);
  K_AS(XENBUS_STATE_CLOSED, XenbusStateClosed);
  K_AS(XENBUS_STATE_RECONFIGURING, XenbusStateReconfiguring);
  K_AS(XENBUS_STATE_RECONFIGURED, XenbusStateReconfigured);
}

int main(void) {
  xen();
  grant_table();
  event_channel();
  ioreq();
  argo();
  shared_info();
  memory();
  dm_op();
  xenstore();
  printf("\n}\n");
  return 0;
}
