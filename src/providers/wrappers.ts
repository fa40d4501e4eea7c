import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ProviderError } from "../http/errors.js";
import type { GenerateRequest, GenerateResult, ImageProvider } from "./types.js";
import { Pacer, systemClock } from "../util/pace.js";

/**
 * A disk cache of provider responses keyed by provider, model, prompt, seed and parameters, so a
 * rerun does not pay twice. Only images are cached (not refusals or errors, which may be passing).
 * A cached answer costs nothing: its costUsd is 0 and the original cost is kept in meta.
 */
export class CachedProvider implements ImageProvider {
  readonly id: string;

  constructor(
    private readonly inner: ImageProvider,
    private readonly dir: string,
    private readonly keyParams: Record<string, unknown>,
  ) {
    this.id = inner.id;
  }

  key(req: GenerateRequest): string {
    const identity = { provider: this.inner.id, extra: this.inner.cacheKey ?? {}, params: this.keyParams, prompt: req.prompt, seed: req.seed };
    return createHash("sha256").update(JSON.stringify(identity)).digest("hex");
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const key = this.key(req);
    const metaPath = join(this.dir, `${key}.json`);
    const imagePath = join(this.dir, `${key}.img`);
    if (existsSync(metaPath)) {
      try {
        const saved = JSON.parse(readFileSync(metaPath, "utf8")) as Omit<GenerateResult, "image">;
        const hit = { ...saved, costUsd: 0, meta: { ...saved.meta, cached: true, cachedCostUsd: saved.costUsd ?? 0 } };
        // A drawing (image/drawing.ts) is cached as its name alone; other images have their bytes beside.
        if (saved.drawing) return hit;
        if (existsSync(imagePath)) return { ...hit, image: new Uint8Array(readFileSync(imagePath)) };
      } catch {
        // An unreadable entry is ignored and overwritten.
      }
    }
    const result = await this.inner.generate(req);
    if (result.drawing && !result.image && !result.refusal) {
      mkdirSync(this.dir, { recursive: true });
      const tmp = join(this.dir, `.tmp-${process.pid}-${key}.json`);
      writeFileSync(tmp, JSON.stringify(result));
      renameSync(tmp, metaPath);
    } else if (result.image && !result.refusal) {
      mkdirSync(this.dir, { recursive: true });
      const { image, ...rest } = result;
      const tmp = `.tmp-${process.pid}-${key}`;
      writeFileSync(join(this.dir, `${tmp}.img`), image);
      renameSync(join(this.dir, `${tmp}.img`), imagePath);
      writeFileSync(join(this.dir, `${tmp}.json`), JSON.stringify(rest));
      renameSync(join(this.dir, `${tmp}.json`), metaPath);
    }
    return result;
  }
}

/** At most `perSecond` requests started per second (evenly spaced), for providers with rate limits. */
export class RateLimitedProvider implements ImageProvider {
  readonly id: string;
  private readonly pacer: Pacer;

  constructor(
    private readonly inner: ImageProvider,
    perSecond: number,
    now: () => number = () => Date.now(),
  ) {
    this.id = inner.id;
    this.pacer = new Pacer(perSecond, { now, sleep: systemClock.sleep });
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    await this.pacer.wait(req.signal);
    return this.inner.generate(req);
  }
}

interface Member {
  provider: ImageProvider;
  inFlight: number;
  downUntil: number;
  failures: number;
}

/**
 * Several endpoints of one provider as one (e.g. three A1111 boxes): each request goes to the
 * healthy endpoint with the fewest requests in flight; an endpoint whose call fails with a
 * connection or server error is taken out for `cooldownMs` and the request is tried on another.
 */
export class PoolProvider implements ImageProvider {
  readonly id: string;
  private readonly members: Member[];

  constructor(
    providers: ImageProvider[],
    private readonly cooldownMs = 30_000,
    private readonly now: () => number = () => Date.now(),
  ) {
    if (providers.length === 0) throw new Error("PoolProvider needs at least one provider");
    this.members = providers.map((provider) => ({ provider, inFlight: 0, downUntil: 0, failures: 0 }));
    this.id = `pool(${providers.map((p) => p.id).join(",")})`;
  }

  /** Endpoints and their state, for `doctor` and reports. */
  status(): { id: string; up: boolean; failures: number }[] {
    const t = this.now();
    return this.members.map((m) => ({ id: m.provider.id, up: m.downUntil <= t, failures: m.failures }));
  }

  private pick(tried: Set<Member>): Member | undefined {
    const t = this.now();
    const candidates = this.members.filter((m) => !tried.has(m));
    const up = candidates.filter((m) => m.downUntil <= t);
    // When every endpoint is resting, try the one that comes back first rather than failing.
    const pool = up.length > 0 ? up : candidates.sort((a, b) => a.downUntil - b.downUntil).slice(0, 1);
    return pool.sort((a, b) => a.inFlight - b.inFlight)[0];
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const tried = new Set<Member>();
    let last: unknown;
    for (let m = this.pick(tried); m; m = this.pick(tried)) {
      tried.add(m);
      m.inFlight += 1;
      try {
        const result = await m.provider.generate(req);
        m.failures = 0;
        return { ...result, meta: { ...result.meta, endpoint: m.provider.id } };
      } catch (e) {
        if (req.signal?.aborted) throw e;
        const endpointFault = !(e instanceof ProviderError) || e.retryable;
        if (!endpointFault) throw e;
        m.failures += 1;
        m.downUntil = this.now() + this.cooldownMs;
        last = e;
      } finally {
        m.inFlight -= 1;
      }
    }
    throw last instanceof Error ? last : new ProviderError(`${this.id}: every endpoint failed`);
  }
}
