import { de } from "./de";
import { en, type Key } from "./en";

export type { Key };
const tables: Record<string, Record<Key, string>> = { en, de };
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
  const text = tables[current][key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}

export function languageName(l: string): string {
  return (tables[l] ?? en)["lang.name"];
}
