/* Prints the Xen public ABI as vxsim names it (assembly/layout.ts, section "Xen ABI") for
 * test/xen-layout.test.ts: one JSON object, name -> value, built against the real headers
 * (Debian libxen-dev). Names follow the rule at the top of that section. */
#define __XEN_INTERFACE_VERSION__ __XEN_LATEST_INTERFACE_VERSION__ /* the current guest ABI */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>
#include <xen/hvm/ioreq.h>
#include <xen/argo.h>

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
  K_AS(HYPERVISOR_MMU_UPDATE, __HYPERVISOR_mmu_update);
  K_AS(HYPERVISOR_MEMORY_OP, __HYPERVISOR_memory_op);
  K_AS(HYPERVISOR_GRANT_TABLE_OP, __HYPERVISOR_grant_table_op);
  K_AS(HYPERVISOR_SCHED_OP, __HYPERVISOR_sched_op);
  K_AS(HYPERVISOR_EVENT_CHANNEL_OP, __HYPERVISOR_event_channel_op);
  K_AS(HYPERVISOR_HVM_OP, __HYPERVISOR_hvm_op);
  K_AS(HYPERVISOR_ARGO_OP, __HYPERVISOR_argo_op);
  K_AS(HYPERVISOR_DM_OP, __HYPERVISOR_dm_op);
  K_AS(VIRQ_TIMER, VIRQ_TIMER);
  K_AS(VIRQ_ARGO, VIRQ_ARGO);
  K_AS(NR_VIRQS, NR_VIRQS);
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
}

int main(void) {
  xen();
  grant_table();
  event_channel();
  ioreq();
  argo();
  printf("\n}\n");
  return 0;
}
