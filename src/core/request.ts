/** One category per attribute: { race: "black", gender: "female" }. */
export type Assignment = Record<string, string>;

/** What a policy asks the model for next. */
export type Request =
  /** The prompt unchanged. */
  | { kind: "plain" }
  /** The prompt with an ethical intervention phrase about these attributes. */
  | { kind: "eip"; attributes: string[] }
  /** One person with these categories. `slot` numbers an open-loop quota assignment. */
  | { kind: "direct"; cells: Assignment; slot?: number }
  /** One person matching any of these options; the model chooses. */
  | { kind: "choice"; options: Assignment[] };

/** What an observer saw of one person: a category id per attribute, or null for unknown. */
export interface PersonObservation {
  labels: Record<string, string | null>;
  confidence?: Record<string, number>;
}

export interface Observation {
  observer: string;
  /** The people in the image; the first is the main subject. Empty when no person was seen. */
  persons: PersonObservation[];
  /** Why something is unknown, when it is. */
  note?: string;
  /**
   * Set when the persons were not found in the image but are the observer's fallback for an image where it found
   * nobody (faces: no face detected, one person with only a skin tone measured over the whole image): what the
   * fallback was. Counts of people found (calibrate) leave these out.
   */
  fallback?: string;
  /**
   * Set when the observer could not do its job at all (service unreachable, HTTP error after the
   * retries, model failure, the observer threw, a pixel observer could not decode the image): what went
   * wrong. Not set for an honest answer, however empty ("no person", "declined"). The loop stops after
   * too many failed observations in a row instead of spending the whole budget.
   */
  error?: string;
}

/** The main subject's labels, or an empty record when no person was seen. */
export function mainSubject(obs: Observation): Record<string, string | null> {
  return obs.persons[0]?.labels ?? {};
}
