import { parseGrid } from "../src/cli/grid.ts";
const t = (s: string) => { try { const g = parseGrid(s, "g.yaml"); console.log(g.points.length, g.hash.slice(0,8), JSON.stringify(g.points.map(p=>p.values))); } catch (e) { console.log("ERR", (e as Error).message); } };
const base = `base:
  profile: x86-64
  device: blk
  workload: { kind: fio, rw: randread, iodepth: 16 }
  ios: 100
  seed: 1
`;
t(base + `axes:\n  transport: [grant-map, argo:sg]\n  workload.bs: [512, 4096]\n`);
t(base + `axes:\n  transport: [grant-map, grant-mop]\n  workload.bs: [512, 4096]\n`);
t(base + `axes:\n  transport: [grant-map]\n  workload.bsz: [512, 4096]\n`);
t(base + `axes:\n  transport: [grant-map]\n  workload.bs: [512, "4k"]\n`);
t(base + `axes:\n  transport: [grant-map]\n  workload.rwmixread: [5]\n  workload.bs: [5]\n`);
t(base + `axes:\n  transport: [grant-map]\n  workload.bs: [512]\n  device: [blk, net]\n`);
t(base + `axes:\n  transport: []\n`);
t(`base: {}\naxes: { transport: [grant-map] }\n`);
t(base + `axes:\n  transport: [grant-map]\n  workload.bs: [512]\n  profile: [x86, riscv64]\n  extra: 1\n`);
t(base + `axes:\n  workload: [{kind: rng, readSize: 64}]\n  transport: [grant-map]\n`);
t(base + `axes:\n  workload.bs.x: [1]\n`);
