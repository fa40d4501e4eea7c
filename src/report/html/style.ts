/**
 * The report's stylesheet, inlined into the page (no external fonts or files). Rules are scoped under
 * `.dbp-report` so the sections can be embedded in another page (the dashboard) without clashes.
 * Colours: Okabe-Ito for series (see charts.ts), a blue-orange diverging scale for differences;
 * text contrast at least 4.5:1.
 */
export const REPORT_CSS = `
.dbp-report{--fg:#1b1b1f;--muted:#565661;--line:#d9d9e0;--bg:#ffffff;--soft:#f4f5f8;--ok:#006e4f;--no:#a8380c;--warn-bg:#fff4d6;--accent:#0b5cad;
  font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);max-width:1180px;margin:0 auto;padding:16px 20px 64px}
.dbp-report *{box-sizing:border-box}
.dbp-report h1{font-size:1.6rem;line-height:1.25;margin:.2rem 0 .8rem;overflow-wrap:anywhere}
.dbp-report h2{font-size:1.3rem;margin:2.4rem 0 .4rem;padding-top:.6rem;border-top:2px solid var(--line)}
.dbp-report h3{font-size:1.05rem;margin:1.4rem 0 .4rem}
.dbp-report a{color:var(--accent)}
.dbp-report code{font:0.85em/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.dbp-report .kicker{margin:0;color:var(--muted);font-size:.85rem;text-transform:uppercase;letter-spacing:.06em}
.dbp-report .lead{color:var(--muted);max-width:75ch;margin:.2rem 0 1rem}
.dbp-report .note,.dbp-report .muted{color:var(--muted);font-size:.9rem}
.dbp-report .facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:.2rem 1.2rem;margin:0 0 1rem;padding:.8rem 1rem;background:var(--soft);border-radius:8px}
.dbp-report .facts div{min-width:0}
.dbp-report .facts dt{font-size:.78rem;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.dbp-report .facts dd{margin:0 0 .3rem;overflow-wrap:anywhere}
.dbp-report .warn{background:var(--warn-bg);border-left:4px solid #b07800;padding:.5rem .8rem;border-radius:4px}
.dbp-report .toc ol{list-style:none;display:flex;flex-wrap:wrap;gap:.4rem;padding:0;margin:.6rem 0 0}
.dbp-report .toc a{display:inline-block;padding:.2rem .7rem;border:1px solid var(--line);border-radius:999px;text-decoration:none;font-size:.9rem}
.dbp-report .toc a:hover,.dbp-report .toc a:focus{background:var(--soft)}
.dbp-report .table-wrap{overflow-x:auto;margin:0 0 1.2rem;-webkit-overflow-scrolling:touch}
.dbp-report table{border-collapse:collapse;font-size:.88rem}
.dbp-report caption{text-align:left;font-weight:600;padding:.3rem 0;caption-side:top}
.dbp-report .table-title{font-weight:600;margin:.6rem 0 .2rem}
.dbp-report caption.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.dbp-report th,.dbp-report td{padding:.3rem .55rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
.dbp-report thead th{background:var(--soft);font-weight:600;white-space:nowrap;position:sticky;top:0}
.dbp-report tbody th{font-weight:400;min-width:14ch;max-width:32ch;overflow-wrap:break-word}
.dbp-report .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.dbp-report .ok{color:var(--ok);font-weight:600}
.dbp-report .no{color:var(--no);font-weight:600}
.dbp-report .tag{font-size:.75rem;background:var(--warn-bg);padding:0 .3rem;border-radius:3px}
.dbp-report .badge{display:inline-block;font-size:.75rem;font-weight:600;padding:.05rem .45rem;border-radius:999px;border:1px solid transparent;white-space:nowrap}
.dbp-report .findings{padding:0;list-style:none;display:grid;gap:.7rem}
.dbp-report .finding{border:1px solid var(--line);border-left-width:6px;border-radius:6px;padding:.6rem .9rem}
.dbp-report .finding p{margin:.2rem 0}
.dbp-report .finding .claim{font-weight:600}
.dbp-report .finding .evidence p{color:var(--muted);font-size:.92rem}
.dbp-report .finding.v-yes{border-left-color:#009E73}.dbp-report .badge.v-yes{background:#d8f3e8;color:#005a40;border-color:#009E73}
.dbp-report .finding.v-partly{border-left-color:#E69F00}.dbp-report .badge.v-partly{background:#fdefd2;color:#7a4d00;border-color:#E69F00}
.dbp-report .finding.v-no{border-left-color:#D55E00}.dbp-report .badge.v-no{background:#fbe1d3;color:#8a3100;border-color:#D55E00}
.dbp-report .finding.v-not-measured{border-left-color:#999}.dbp-report .badge.v-not-measured{background:#eee;color:#444;border-color:#999}
.dbp-report .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,480px),1fr));gap:1.2rem 1.6rem;align-items:start}
.dbp-report .fig{margin:0;min-width:0;overflow-x:auto}
.dbp-report .fig.wide{grid-column:1/-1}
.dbp-report figcaption{font-size:.85rem;color:var(--muted);margin:.3rem 0 0}
.dbp-report svg.chart{display:block;width:100%;height:auto}
.dbp-report details>summary{cursor:pointer}
.dbp-report details.numbers{font-size:.85rem;margin-top:.2rem}
.dbp-report details.numbers summary{color:var(--muted)}
.dbp-report details.more{margin-top:1rem}
.dbp-report details.more>summary{font-weight:600}
.dbp-report .filters{display:flex;flex-wrap:wrap;gap:.4rem;margin:.4rem 0 1rem}
.dbp-report .filters button{font:inherit;font-size:.88rem;padding:.25rem .8rem;border:1px solid var(--line);border-radius:999px;background:var(--bg);color:var(--fg);cursor:pointer}
.dbp-report .filters button[aria-pressed="true"]{background:var(--fg);color:var(--bg);border-color:var(--fg)}
.dbp-report .cell{border:1px solid var(--line);border-radius:8px;margin:0 0 .8rem;padding:.4rem .8rem}
.dbp-report .cell>summary{padding:.3rem 0}
.dbp-report .cell-title{font-weight:600;overflow-wrap:anywhere}
.dbp-report .cell-meta{color:var(--muted);font-size:.9rem}
.dbp-report .cell-id{font-size:.82rem;color:var(--muted);margin:.1rem 0 .6rem}
.dbp-report .cap-note{color:#7a4d00}
.dbp-report .tiles{list-style:none;padding:0;margin:0 0 .4rem;display:grid;grid-template-columns:repeat(auto-fill,minmax(128px,1fr));gap:.7rem}
.dbp-report .tile{min-width:0;font-size:.78rem;line-height:1.3}
.dbp-report .thumb{display:flex;align-items:center;justify-content:center;aspect-ratio:4/5;background:var(--soft);border-radius:6px;overflow:hidden;border:2px solid transparent}
.dbp-report .thumb img{width:100%;height:100%;object-fit:contain;display:block}
.dbp-report .tile.is-kept .thumb{border-color:transparent}
.dbp-report .tile.is-apart .thumb{border:2px dashed #8a8a95;opacity:.75}
.dbp-report .tile.is-refused .thumb,.dbp-report .tile.is-error .thumb{border:2px dashed var(--no);background:repeating-linear-gradient(45deg,#fbe1d3 0 8px,#fff 8px 16px)}
.dbp-report .placeholder span{font-weight:700;color:var(--no);text-transform:uppercase;letter-spacing:.05em}
.dbp-report .cap{padding:.25rem .1rem}
.dbp-report .tile .badge{white-space:normal}
.dbp-report .b-kept{background:#d8f3e8;color:#005a40}
.dbp-report .b-apart{background:#e9e9ee;color:#3a3a44}
.dbp-report .b-refused,.dbp-report .b-error{background:#fbe1d3;color:#8a3100}
.dbp-report .labels{list-style:none;padding:0;margin:.25rem 0 0;display:flex;flex-wrap:wrap;gap:.2rem}
.dbp-report .labels li{background:var(--soft);border-radius:3px;padding:0 .3rem}
.dbp-report .labels li.dis{background:#fdefd2;outline:1px solid #E69F00}
.dbp-report .disagree{list-style:none;margin:.3rem 0 0;padding:.2rem .35rem;background:#fdefd2;border-left:3px solid #E69F00;border-radius:3px}
.dbp-report .disagree .who{color:var(--muted)}
.dbp-report .asked{color:var(--muted);margin:.2rem 0 0}
.dbp-report .reason{color:var(--no);margin:.2rem 0 0;overflow-wrap:anywhere}
.dbp-report .gallery[data-filter="kept"] .tile:not([data-state="kept"]){display:none}
.dbp-report .gallery[data-filter="apart"] .tile[data-state="kept"]{display:none}
.dbp-report .gallery[data-filter="disagree"] .tile:not([data-disagree]){display:none}
.dbp-report .gallery[data-filter="apart"] :is(.cell,.group):not([data-apart]),.dbp-report .gallery[data-filter="disagree"] :is(.cell,.group):not([data-disagree]){display:none}
.dbp-report .group{margin:0 0 .6rem}
.dbp-report .group>summary{font-weight:600;padding:.4rem .2rem;border-bottom:1px solid var(--line);margin-bottom:.5rem}
.dbp-report .group[open]>summary{margin-bottom:.7rem}
@media (max-width:600px){
  .dbp-report{padding:10px 12px 48px;font-size:14px}
  .dbp-report h1{font-size:1.3rem}
  .dbp-report h2{font-size:1.15rem}
  .dbp-report .facts{grid-template-columns:1fr 1fr}
  .dbp-report .tiles{grid-template-columns:repeat(auto-fill,minmax(104px,1fr));gap:.5rem}
  .dbp-report th,.dbp-report td{padding:.25rem .4rem}
}
@media print{.dbp-report .filters,.dbp-report .toc{display:none}.dbp-report details{display:block}}
`;

/** Page-level rules, used only when the report is a document of its own. */
export const PAGE_CSS = `html{-webkit-text-size-adjust:100%}body{margin:0;background:#fff}footer.dbp-report{padding-top:0;padding-bottom:24px}`;
