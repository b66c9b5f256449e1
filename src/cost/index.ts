// The cost model's public surface: profiles, the pricing table, price(), recorded runs.
export {
  ProfileError,
  SHIPPED_PROFILES,
  copyCycles,
  copyBucketCycles,
  cyclesToNs,
  loadProfile,
  loadShippedProfile,
  parseProfile,
  primitiveCycles,
  shippedProfilePath,
  type CopyPoint,
  type PrimitiveFigure,
  type Profile,
  type ProfileIssue,
  type Provenance,
  type ShippedProfile,
  type Source,
} from "./profile.ts";
export { ATOMICS_MODELS, COMPONENTS, PRIMITIVES, PRIMITIVE_NAMES, type AtomicsModel, type Component, type Primitive } from "./primitives.ts";
export {
  DEFAULT_COPY_SIZE,
  PRICING,
  charge,
  copyBytes,
  each,
  free,
  makeTable,
  priced,
  withEntries,
  type Charge,
  type PricingEntry,
  type PricingTable,
} from "./pricing-table.ts";
export { price, type Price, type PricedPrimitive } from "./price.ts";
export { RUN_FORMAT, behaviourClass, recordRun, repriceRun, runFromJson, runToJson, type RecordedRun } from "./run.ts";
export { COUNTER_IDS, counterName } from "./counter-names.ts";
