/* Native baseline for bench/split.bench.ts: the device side of the split virtqueue kernel
 * (assembly/virtq/split.ts, split-used.ts) in C, over the same kind of machine: one byte array
 * of 4 KiB frames, a two-level p2m per domain with rights and accessed/dirty bits, a 4-entry
 * translation cache per queue checked against a p2m generation, one-page caches per call, the
 * same validations (E5-E19), the same CHAIN records, per-head bookkeeping, used ring writes and
 * the EVENT_IDX notification decision. Built with gcc -O2 by the bench; prints its own median
 * and best ns/chain per configuration: "<name> <median> <min> <checksum> <descriptors>".
 *
 * Usage: split <batches_per_sample> <samples> */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE 4096u
#define PAGE_MASK 4095u
#define FRAMES 4096u /* 16 MiB of machine */
#define MAX_DOMAINS 4u
#define P2M_RAM 1u
#define P2MF_RO 0x10u
#define P2MF_ACCESSED 0x20u
#define P2MF_DIRTY 0x40u
#define DOMID_INVALID 0x7ff4u

enum { F_NEXT = 1, F_WRITE = 2, F_INDIRECT = 4 };
enum { QF_READY = 1, QF_EVENT_IDX = 4, QF_INDIRECT = 8, QF_IN_ORDER = 16, QF_BROKEN = 32,
       QF_STRICT_E14 = 64, QF_STRICT_E16 = 128, QF_STRICT_E19 = 256, QF_DRIVER_OK = 512 };
enum { VQ_OK = 0, E3 = 3, E4 = 4, E5 = 5, E6 = 6, E7 = 7, E8 = 8, E9 = 9, E10 = 10, E11 = 11, E12 = 12, E13 = 13,
       E14 = 14, E15 = 15, E16 = 16, E17 = 17, E18 = 18, E19 = 19, E21 = 21, E22 = 22, NO_SPACE = 0xffff };
enum { C_POPPED, C_DESCS, C_TABLES, C_RBYTES, C_WBYTES, C_PUSHED, C_UBYTES, C_IRQ, C_IRQ_SUP, C_ERRORS, C_REFUSED, C_N };

static uint8_t *mem;            /* the machine: frame n at mem + n * 4096 */
static uint16_t frame_owner[FRAMES];
static uint32_t next_mfn = 1;   /* mfn 0 is the zero frame */
static uint32_t p2m_gen;
static uint64_t counters[C_N];

struct domain { int exists; uint32_t p2m_top, ram_pages, max_gfn; };
static struct domain doms[MAX_DOMAINS];

static inline uint8_t *frame(uint32_t mfn) { return mem + ((size_t)mfn << PAGE_SHIFT); }

static uint32_t frame_alloc(uint16_t owner) {
  uint32_t mfn = next_mfn++;
  if (mfn >= FRAMES) { fprintf(stderr, "out of frames\n"); exit(1); }
  memset(frame(mfn), 0, PAGE_SIZE);
  frame_owner[mfn] = owner;
  return mfn;
}

static uint32_t *p2m_slot(struct domain *d, uint32_t gfn, int create) {
  uint32_t *top = (uint32_t *)frame(d->p2m_top);
  uint32_t leaf = top[gfn >> 10];
  if (!leaf) {
    if (!create) return 0;
    leaf = top[gfn >> 10] = frame_alloc(0x7ff2);
  }
  return (uint32_t *)frame(leaf) + (gfn & 1023);
}

