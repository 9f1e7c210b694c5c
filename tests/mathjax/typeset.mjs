// Typeset TeX with MathJax 3 as JupyterLab configures it; report errors and unknown macros.
// Input (stdin): JSON list of {"id": str, "tex": str, "display": bool}.
// Output (stdout): JSON list of {"id": str, "problem": str}, one per failing formula (empty when all typeset).
import { readFileSync } from 'node:fs';
import { mathjax } from 'mathjax-full/js/mathjax.js';
import { TeX } from 'mathjax-full/js/input/tex.js';
import { liteAdaptor } from 'mathjax-full/js/adaptors/liteAdaptor.js';
import { RegisterHTMLHandler } from 'mathjax-full/js/handlers/html.js';
import { STATE } from 'mathjax-full/js/core/MathItem.js';
import { SerializedMmlVisitor } from 'mathjax-full/js/core/MmlTree/SerializedMmlVisitor.js';
import { AllPackages } from 'mathjax-full/js/input/tex/AllPackages.js';
import 'mathjax-full/js/input/tex/require/RequireConfiguration.js';

// Two configurations, each formula must typeset in both:
// - "jupyterlab": the package list JupyterLab's MathJax 3 extension loads (AllPackages + require;
//   textmacros among them), without noerrors so that an error is reported instead of shown as raw TeX
//   and without bussproofs (proof trees, unused here, which need an output jax to measure boxes);
// - "plain": MathJax's default TeX input (base, ams, newcommand, noundefined), where text-mode
//   macros inside \text{} are not processed and would be shown literally.
const CONFIGS = {
  jupyterlab: AllPackages.filter((name) => name !== 'noerrors' && name !== 'bussproofs').concat('require'),
  plain: ['base', 'ams', 'newcommand', 'noundefined'],
};

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
let lastError = null;
const documents = Object.entries(CONFIGS).map(([name, packages]) => {
  const tex = new TeX({
    packages,
    formatError: (jax, err) => { lastError = err.message; return jax.formatError(err); },
  });
  return [name, mathjax.document('', { InputJax: tex })];
});
const visitor = new SerializedMmlVisitor();

const items = JSON.parse(readFileSync(0, 'utf8'));
const problems = [];
for (const item of items) {
  for (const [config, html] of documents) {
    const problem = check(html, item);
    if (problem !== null) problems.push({ id: item.id, config, problem });
  }
}
process.stdout.write(JSON.stringify(problems));

function check(html, item) {
  lastError = null;
  let mml = '';
  try {
    const node = html.convert(item.tex, { display: item.display, end: STATE.COMPILED /* stop at MathML */ });
    mml = visitor.visitTree(node);
  } catch (err) {
    lastError = String(err && err.message ? err.message : err);
  }
  if (lastError !== null) return `error: ${lastError}`;
  if (mml.includes('<merror')) return 'error node in the MathML';
  if (/mathcolor="red"/.test(mml)) {
    // noundefined sets an unknown control sequence as red text instead of failing
    const names = [...mml.matchAll(/mathcolor="red"[^>]*>([^<]*)</g)].map((m) => m[1]);
    return `unknown macro ${names.join(', ')}`;
  }
  const shown = mml.match(/\\[A-Za-z_{}^$&%#]+/g);
  if (shown) return `TeX shown literally: ${[...new Set(shown)].join(', ')}`;
  return null;
}
