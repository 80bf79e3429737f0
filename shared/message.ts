// Fills in a message of the kiosk's or the pages' tables: `{name}` placeholders and ICU
// plurals, `{n, plural, one {# minute} other {# minutes}}` (the subset the tables use:
// `=N`, the language's CLDR categories, `#` for the number), with the browser's own plural
// rules: Polish needs one, few and many where English has one and other. A library
// (intl-messageformat, 40 kB) would parse far more than these tables ever say.
// Both builds compile this file; the phone pages target ES2019 and Safari 13, which have
// Intl.PluralRules.

export type Params = Record<string, string | number>;

const rules: Record<string, Intl.PluralRules> = {};

export function format(lang: string, text: string, params: Params): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf("{", i);
    if (open < 0) break;
    out += text.slice(i, open);
    const close = matching(text, open);
    const inner = text.slice(open + 1, close);
    const m = /^(\w+),\s*plural,\s*/.exec(inner);
    if (m) {
      out += plural(lang, inner.slice(m[0].length), params[m[1]], params);
    } else {
      const v = params[inner];
      out += v === undefined ? `{${inner}}` : String(v);
    }
    i = close + 1;
  }
  return out + text.slice(i);
}

function matching(text: string, open: number): number {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === "{") depth++;
    else if (text[j] === "}" && --depth === 0) return j;
  }
  return text.length - 1;
}

function plural(lang: string, cases: string, value: string | number | undefined, params: Params): string {
  const n = Number(value);
  const forms: Record<string, string> = {};
  const re = /\s*(=\d+|\w+)\s*\{/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(cases))) {
    const open = m.index + m[0].length - 1;
    const close = matching(cases, open);
    forms[m[1]] = cases.slice(open + 1, close);
    re.lastIndex = close + 1;
  }
  const rule = rules[lang] || (rules[lang] = new Intl.PluralRules(lang));
  const chosen = forms[`=${n}`] ?? forms[rule.select(n)] ?? forms.other ?? "";
  return format(lang, chosen.replace(/#/g, new Intl.NumberFormat(lang).format(n)), params);
}
