// Every word the two pages show, in the seven languages; the phone's language decides.
// The tables are one file per language (en.ts has every key; the others are checked
// against it by the server's translation_tests).
import { format } from "../../../../../shared/message";
import { de } from "./de";
import { en, type Key } from "./en";
import { es } from "./es";
import { fr } from "./fr";
import { it } from "./it";
import { nl } from "./nl";
import { pl } from "./pl";

export type { Key };

const tables: Record<string, Record<Key, string>> = { en, de, fr, es, it, nl, pl };

/** The first of the phone's preferred languages we have, else English. */
function pick(): string {
  const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
  for (const l of wanted) {
    const base = l.toLowerCase().split("-")[0];
    if (base in tables) return base;
  }
  return "en";
}

export const lang = pick();
document.documentElement.lang = lang;

/**
 * The text with each parameter made by `wrap` (e.g. in <strong>), so names from the server
 * stay text nodes and the word order stays the language's own (for texts without plurals).
 */
export function tParts<N>(key: Key, params: Record<string, string>, wrap: (value: string) => N): Array<string | N> {
  const text = tables[lang][key] ?? en[key];
  const out: Array<string | N> = [];
  let last = 0;
  text.replace(/\{(\w+)\}/g, (m: string, name: string, at: number) => {
    if (at > last) out.push(text.slice(last, at));
    out.push(name in params ? wrap(params[name]) : m);
    last = at + m.length;
    return m;
  });
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** Whether there is a text of this name (for names made from a code, as errorText does). */
export function has(key: string): key is Key {
  return Object.prototype.hasOwnProperty.call(en, key);
}

export function t(key: Key, params: Record<string, string | number> = {}): string {
  return format(lang, tables[lang][key] ?? en[key], params);
}
