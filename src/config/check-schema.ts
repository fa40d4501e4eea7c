import { z } from "zod";

const unit = z.number().min(0, "must be at least 0").max(1, "must be at most 1");

/**
 * The `check:` block of a run or experiment config: the thresholds `debiaspi check` applies (flags
 * override them one by one). A threshold left out is not checked.
 */
export const checkThresholdsSchema = z
  .object({
    /** Largest accepted total variation between observed and target. */
    maxTv: unit,
    /** Largest accepted |p - q| of any category or cell. */
    maxAbsDiff: unit,
    /** Smallest accepted chi-square goodness-of-fit p-value. */
    minP: unit,
    /** Largest accepted cost per kept image, US dollars. */
    maxCostPerKept: z.number().min(0, "must be at least 0"),
    /** Largest accepted share of provider calls that were refused. */
    maxRefusalRate: unit,
    /** Smallest accepted agreement rate of every checking observer (`checks:`) with the driving one. */
    minAgreement: unit,
  })
  .partial()
  .strict();

export type CheckThresholds = z.infer<typeof checkThresholdsSchema>;