/* Linear address of guest frame `gfn` for the access, or 0 (refused, counted). */
static uint8_t *translate(uint32_t domid, uint32_t gfn, int write, int probe) {
  if (domid >= MAX_DOMAINS || !doms[domid].exists) { counters[C_REFUSED]++; return 0; }
  struct domain *d = &doms[domid];
  if (gfn >= d->max_gfn) { counters[C_REFUSED]++; return 0; }
  uint32_t *slot = p2m_slot(d, gfn, 0);
  uint32_t ent = slot ? *slot : 0;
  if (!ent) {
    if (gfn >= d->ram_pages) { counters[C_REFUSED]++; return 0; }
    if (!write) return frame(0);
    if (probe) return (uint8_t *)1;
    uint32_t mfn = frame_alloc((uint16_t)domid);
    *p2m_slot(d, gfn, 1) = (mfn << 8) | P2M_RAM;
    p2m_gen++;
    return frame(mfn);
  }
  uint32_t mfn = ent >> 8;
  if (write && (ent & P2MF_RO)) { counters[C_REFUSED]++; return 0; }
  if ((ent & 15) == P2M_RAM && frame_owner[mfn] != domid) { counters[C_REFUSED]++; return 0; }
  if (!probe) {
    uint32_t want = write ? (P2MF_ACCESSED | P2MF_DIRTY) : P2MF_ACCESSED;
    if ((ent & want) != want) *slot = ent | want;
  }
  return frame(mfn);
}

struct tlb { uint32_t tag; uint8_t *base; uint32_t gen; uint32_t writable; };

struct queue {
  uint32_t flags, ring_domid, size, error, max_segs, in_flight, buf_domid, max_indirect, notify_on;
  uint64_t desc, avail, used;
  uint16_t next_avail, next_used, num_added, signalled;
  uint8_t signalled_valid;
  struct tlb tlb[4];
  uint8_t *aux; /* per head: u32 writable, u32 outstanding; then u16 fifo[size] */
};

static uint8_t *ring_addr(struct queue *q, uint64_t gpa, int write) {
  uint32_t gfn = (uint32_t)(gpa >> PAGE_SHIFT);
  struct tlb *e = &q->tlb[gfn & 3];
  if (e->tag == gfn + 1 && e->gen == p2m_gen && (!write || e->writable)) return e->base + ((uint32_t)gpa & PAGE_MASK);
  if (gpa >> 32) return 0;
  uint8_t *base = translate(q->ring_domid, gfn, write, 0);
  if (!base) return 0;
  e->tag = gfn + 1; e->base = base; e->gen = p2m_gen; e->writable = write ? 1 : 0;
  return base + ((uint32_t)gpa & PAGE_MASK);
}

static inline uint16_t ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void st16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void st32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void st64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint32_t fail(struct queue *q, uint32_t code) {
  if (!(q->flags & QF_BROKEN)) { q->flags |= QF_BROKEN; q->error = code; }
  counters[C_ERRORS]++;
  return code;
}

static const uint64_t GPA_LIMIT = 1ull << 32;

static int buffer_ok(uint32_t dom, uint64_t addr, uint32_t len, int write) {
  if (len == 0) return 1;
  if (addr > UINT64_MAX - (uint64_t)(len - 1)) return 0;
  if (dom == DOMID_INVALID) return 1;
  if (addr >= GPA_LIMIT || (uint64_t)len > GPA_LIMIT - addr) return 0;
  uint32_t first = (uint32_t)(addr >> PAGE_SHIFT), last = (uint32_t)((addr + len - 1) >> PAGE_SHIFT);
  if (dom < MAX_DOMAINS && doms[dom].exists && last < doms[dom].ram_pages) return 1;
  for (uint32_t g = first; g <= last; g++) if (!translate(dom, g, write, 1)) return 0;
  return 1;
}

/* Results of walk() */
static uint32_t w_segs, w_slots, w_descs, w_indirect;
static uint64_t w_readable, w_writable;
static uint32_t d_gfn; static uint8_t *d_base;

static uint8_t *indirect_desc(struct queue *q, uint64_t gpa, uint8_t *scratch) {
  uint32_t off = (uint32_t)gpa & PAGE_MASK;
  if (off <= PAGE_SIZE - 16) return ring_addr(q, gpa, 0);
  uint8_t *a = ring_addr(q, gpa, 0); if (!a) return 0;
  uint32_t first = PAGE_SIZE - off;
  uint8_t *b = ring_addr(q, gpa + first, 0); if (!b) return 0;
  memcpy(scratch, a, first); memcpy(scratch + first, b, 16 - first);
  return scratch;
}

