/* Evaluates the Linux uapi vring helpers for test/vring-native.test.ts.
 * stdin: (event, new, old) triples as little-endian u16s.
 * stdout: one JSON object with
 *   "constants":  uapi constants under vxsim's names (assembly/layout.ts),
 *   "vring_size": [num, align, vring_size(num, align)] for every power-of-two num and a set of aligns,
 *   "need_event": one '0'/'1' per input triple, vring_need_event(event, new, old). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

static int first;

static void emit(const char *name, long long v) {
  printf("%s\n    \"%s\": %lld", first ? "" : ",", name, v);
  first = 0;
}

#define K(name) emit(#name, (long long)(name))
#define K_AS(vxname, v) emit(#vxname, (long long)(v))
#define SZ(vxname, type) emit(#vxname, (long long)sizeof(type))
#define OFF(vxname, type, member) emit(#vxname, (long long)offsetof(type, member))

static void constants(void) {
  printf("  \"constants\": {");
  first = 1;
  K(VRING_DESC_F_NEXT);
  K(VRING_DESC_F_WRITE);
  K(VRING_DESC_F_INDIRECT);
  /* uapi gives these two as bit numbers; vxsim keeps the masks. */
  K_AS(VRING_PACKED_DESC_F_AVAIL, 1u << VRING_PACKED_DESC_F_AVAIL);
  K_AS(VRING_PACKED_DESC_F_USED, 1u << VRING_PACKED_DESC_F_USED);
  K(VRING_USED_F_NO_NOTIFY);
  K(VRING_AVAIL_F_NO_INTERRUPT);
  K(VRING_PACKED_EVENT_FLAG_ENABLE);
  K(VRING_PACKED_EVENT_FLAG_DISABLE);
  K(VRING_PACKED_EVENT_FLAG_DESC);
  K(VRING_PACKED_EVENT_F_WRAP_CTR);
  K(VRING_AVAIL_ALIGN_SIZE);
  K(VRING_USED_ALIGN_SIZE);
  K(VRING_DESC_ALIGN_SIZE);
  K(VIRTIO_RING_F_INDIRECT_DESC);
  K(VIRTIO_RING_F_EVENT_IDX);
  K(VIRTIO_F_NOTIFY_ON_EMPTY);
  K(VIRTIO_F_ANY_LAYOUT);
  K(VIRTIO_F_VERSION_1);
  K(VIRTIO_F_ACCESS_PLATFORM);
  K(VIRTIO_F_RING_PACKED);
  K(VIRTIO_F_IN_ORDER);
  K(VIRTIO_F_ORDER_PLATFORM);
  K(VIRTIO_F_SR_IOV);
#ifdef VIRTIO_F_NOTIFICATION_DATA
  K(VIRTIO_F_NOTIFICATION_DATA);
#endif
#ifdef VIRTIO_F_RING_RESET
  K(VIRTIO_F_RING_RESET);
#endif
  K(VIRTIO_TRANSPORT_F_START);
  K(VIRTIO_TRANSPORT_F_END);

  SZ(VRING_DESC_SIZE, struct vring_desc);
  OFF(VRING_DESC_ADDR, struct vring_desc, addr);
  OFF(VRING_DESC_LEN, struct vring_desc, len);
  OFF(VRING_DESC_FLAGS, struct vring_desc, flags);
  OFF(VRING_DESC_NEXT, struct vring_desc, next);
  OFF(VRING_AVAIL_FLAGS, struct vring_avail, flags);
  OFF(VRING_AVAIL_IDX, struct vring_avail, idx);
  OFF(VRING_AVAIL_RING, struct vring_avail, ring);
  OFF(VRING_USED_FLAGS, struct vring_used, flags);
  OFF(VRING_USED_IDX, struct vring_used, idx);
  OFF(VRING_USED_RING, struct vring_used, ring);
  SZ(VRING_USED_ELEM_SIZE, struct vring_used_elem);
  OFF(VRING_USED_ELEM_ID, struct vring_used_elem, id);
  OFF(VRING_USED_ELEM_LEN, struct vring_used_elem, len);
  SZ(VRING_PACKED_DESC_SIZE, struct vring_packed_desc);
  OFF(VRING_PACKED_DESC_ADDR, struct vring_packed_desc, addr);
  OFF(VRING_PACKED_DESC_LEN, struct vring_packed_desc, len);
  OFF(VRING_PACKED_DESC_ID, struct vring_packed_desc, id);
  OFF(VRING_PACKED_DESC_FLAGS, struct vring_packed_desc, flags);
  SZ(VRING_PACKED_DESC_EVENT_SIZE, struct vring_packed_desc_event);
  OFF(VRING_PACKED_DESC_EVENT_OFF_WRAP, struct vring_packed_desc_event, off_wrap);
  OFF(VRING_PACKED_DESC_EVENT_FLAGS, struct vring_packed_desc_event, flags);
  printf("\n  },\n");
}

static void sizes(void) {
  static const unsigned long aligns[] = {1, 2, 4, 8, 16, 64, 128, 256, 1024, 4096, 16384, 65536, 1ul << 20, 1ul << 31};
  printf("  \"vring_size\": [");
  const char *sep = "";
  for (unsigned num = 1; num <= 32768; num <<= 1) {
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
      printf("%s\n    [%u, %lu, %u]", sep, num, aligns[i], vring_size(num, aligns[i]));
      sep = ",";
    }
  }
  printf("\n  ],\n");
}

static void need_event(void) {
  size_t cap = 1 << 20, len = 0, n;
  unsigned char *buf = malloc(cap);
  if (!buf) return perror("malloc"), exit(1);
  while ((n = fread(buf + len, 1, cap - len, stdin)) > 0) {
    len += n;
    if (len == cap && !(buf = realloc(buf, cap *= 2))) return perror("realloc"), exit(1);
  }
  if (len % 6 != 0) {
    fprintf(stderr, "vring: input of %zu bytes is not a whole number of u16 triples\n", len);
    exit(1);
  }
  printf("  \"need_event\": \"");
  for (size_t i = 0; i < len; i += 6) {
    __u16 event = (__u16)(buf[i] | buf[i + 1] << 8);
    __u16 new_idx = (__u16)(buf[i + 2] | buf[i + 3] << 8);
    __u16 old = (__u16)(buf[i + 4] | buf[i + 5] << 8);
    putchar(vring_need_event(event, new_idx, old) ? '1' : '0');
  }
  printf("\"\n");
  free(buf);
}

int main(void) {
  printf("{\n");
  constants();
  sizes();
  need_event();
  printf("}\n");
  return 0;
}
