// Shared by the device-spec parsers (disk, vif, virtio): where a spec string came from, and
// the vxsim extension keys every device spec accepts.
import { ConfigError, choices, closest } from "./config-error.ts";
import { TRANSPORT_SPELLINGS, parseTransport, type TransportChoice } from "./vocabulary.ts";

/** A device spec's origin: `disk[1]` of guest.cfg line 4. */
export interface SpecSite {
  file: string;
  line: number;
  /** `disk[1]`, `vif[0]`, `virtio[2]`. */
  field: string;
}

export function specError(site: SpecSite, reason: string): ConfigError {
  return new ConfigError(site.file, site.line, site.field, reason);
}

export function unknownKey(site: SpecSite, key: string, known: readonly string[]): ConfigError {
  const guess = closest(key, known);
  const hint = guess ? `did you mean '${guess}'? ` : "";
  return specError(site, `unknown key '${key}' (${hint}expected one of: ${choices([...known].sort())})`);
}

/** The value of `vxsim_transport=`, the extension key that picks a device's transport. */
export function transportValue(site: SpecSite, value: string): TransportChoice {
  const t = parseTransport(value);
  if (!t) throw specError(site, `unknown transport '${value}' for vxsim_transport (expected one of: ${choices(TRANSPORT_SPELLINGS)})`);
  return t;
}

/** xl's grant_usage: 0 or 1. */
export function grantUsageValue(site: SpecSite, value: string): boolean {
  if (value === "1") return true;
  if (value === "0") return false;
  throw specError(site, `grant_usage must be 0 or 1, got '${value}'`);
}

/** Splits a comma-separated `key=value` spec as xl does for vif and virtio entries: empty
 *  items are skipped and leading blanks dropped (trailing blanks are dropped too). */
export function splitSpec(spec: string): string[] {
  return spec
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** `key=value` -> [key, value]; an item without `=` gives [item, undefined]. */
export function keyValue(item: string): [string, string | undefined] {
  const eq = item.indexOf("=");
  return eq < 0 ? [item, undefined] : [item.slice(0, eq).trim(), item.slice(eq + 1).trim()];
}
