/** The `/docs` page: self-contained (no CDN), renders /openapi.json. */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Retain API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f7f8fa}
header{background:#1d2330;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
main{max-width:1000px;margin:0 auto;padding:16px 24px}
.op{background:#fff;border:1px solid #dde1e8;border-radius:6px;margin:10px 0}
.op summary{cursor:pointer;padding:10px 12px;display:flex;gap:10px;align-items:baseline}
.m{font:600 12px ui-monospace,monospace;text-transform:uppercase;border-radius:4px;padding:2px 6px;color:#fff;min-width:52px;text-align:center}
.get{background:#2f7d32}.post{background:#1565c0}.put{background:#a05a00}.delete{background:#b71c1c}.patch{background:#6a1b9a}
.p{font-family:ui-monospace,monospace}.s{color:#555}
.body{padding:0 12px 12px}pre{background:#f0f2f5;padding:8px;border-radius:4px;overflow:auto;font-size:12px}
h3{font-size:13px;margin:12px 0 4px}table{border-collapse:collapse}td{padding:2px 8px;border-bottom:1px solid #eee;vertical-align:top}
</style></head>
<body><header><h1>Retain API</h1><div id="info"></div></header><main id="ops">Loading /openapi.json…</main>
<script>
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
fetch('openapi.json').then((r) => r.json()).then((doc) => {
  document.getElementById('info').textContent = 'OpenAPI ' + doc.openapi + ' · ' + doc.info.title + ' ' + doc.info.version + ' · authenticate with Authorization: Bearer <key>';
  const resolve = (s) => s && s.$ref ? doc.components.schemas[s.$ref.split('/').pop()] : s;
  const out = [];
  for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) {
    const params = (op.parameters || []).map((p) => '<tr><td class="p">' + esc(p.name) + '</td><td>' + esc(p.in) + (p.required ? ', required' : '') + '</td><td>' + esc(p.description || (p.schema && p.schema.type) || '') + '</td></tr>').join('');
    const body = op.requestBody && op.requestBody.content ? Object.entries(op.requestBody.content).map(([t, c]) => '<h3>Body (' + esc(t) + ')</h3><pre>' + esc(JSON.stringify(resolve(c.schema), null, 2)) + '</pre>').join('') : '';
    const res = Object.entries(op.responses || {}).map(([code, r]) => '<tr><td>' + esc(code) + '</td><td>' + esc(r.description) + '</td></tr>').join('');
    out.push('<details class="op"><summary><span class="m ' + method + '">' + method + '</span><span class="p">' + esc(path) + '</span><span class="s">' + esc(op.summary) + '</span></summary><div class="body"><p>' + esc(op.description || '').replace(/\\n/g, '<br>') + '</p>' + (params ? '<h3>Parameters</h3><table>' + params + '</table>' : '') + body + '<h3>Responses</h3><table>' + res + '</table></div></details>');
  }
  document.getElementById('ops').innerHTML = out.join('');
}).catch((e) => { document.getElementById('ops').textContent = 'cannot load openapi.json: ' + e; });
</script></body></html>`;