static uint32_t walk(struct queue *q, uint32_t flags, uint32_t size, uint32_t head, uint8_t *rec, uint8_t *end,
                     uint32_t buf_dom, uint64_t ram_end, uint32_t max_segs, uint32_t max_ind) {
  uint8_t scratch[16];
  uint64_t table = q->desc; uint32_t tsize = size, idx = head, steps = 0, nsegs = 0, descs = 0, slots = 0;
  int in_ind = 0, seen_write = 0;
  uint64_t readable = 0, writable = 0;
  uint8_t *seg = rec + 16;
  w_indirect = 0;
  for (;;) {
    if (++steps > tsize) return E9;
    uint64_t gpa = table + ((uint64_t)idx << 4);
    uint8_t *d;
    if (!in_ind) {
      uint32_t gfn = (uint32_t)(gpa >> PAGE_SHIFT);
      if (gfn != d_gfn) {
        d_base = ring_addr(q, gpa & ~(uint64_t)PAGE_MASK, 0);
        if (!d_base) { d_gfn = UINT32_MAX; return E3; }
        d_gfn = gfn;
      }
      d = d_base + ((uint32_t)gpa & PAGE_MASK);
      slots++;
    } else {
      d = indirect_desc(q, gpa, scratch);
      if (!d) return E17;
    }
    uint64_t addr = ld64(d); uint32_t len = ld32(d + 8); uint32_t f = ld16(d + 12); uint32_t next = ld16(d + 14);
    descs++;
    if (f & F_INDIRECT) {
      if (in_ind) return E10;
      if (!(flags & QF_INDIRECT)) return E13;
      if ((f & F_NEXT) && (flags & QF_STRICT_E14)) return E14;
      if (len == 0 || (len & 15)) return E11;
      if ((len >> 4) > max_ind) return E12;
      if (addr >= GPA_LIMIT || (uint64_t)len > GPA_LIMIT - addr) return E17;
      table = addr; tsize = len >> 4; idx = 0; steps = 0; in_ind = 1; w_indirect = 1;
      continue;
    }
    int w = (f & F_WRITE) != 0;
    if (w) seen_write = 1; else if (seen_write) return E15;
    if (len == 0 && (flags & QF_STRICT_E16)) return E16;
    if ((addr >= ram_end || (uint64_t)len > ram_end - addr) && !buffer_ok(buf_dom, addr, len, w)) return E17;
    if (w) writable += len; else readable += len;
    if (readable + writable > 0xffffffffull) return E18;
    if (++nsegs > max_segs) return E19;
    if (seg + 16 > end) return NO_SPACE;
    st64(seg, addr); st32(seg + 8, len); st32(seg + 12, f & F_WRITE);
    seg += 16;
    if (!(f & F_NEXT)) break;
    if (next >= tsize) return E8;
    idx = next;
  }
  w_segs = nsegs; w_slots = slots; w_descs = descs; w_readable = readable; w_writable = writable;
  return VQ_OK;
}

