/** Exit codes: 0 done; 1 the run ended without meeting its target; 2 bad input; 130 interrupted (Ctrl-C, SIGINT); 143 terminated (SIGTERM), as shells report 128 + the signal number. */
export const EXIT = { ok: 0, incomplete: 1, input: 2, interrupted: 130, terminated: 143 } as const;

let lastSignal: NodeJS.Signals | undefined;

/** The exit code of a command stopped by a signal: 143 after SIGTERM, else 130. */
export const interruptedCode = (): number => (lastSignal === "SIGTERM" ? EXIT.terminated : EXIT.interrupted);

/** Where a command writes: stdout and stderr, one line at a time (tests pass their own). */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/**
 * Runs `work` with Ctrl-C (and SIGTERM) handling: the first stops cleanly (resumable) and prints how to continue,
 * `resumeHint` of the folder `work` has put in `dir.current` (if any yet); a second exits at once.
 */
export async function withInterrupt<T>(
  io: Io,
  resumeHint: (dir: string | undefined) => string,
  work: (signal: AbortSignal, dir: { current?: string }) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const dir: { current?: string } = {};
  let hits = 0;
  const onSigint = (signal: NodeJS.Signals): void => {
    hits += 1;
    lastSignal = signal;
    if (hits > 1) process.exit(interruptedCode());
    io.err(`\ndebiaspi: stopping after the images in flight; continue with: ${resumeHint(dir.current)}`);
    controller.abort(new Error("interrupted"));
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  try {
    return await work(controller.signal, dir);
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
  }
}
