import { describeTolerances, violationText, type CheckResult } from "../analysis/check.js";

/** Text and attribute values escaped for XML (the five predefined entities; control characters dropped). */
export function xmlEscape(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/**
 * `check`'s result as JUnit XML, the format CI systems (GitHub Actions reporters, GitLab, Jenkins) show as
 * test results: one <testsuite> per run, one <testcase> per distribution checked (classname the run, name
 * the factor or attribute) and one for the run as a whole ("run": status, images, cost, refusals,
 * agreement); each violation is a <failure>.
 */
export function checkJunit(result: CheckResult, name: string): string {
  const byRun = new Map<string, CheckResult["cases"]>();
  for (const c of result.cases) {
    const list = byRun.get(c.run) ?? [];
    list.push(c);
    byRun.set(c.run, list);
  }
  const failures = result.cases.filter((c) => c.violations.length > 0).length;
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="${xmlEscape(name)}" tests="${result.cases.length}" failures="${failures}" errors="0">`,
  ];
  for (const [run, cases] of byRun) {
    const failed = cases.filter((c) => c.violations.length > 0).length;
    lines.push(`  <testsuite name="${xmlEscape(run)}" tests="${cases.length}" failures="${failed}" errors="0" skipped="0">`);
    lines.push(`    <properties><property name="tolerances" value="${xmlEscape(describeTolerances(result.tolerances))}"/></properties>`);
    for (const c of cases) {
      const open = `    <testcase classname="${xmlEscape(run)}" name="${xmlEscape(c.scope)}"`;
      if (c.violations.length === 0) {
        lines.push(`${open}/>`);
        continue;
      }
      lines.push(`${open}>`);
      for (const v of c.violations) {
        const text = violationText(v);
        lines.push(`      <failure type="${v.metric}" message="${xmlEscape(text)}">${xmlEscape(`${v.scope}: ${text}${v.policy ? ` (${v.policy}: ${v.prompt})` : ""}`)}</failure>`);
      }
      lines.push(`    </testcase>`);
    }
    lines.push(`  </testsuite>`);
  }
  lines.push(`</testsuites>`, "");
  return lines.join("\n");
}