static uint32_t pop(struct queue *q, uint8_t *out, uint32_t cap, uint32_t max) {
  uint32_t flags = q->flags;
  if (flags & QF_BROKEN) return 0;
  if ((flags & (QF_READY | QF_DRIVER_OK)) != (QF_READY | QF_DRIVER_OK)) return 0;
  uint32_t size = q->size, mask = size - 1;
  uint64_t avail = q->avail;
  uint8_t *ia = ring_addr(q, avail + 2, 0);
  if (!ia) { fail(q, E3); return 0; }
  uint32_t avail_idx = ld16(ia), next_avail = q->next_avail;
  if (((avail_idx - next_avail) & 0xffff) > size) { fail(q, E5); return 0; }
  uint32_t in_flight = q->in_flight;
  uint8_t *aux = q->aux, *fifo = aux + size * 8;
  int in_order = (flags & QF_IN_ORDER) != 0;
  uint32_t buf_dom = q->buf_domid, max_segs = 65535;
  if (flags & QF_STRICT_E19) { max_segs = q->max_segs ? q->max_segs : size; if (max_segs > 65535) max_segs = 65535; }
  uint32_t max_ind = q->max_indirect; if (max_ind == 0 || max_ind > 65535) max_ind = 65535;
  uint8_t *end = out + cap, *rec = out;
  /* Buffers below ram_end pass E17 at once (see splitPop). */
  uint64_t ram_end = UINT64_MAX;
  if (buf_dom != DOMID_INVALID) ram_end = buf_dom < MAX_DOMAINS && doms[buf_dom].exists ? (uint64_t)doms[buf_dom].ram_pages << PAGE_SHIFT : 0;
  d_gfn = UINT32_MAX;
  uint32_t a_gfn = UINT32_MAX; uint8_t *a_base = 0;
  uint32_t n = 0, err = VQ_OK;
  uint64_t descs = 0, tables = 0, rbytes = 0, wbytes = 0;
  while (n < max && next_avail != avail_idx) {
    if (in_flight >= size) { err = E6; break; }
    uint64_t slot = avail + 4 + ((uint64_t)(next_avail & mask) << 1);
    uint32_t gfn = (uint32_t)(slot >> PAGE_SHIFT);
    if (gfn != a_gfn) {
      a_base = ring_addr(q, slot & ~(uint64_t)PAGE_MASK, 0);
      if (!a_base) { err = E3; break; }
      a_gfn = gfn;
    }
    uint32_t head = ld16(a_base + ((uint32_t)slot & PAGE_MASK));
    if (head >= size) { err = E7; break; }
    uint32_t r = walk(q, flags, size, head, rec, end, buf_dom, ram_end, max_segs, max_ind);
    if (r != VQ_OK) { if (r != NO_SPACE) err = r; break; }
    st16(rec, (uint16_t)head); st16(rec + 2, (uint16_t)w_segs); st16(rec + 4, (uint16_t)w_slots);
    st16(rec + 6, w_indirect ? 1 : 0); st32(rec + 8, (uint32_t)w_readable); st32(rec + 12, (uint32_t)w_writable);
    uint8_t *e = aux + head * 8;
    st32(e, (uint32_t)w_writable); st32(e + 4, ld32(e + 4) + 1);
    if (in_order) st16(fifo + ((next_avail & mask) << 1), (uint16_t)head);
    next_avail = (next_avail + 1) & 0xffff;
    in_flight++; n++;
    rec += 16 + w_segs * 16;
    descs += w_descs; tables += w_indirect; rbytes += w_readable; wbytes += w_writable;
  }
  q->next_avail = (uint16_t)next_avail;
  q->in_flight = in_flight;
  if (n) {
    counters[C_POPPED] += n; counters[C_DESCS] += descs; counters[C_TABLES] += tables;
    counters[C_RBYTES] += rbytes; counters[C_WBYTES] += wbytes;
  }
  if (err != VQ_OK) { fail(q, err); return n; }
  if (n && (flags & QF_EVENT_IDX) && q->notify_on) {
    uint8_t *ev = ring_addr(q, q->used + 4 + ((uint64_t)size << 3), 1);
    if (!ev) fail(q, E3); else st16(ev, (uint16_t)next_avail);
  }
  return n;
}

static uint32_t u_gfn; static uint8_t *u_base;
static inline uint8_t *used_word(struct queue *q, uint64_t gpa) {
  uint32_t gfn = (uint32_t)(gpa >> PAGE_SHIFT);
  if (gfn != u_gfn) {
    u_base = ring_addr(q, gpa & ~(uint64_t)PAGE_MASK, 1);
    if (!u_base) { u_gfn = UINT32_MAX; return 0; }
    u_gfn = gfn;
  }
  return u_base + ((uint32_t)gpa & PAGE_MASK);
}

