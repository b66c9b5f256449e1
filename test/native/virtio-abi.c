/* Prints the virtio status, virtio-mmio and virtio-blk constants and struct layouts of the uapi
 * headers under vxsim's names (assembly/layout.ts), as one JSON object. */
#include <stddef.h>
#include <stdio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_blk.h>

static int first = 1;
static void p(const char *name, long long v) {
  printf("%s\n  \"%s\": %lld", first ? "" : ",", name, v);
  first = 0;
}
#define M(x) p(#x, (long long)(x))
#define OFF(name, type, field) p(name, (long long)offsetof(type, field))

int main(void) {
  printf("{");
  M(VIRTIO_CONFIG_S_ACKNOWLEDGE); M(VIRTIO_CONFIG_S_DRIVER); M(VIRTIO_CONFIG_S_DRIVER_OK);
  M(VIRTIO_CONFIG_S_FEATURES_OK); M(VIRTIO_CONFIG_S_NEEDS_RESET); M(VIRTIO_CONFIG_S_FAILED);
  M(VIRTIO_ID_BLOCK);
  M(VIRTIO_MMIO_MAGIC_VALUE); M(VIRTIO_MMIO_VERSION); M(VIRTIO_MMIO_DEVICE_ID); M(VIRTIO_MMIO_VENDOR_ID);
  M(VIRTIO_MMIO_DEVICE_FEATURES); M(VIRTIO_MMIO_DEVICE_FEATURES_SEL); M(VIRTIO_MMIO_DRIVER_FEATURES);
  M(VIRTIO_MMIO_DRIVER_FEATURES_SEL); M(VIRTIO_MMIO_GUEST_PAGE_SIZE); M(VIRTIO_MMIO_QUEUE_SEL);
  M(VIRTIO_MMIO_QUEUE_NUM_MAX); M(VIRTIO_MMIO_QUEUE_NUM); M(VIRTIO_MMIO_QUEUE_ALIGN); M(VIRTIO_MMIO_QUEUE_PFN);
  M(VIRTIO_MMIO_QUEUE_READY); M(VIRTIO_MMIO_QUEUE_NOTIFY); M(VIRTIO_MMIO_INTERRUPT_STATUS);
  M(VIRTIO_MMIO_INTERRUPT_ACK); M(VIRTIO_MMIO_STATUS); M(VIRTIO_MMIO_QUEUE_DESC_LOW); M(VIRTIO_MMIO_QUEUE_DESC_HIGH);
  M(VIRTIO_MMIO_QUEUE_AVAIL_LOW); M(VIRTIO_MMIO_QUEUE_AVAIL_HIGH); M(VIRTIO_MMIO_QUEUE_USED_LOW);
  M(VIRTIO_MMIO_QUEUE_USED_HIGH); M(VIRTIO_MMIO_SHM_SEL); M(VIRTIO_MMIO_SHM_LEN_LOW); M(VIRTIO_MMIO_SHM_LEN_HIGH);
  M(VIRTIO_MMIO_SHM_BASE_LOW); M(VIRTIO_MMIO_SHM_BASE_HIGH); M(VIRTIO_MMIO_CONFIG_GENERATION); M(VIRTIO_MMIO_CONFIG);
  M(VIRTIO_MMIO_INT_VRING); M(VIRTIO_MMIO_INT_CONFIG);
#ifdef VIRTIO_MMIO_QUEUE_RESET
  M(VIRTIO_MMIO_QUEUE_RESET);
#endif
  M(VIRTIO_BLK_F_SIZE_MAX); M(VIRTIO_BLK_F_SEG_MAX); M(VIRTIO_BLK_F_GEOMETRY); M(VIRTIO_BLK_F_RO);
  M(VIRTIO_BLK_F_BLK_SIZE); M(VIRTIO_BLK_F_FLUSH); M(VIRTIO_BLK_F_TOPOLOGY); M(VIRTIO_BLK_F_CONFIG_WCE);
  M(VIRTIO_BLK_F_MQ); M(VIRTIO_BLK_F_DISCARD); M(VIRTIO_BLK_F_WRITE_ZEROES);
  M(VIRTIO_BLK_T_IN); M(VIRTIO_BLK_T_OUT); M(VIRTIO_BLK_T_SCSI_CMD); M(VIRTIO_BLK_T_FLUSH); M(VIRTIO_BLK_T_GET_ID);
  M(VIRTIO_BLK_T_DISCARD); M(VIRTIO_BLK_T_WRITE_ZEROES); M(VIRTIO_BLK_T_SECURE_ERASE);
  M(VIRTIO_BLK_S_OK); M(VIRTIO_BLK_S_IOERR); M(VIRTIO_BLK_S_UNSUPP); M(VIRTIO_BLK_ID_BYTES);
  M(VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
  p("VIRTIO_BLK_OUTHDR_SIZE", sizeof(struct virtio_blk_outhdr));
  OFF("VIRTIO_BLK_OUTHDR_TYPE", struct virtio_blk_outhdr, type);
  OFF("VIRTIO_BLK_OUTHDR_IOPRIO", struct virtio_blk_outhdr, ioprio);
  OFF("VIRTIO_BLK_OUTHDR_SECTOR", struct virtio_blk_outhdr, sector);
  p("VIRTIO_BLK_DWZ_SIZE", sizeof(struct virtio_blk_discard_write_zeroes));
  OFF("VIRTIO_BLK_DWZ_SECTOR", struct virtio_blk_discard_write_zeroes, sector);
  OFF("VIRTIO_BLK_DWZ_NUM_SECTORS", struct virtio_blk_discard_write_zeroes, num_sectors);
  OFF("VIRTIO_BLK_DWZ_FLAGS", struct virtio_blk_discard_write_zeroes, flags);
  OFF("VIRTIO_BLK_CONFIG_CAPACITY", struct virtio_blk_config, capacity);
  OFF("VIRTIO_BLK_CONFIG_SIZE_MAX", struct virtio_blk_config, size_max);
  OFF("VIRTIO_BLK_CONFIG_SEG_MAX", struct virtio_blk_config, seg_max);
  OFF("VIRTIO_BLK_CONFIG_BLK_SIZE", struct virtio_blk_config, blk_size);
  OFF("VIRTIO_BLK_CONFIG_WCE", struct virtio_blk_config, wce);
  OFF("VIRTIO_BLK_CONFIG_NUM_QUEUES", struct virtio_blk_config, num_queues);
  OFF("VIRTIO_BLK_CONFIG_MAX_DISCARD_SECTORS", struct virtio_blk_config, max_discard_sectors);
  OFF("VIRTIO_BLK_CONFIG_MAX_DISCARD_SEG", struct virtio_blk_config, max_discard_seg);
  OFF("VIRTIO_BLK_CONFIG_DISCARD_SECTOR_ALIGNMENT", struct virtio_blk_config, discard_sector_alignment);
  OFF("VIRTIO_BLK_CONFIG_MAX_WRITE_ZEROES_SECTORS", struct virtio_blk_config, max_write_zeroes_sectors);
  OFF("VIRTIO_BLK_CONFIG_MAX_WRITE_ZEROES_SEG", struct virtio_blk_config, max_write_zeroes_seg);
  OFF("VIRTIO_BLK_CONFIG_WRITE_ZEROES_MAY_UNMAP", struct virtio_blk_config, write_zeroes_may_unmap);
  p("VIRTIO_BLK_CONFIG_SIZE", offsetof(struct virtio_blk_config, unused1) + 3);
  printf("\n}\n");
  return 0;
}
