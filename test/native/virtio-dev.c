/* Prints the virtio-net / virtio-rng uapi constants and struct layouts under vxsim's names
 * (assembly/layout.ts, section "virtio devices: net and rng") as one JSON object
 * {"constants": {...}} for test/virtio-dev-native.test.ts. Spec-only values are printed only
 * when this uapi version defines them. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

static int first = 1;

static void emit(const char *name, long long v) {
  printf("%s\n    \"%s\": %lld", first ? "" : ",", name, v);
  first = 0;
}

#define K(name) emit(#name, (long long)(name))
#define SZ(vxname, type) emit(#vxname, (long long)sizeof(type))
#define OFF(vxname, type, member) emit(#vxname, (long long)offsetof(type, member))

int main(void) {
  printf("{\n  \"constants\": {");
  K(VIRTIO_ID_NET);
  K(VIRTIO_ID_RNG);
  K(VIRTIO_NET_F_CSUM);
  K(VIRTIO_NET_F_GUEST_CSUM);
  K(VIRTIO_NET_F_MTU);
  K(VIRTIO_NET_F_MAC);
  K(VIRTIO_NET_F_GUEST_TSO4);
  K(VIRTIO_NET_F_GUEST_TSO6);
  K(VIRTIO_NET_F_GUEST_ECN);
  K(VIRTIO_NET_F_GUEST_UFO);
  K(VIRTIO_NET_F_HOST_TSO4);
  K(VIRTIO_NET_F_HOST_TSO6);
  K(VIRTIO_NET_F_HOST_ECN);
  K(VIRTIO_NET_F_HOST_UFO);
  K(VIRTIO_NET_F_MRG_RXBUF);
  K(VIRTIO_NET_F_STATUS);
  K(VIRTIO_NET_F_CTRL_VQ);
  K(VIRTIO_NET_F_MQ);
#ifdef VIRTIO_NET_F_HOST_USO
  K(VIRTIO_NET_F_HOST_USO);
#endif
  K(VIRTIO_NET_S_LINK_UP);
  K(VIRTIO_NET_S_ANNOUNCE);
  OFF(VIRTIO_NET_CONFIG_MAC, struct virtio_net_config, mac);
  OFF(VIRTIO_NET_CONFIG_STATUS, struct virtio_net_config, status);
  OFF(VIRTIO_NET_CONFIG_MAX_VIRTQUEUE_PAIRS, struct virtio_net_config, max_virtqueue_pairs);
  OFF(VIRTIO_NET_CONFIG_MTU, struct virtio_net_config, mtu);
  SZ(VIRTIO_NET_HDR_V1_SIZE, struct virtio_net_hdr_v1);
  OFF(VIRTIO_NET_HDR_V1_FLAGS, struct virtio_net_hdr_v1, flags);
  OFF(VIRTIO_NET_HDR_V1_GSO_TYPE, struct virtio_net_hdr_v1, gso_type);
  OFF(VIRTIO_NET_HDR_V1_HDR_LEN, struct virtio_net_hdr_v1, hdr_len);
  OFF(VIRTIO_NET_HDR_V1_GSO_SIZE, struct virtio_net_hdr_v1, gso_size);
  OFF(VIRTIO_NET_HDR_V1_CSUM_START, struct virtio_net_hdr_v1, csum_start);
  OFF(VIRTIO_NET_HDR_V1_CSUM_OFFSET, struct virtio_net_hdr_v1, csum_offset);
  OFF(VIRTIO_NET_HDR_V1_NUM_BUFFERS, struct virtio_net_hdr_v1, num_buffers);
  SZ(VIRTIO_NET_HDR_SIZE, struct virtio_net_hdr);
  K(VIRTIO_NET_HDR_F_NEEDS_CSUM);
  K(VIRTIO_NET_HDR_F_DATA_VALID);
  K(VIRTIO_NET_HDR_F_RSC_INFO);
  K(VIRTIO_NET_HDR_GSO_NONE);
  K(VIRTIO_NET_HDR_GSO_TCPV4);
  K(VIRTIO_NET_HDR_GSO_UDP);
  K(VIRTIO_NET_HDR_GSO_TCPV6);
#ifdef VIRTIO_NET_HDR_GSO_UDP_L4
  K(VIRTIO_NET_HDR_GSO_UDP_L4);
#endif
  K(VIRTIO_NET_HDR_GSO_ECN);
  printf("\n  }\n}\n");
  return 0;
}
