// Several jobs' speedscope files as one: the frames of all, each (name, file) once, and every
// job's profiles, named after the job. speedscope lists the profiles of a file in its picker.
import type { SpeedscopeFile, SpeedscopeFrame } from "./profile.ts";

export function mergeProfiles(jobs: readonly { name: string; file: SpeedscopeFile }[], name: string): SpeedscopeFile {
  if (jobs.length === 0) throw new RangeError("mergeProfiles: no profiles");
  const frames: SpeedscopeFrame[] = [];
  const index = new Map<string, number>();
  const profiles = jobs.flatMap((j) => {
    const remap = j.file.shared.frames.map((f) => {
      const key = `${f.file ?? ""}\0${f.name}`;
      let i = index.get(key);
      if (i === undefined) index.set(key, (i = frames.push(f) - 1));
      return i;
    });
    return j.file.profiles.map((p) => ({ ...p, name: `${j.name}: ${p.name}`, samples: p.samples.map((s) => s.map((f) => remap[f]!)) }));
  });
  return { ...jobs[0]!.file, shared: { frames }, profiles, name, activeProfileIndex: 0 };
}
