// A strict parser of the Prometheus text exposition format (0.0.4), after
// the format's own rules: names, label escaping, one TYPE per family before
// its samples, no duplicate series, histograms with cumulative buckets
// ending in +Inf equal to _count. Throws on any violation.
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(v) {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'NaN') return NaN;
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) throw new Error(`bad value ${v}`);
  return Number(v);
}

function parseLabels(s) {
  const labels = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    const name = s.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`bad label name ${name}`);
    if (s[eq + 1] !== '"') throw new Error('label value not quoted');
    let j = eq + 2, v = '';
    for (; s[j] !== '"'; j++) {
      if (j >= s.length) throw new Error('unterminated label value');
      if (s[j] === '\\') {
        j++;
        if (s[j] === 'n') v += '\n';
        else if (s[j] === '\\' || s[j] === '"') v += s[j];
        else throw new Error(`bad escape \\${s[j]}`);
      } else v += s[j];
    }
    if (name in labels) throw new Error(`duplicate label ${name}`);
    labels[name] = v;
    i = j + 1;
    if (s[i] === ',') i++;
    else if (i < s.length) throw new Error(`junk after label ${name}`);
  }
  return labels;
}

export function parsePrometheus(text) {
  const families = new Map();
  const seen = new Set();
  if (!text.endsWith('\n')) throw new Error('no final newline');
  for (const line of text.split('\n').slice(0, -1)) {
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (!m) throw new Error(`bad comment: ${line}`);
      if (!NAME.test(m[2])) throw new Error(`bad name ${m[2]}`);
      const f = families.get(m[2]) || { samples: [] };
      if (m[1] === 'TYPE') {
        if (f.type) throw new Error(`second TYPE for ${m[2]}`);
        if (f.samples.length) throw new Error(`TYPE after samples for ${m[2]}`);
        if (!TYPES.has(m[3])) throw new Error(`bad type ${m[3]}`);
        f.type = m[3];
      } else f.help = m[3];
      families.set(m[2], f);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`bad sample: ${line}`);
    const labels = m[2] ? parseLabels(m[2]) : {};
    const key = m[1] + JSON.stringify(labels);
    if (seen.has(key)) throw new Error(`duplicate series ${key}`);
    seen.add(key);
    let fam = m[1];
    if (!families.get(fam)?.type) fam = fam.replace(/_(bucket|sum|count)$/, '');
    const f = families.get(fam);
    if (!f || !f.type) throw new Error(`sample before its TYPE: ${m[1]}`);
    const value = parseValue(m[3]);
    if (f.type === 'counter' && !(value >= 0)) throw new Error(`negative counter ${m[1]}`);
    f.samples.push({ name: m[1], labels, value });
  }
  for (const [name, f] of families) {
    if (f.type !== 'histogram') continue;
    const buckets = f.samples.filter((s) => s.name === `${name}_bucket`);
    const les = buckets.map((b) => parseValue(b.labels.le));
    for (let i = 1; i < buckets.length; i++) {
      if (!(les[i] > les[i - 1])) throw new Error(`${name}: buckets not sorted`);
      if (buckets[i].value < buckets[i - 1].value) throw new Error(`${name}: buckets not cumulative`);
    }
    const count = f.samples.find((s) => s.name === `${name}_count`);
    if (les.at(-1) !== Infinity || !count || buckets.at(-1).value !== count.value)
      throw new Error(`${name}: +Inf bucket must equal _count`);
    if (!f.samples.find((s) => s.name === `${name}_sum`)) throw new Error(`${name}: no _sum`);
  }
  return families;
}

export function sample(families, name, labels = {}) {
  const fam = families.get(name) || families.get(name.replace(/_(bucket|sum|count)$/, ''));
  const s = fam?.samples.find((x) => x.name === name &&
    Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s ? s.value : undefined;
}