/* Completes CHAIN records (as pop wrote them), each with its writable bytes as used len. */
static uint32_t push_chains(struct queue *q, uint8_t *p, uint32_t n) {
  uint32_t flags = q->flags;
  if (flags & QF_BROKEN) return 0;
  if ((flags & (QF_READY | QF_DRIVER_OK)) != (QF_READY | QF_DRIVER_OK)) return 0;
  uint32_t size = q->size, mask = size - 1;
  uint64_t used = q->used;
  uint8_t *aux = q->aux, *fifo = aux + size * 8;
  int in_order = (flags & QF_IN_ORDER) != 0;
  uint32_t next_avail = q->next_avail, start = q->next_used, next_used = start, in_flight = q->in_flight;
  uint32_t done = 0, k = 0; uint64_t bytes = 0;
  u_gfn = UINT32_MAX;
  for (; k < n; k++) {
    uint32_t id = ld16(p), len = ld32(p + 12);
    size_t step = 16 + (size_t)ld16(p + 2) * 16;
    if (id >= size) break;
    uint8_t *e = aux + id * 8;
    uint32_t outstanding = ld32(e + 4);
    if (!outstanding) break;
    uint32_t batch = 1, oldest = (next_avail - in_flight) & 0xffff;
    if (in_order) {
      uint32_t j = 0;
      while (j < in_flight && ld16(fifo + (((oldest + j) & mask) << 1)) != id) j++;
      if (j == in_flight) break;
      batch = j + 1;
    }
    if (len > ld32(e)) break;
    uint64_t elem = used + 4 + ((uint64_t)(next_used & mask) << 3);
    uint8_t *ida = used_word(q, elem); if (!ida) { fail(q, E3); break; }
    st32(ida, id);
    uint8_t *lena = used_word(q, elem + 4); if (!lena) { fail(q, E3); break; }
    st32(lena, len);
    for (uint32_t j = 0; j + 1 < batch; j++) {
      uint8_t *s = aux + ld16(fifo + (((oldest + j) & mask) << 1)) * 8;
      st32(s + 4, ld32(s + 4) - 1); bytes += ld32(s);
    }
    st32(e + 4, outstanding - 1);
    bytes += len;
    next_used = (next_used + batch) & 0xffff;
    in_flight -= batch; done += batch;
    p += step;
  }
  if (!done || (q->flags & QF_BROKEN)) return k;
  uint8_t *idxa = ring_addr(q, used + 2, 1);
  if (!idxa) { fail(q, E3); return k; }
  st16(idxa, (uint16_t)next_used);
  q->next_used = (uint16_t)next_used; q->in_flight = in_flight;
  q->num_added = (uint16_t)(q->num_added + done);
  if ((int32_t)(int16_t)(next_used - q->signalled) < (int32_t)((next_used - start) & 0xffff)) q->signalled_valid = 0;
  counters[C_PUSHED] += done; counters[C_UBYTES] += bytes;
  return k;
}

static inline int need_event(uint32_t ev, uint32_t nw, uint32_t old) {
  return ((nw - ev - 1) & 0xffff) < ((nw - old) & 0xffff);
}

static int need_irq(struct queue *q) {
  if (q->flags & QF_BROKEN) return 0;
  int notify;
  if (!(q->flags & QF_EVENT_IDX)) {
    uint8_t *a = ring_addr(q, q->avail, 0); if (!a) { fail(q, E3); return 0; }
    notify = (ld16(a) & 1) == 0;
  } else {
    uint32_t nw = q->next_used, old = q->signalled; int valid = q->signalled_valid;
    q->signalled = (uint16_t)nw; q->signalled_valid = 1;
    if (!valid) notify = 1;
    else {
      uint8_t *a = ring_addr(q, q->avail + 4 + ((uint64_t)q->size << 1), 0); if (!a) { fail(q, E3); return 0; }
      notify = need_event(ld16(a), nw, old);
    }
  }
  q->num_added = 0;
  counters[notify ? C_IRQ : C_IRQ_SUP]++;
  return notify;
}

/* ---- the benchmark: the same shape as bench/split.bench.ts -------------------------------- */

#define GUEST 1u
#define SIZE 256u
#define RESIDENT 64u
#define BATCH 64u
#define DESC 0x10000u
#define AVAIL 0x11000u
#define USED 0x12000u

