// Minimal types for the parts of jstat@1 that this project uses. jstat ships no declarations.
// The package is CommonJS (`module.exports = jStat`), so it is declared with `export =`:
// an ESM file imports it as `import jstatPkg from "jstat"` and gets the jStat object itself.
declare module "jstat" {
  interface JStatChiSquare {
    /** P(X <= x) for a chi-square variable X with `dof` degrees of freedom. */
    cdf(x: number, dof: number): number;
  }

  interface JStat {
    chisquare: JStatChiSquare;
  }

  const jStat: JStat;
  export = jStat;
}
