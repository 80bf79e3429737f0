import { de } from "./de";
import { en, type Key } from "./en";
import { es } from "./es";
import { fr } from "./fr";
import { it } from "./it";
import { nl } from "./nl";
import { pl } from "./pl";
import { format } from "../../../shared/message";

export type { Key };
// All seven are bundled: together about 70 kB of text, parsed once at start (cheaper than
// a second request the kiosk would wait for when a person picks a language).
const tables: Record<string, Record<Key, string>> = { en, de, fr, es, it, nl, pl };
export const locales = Object.keys(tables);

let current = "en";

export function setLocale(locale: string): void {
  const base = locale.toLowerCase().split("-")[0];
  current = base in tables ? base : "en";
  document.documentElement.lang = current;
}

export function locale(): string {
  return current;
}

export function t(key: Key, params: Record<string, string | number> = {}): string {
  return format(current, tables[current][key] ?? en[key], params);
}

export function languageName(l: string): string {
  return (tables[l] ?? en)["lang.name"];
}
