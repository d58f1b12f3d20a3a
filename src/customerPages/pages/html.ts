import escapeHtml from 'escape-html';

/** Markup that is already safe; only `html` produces it. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Interpolation = SafeHtml | string | number | null | undefined | false | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(typeof value === 'number' ? String(value) : (value as string));
}

/** Tagged template that escapes every interpolated value unless it is SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  return new SafeHtml(strings.reduce((out, part, i) => out + part + (i < values.length ? render(values[i]) : ''), ''));
}

export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title} · partnerflow</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.5}
h1{font-size:1.6rem}fieldset{border:1px solid #ccc;border-radius:6px;margin:1rem 0;padding:1rem}
button{font-size:1rem;padding:.5rem 1.4rem;border-radius:4px;border:1px solid #0b5cad;background:#0f6cbd;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0f6cbd}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem;border-bottom:1px solid #ddd}
.notice{background:#f3f8fd;border-left:4px solid #0f6cbd;padding:.6rem 1rem}.error{background:#fdf3f4;border-left:4px solid #c50f1f;padding:.6rem 1rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
nav ul{list-style:none;padding:0;display:flex;gap:1rem}a[aria-current]{font-weight:bold;color:inherit;text-decoration:none}
form.inline{display:inline}.wrap,code,dd{overflow-wrap:anywhere}
button:focus-visible,a:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #1b1b1b;outline-offset:2px}
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`.value;
}
