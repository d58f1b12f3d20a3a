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

/** The title of a page shown again with an error in its form: "Error: " first, so it is heard and seen in the tab. */
export const errorTitle = (title: string, error: unknown) => (error ? `Error: ${title}` : title);

/**
 * The page shell: one inline stylesheet, no script. What the stylesheet holds to (tested by
 * test/browser/reflow.test.ts and accessibility.test.ts):
 * - nothing scrolls sideways at 320 CSS px: any text may break anywhere (a partner's name, a domain
 *   or an address can be one 200-character word), fieldsets may shrink below their content, fields
 *   and buttons never grow wider than the page;
 * - buttons, links and fields are at least 24 × 24 px (WCAG 2.5.8): a link's padding makes its box
 *   tall enough without moving the text around it;
 * - every control shows a 3 px outline when focused from the keyboard;
 * - the Partner relationships table (`table.partners`) is one block per partner below 40rem, each
 *   cell labelled by generated text in the order of the table's columns (partnerRelationshipPages.ts);
 *   the labels have empty alternative text (`/ ""`), so a screen reader still reads the table's own
 *   headers and the same cell names as on a wide screen.
 */
export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title} · partnerflow</title>
<style>
*,::before,::after{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.5;overflow-wrap:anywhere}
h1{font-size:1.6rem}fieldset{border:1px solid #ccc;border-radius:6px;margin:1rem 0;padding:1rem;min-width:0}
button{font-size:1rem;padding:.5rem 1.4rem;margin:.25rem 0;max-width:100%;border-radius:4px;border:1px solid #0b5cad;background:#0f6cbd;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0f6cbd}
input:not([type=radio]):not([type=checkbox]),textarea{font:inherit;padding:.4rem .5rem;border:1px solid #757575;border-radius:4px;width:100%;max-width:28rem}
input[aria-invalid=true]{border:2px solid #c50f1f}input[type=checkbox][aria-invalid=true]{outline:2px solid #c50f1f;outline-offset:2px}
input[type=radio],input[type=checkbox]{width:1.5rem;height:1.5rem;margin:0 .5rem 0 0;vertical-align:middle;accent-color:#0f6cbd}
dl.facts{display:grid;grid-template-columns:minmax(0,max-content) minmax(0,1fr);gap:.2rem 1rem}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
a{padding-block:.25rem}nav a{display:inline-block;padding:.25rem .4rem;min-width:1.5rem}
table{border-collapse:collapse;width:100%;margin-bottom:1rem}th,td{text-align:left;vertical-align:top;padding:.4rem;border-bottom:1px solid #ddd}
table.partners th,table.partners td{overflow-wrap:normal}table.partners tbody th{overflow-wrap:anywhere;min-width:9rem}table.partners td:nth-of-type(n+3){white-space:nowrap}
.notice{background:#f3f8fd;border-left:4px solid #0f6cbd;padding:.6rem 1rem}.error{background:#fdf3f4;border-left:4px solid #c50f1f;padding:.6rem 1rem}
.visually-hidden{position:absolute;width:1px;height:1px;padding:0;margin:-1px;border:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
nav ul{list-style:none;padding:0;margin-left:-.4rem;display:flex;flex-wrap:wrap;gap:.5rem}a[aria-current]{font-weight:bold;color:inherit;text-decoration:none}
form.inline{display:inline}
:focus-visible{outline:3px solid #1b1b1b;outline-offset:2px}
@media (max-width:40rem){
dl.facts{display:block}dl.facts dd{margin:0 0 .4rem}
table.partners,table.partners caption,table.partners thead,table.partners tbody,table.partners tr,table.partners th,table.partners td{display:block}
table.partners thead{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0)}
table.partners tr{border:1px solid #ccc;border-radius:6px;padding:.5rem 1rem;margin:0 0 1rem}
table.partners th,table.partners td{border:0;padding:.1rem 0}table.partners tbody th{font-size:1.1rem}table.partners td:empty{padding:0}
table.partners td::before{font-weight:600}
table.partners td:nth-of-type(1)::before{content:"Status: "/""}table.partners td:nth-of-type(2)::before{content:"Roles: "/""}
table.partners td:nth-of-type(3)::before{content:"Since: "/""}table.partners td:nth-of-type(4)::before{content:"Ends: "/""}
}
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`.value;
}