static void guest_write(uint64_t gpa, const void *src, uint32_t len) {
  for (uint32_t done = 0; done < len;) {
    uint32_t off = (uint32_t)(gpa + done) & PAGE_MASK, n = PAGE_SIZE - off;
    if (n > len - done) n = len - done;
    uint8_t *b = translate(GUEST, (uint32_t)((gpa + done) >> PAGE_SHIFT), 1, 0);
    memcpy(b + off, (const uint8_t *)src + done, n);
    done += n;
  }
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Chain c of the resident set has length lens(c): 1, 4, or cycling 1,2,3,4. */
static uint32_t chain_len(int mode, uint32_t c) { return mode == 0 ? 1 : mode == 1 ? 4 : 1 + (c & 3); }

static void run(const char *name, int mode, int batches, int samples) {
  memset(doms, 0, sizeof doms);
  next_mfn = 1; p2m_gen = 0;
  memset(counters, 0, sizeof counters);
  doms[GUEST] = (struct domain){ 1, frame_alloc(0x7ff2), 1024, 1024 + 65536 };
  static uint8_t aux[SIZE * 10];
  static uint8_t out[BATCH * (16 + 4 * 16)];
  memset(aux, 0, sizeof aux);
  /* Resident chains: each writes its descriptors consecutively; readable first then writable. */
  uint32_t heads[RESIDENT], at = 0;
  for (uint32_t c = 0; c < RESIDENT; c++) {
    uint32_t n = chain_len(mode, c);
    heads[c] = at;
    for (uint32_t i = 0; i < n; i++) {
      uint8_t d[16];
      uint32_t write = (i + 1 == n && n > 1) || n == 1 ? F_WRITE : 0;
      st64(d, 0x100000 + (uint64_t)c * 0x4000 + i * 0x1000); st32(d + 8, 512);
      st16(d + 12, (uint16_t)((i + 1 < n ? F_NEXT : 0) | write)); st16(d + 14, (uint16_t)(at + i + 1));
      guest_write(DESC + (at + i) * 16, d, 16);
    }
    at += n;
  }
  for (uint32_t s = 0; s < SIZE; s++) { uint8_t h[2]; st16(h, (uint16_t)heads[s % RESIDENT]); guest_write(AVAIL + 4 + s * 2, h, 2); }
  struct queue q = { 0 };
  q.flags = QF_READY | QF_DRIVER_OK | QF_EVENT_IDX | QF_INDIRECT;
  q.ring_domid = GUEST; q.size = SIZE; q.buf_domid = GUEST; q.notify_on = 1;
  q.desc = DESC; q.avail = AVAIL; q.used = USED; q.aux = aux;
  uint8_t *idx = translate(GUEST, AVAIL >> PAGE_SHIFT, 1, 0) + 2;
  uint16_t avail_idx = 0;
  double *ns = malloc(sizeof(double) * samples);
  uint64_t check = 0;
  for (int s = -2; s < samples; s++) { /* two warm-up samples */
    double t0 = now_ns();
    for (int b = 0; b < batches; b++) {
      avail_idx += BATCH;
      st16(idx, avail_idx); /* republish the resident set */
      uint32_t n = pop(&q, out, sizeof out, BATCH);
      push_chains(&q, out, n);
      check += n + (uint32_t)need_irq(&q);
    }
    double t = now_ns() - t0;
    if (s >= 0) ns[s] = t / ((double)batches * BATCH);
  }
  if (q.flags & QF_BROKEN) { fprintf(stderr, "%s: queue broken (E%u)\n", name, q.error); exit(1); }
  qsort(ns, samples, sizeof(double), cmp);
  printf("%s %.3f %.3f %llu %llu\n", name, ns[samples / 2], ns[0], (unsigned long long)check, (unsigned long long)counters[C_DESCS]);
  free(ns);
}

int main(int argc, char **argv) {
  int batches = argc > 1 ? atoi(argv[1]) : 2000, samples = argc > 2 ? atoi(argv[2]) : 21;
  mem = aligned_alloc(PAGE_SIZE, (size_t)FRAMES * PAGE_SIZE);
  memset(mem, 0, PAGE_SIZE); /* the zero frame */
  run("len1", 0, batches, samples);
  run("len4", 1, batches, samples);
  run("mixed", 2, batches, samples);
  return 0;
}
