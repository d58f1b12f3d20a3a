export interface OnboardingTimes {
  /** From the accept being sent to the relationship seen active. */
  acceptToActiveMs: number;
  /** Every leg in order, named; the legs add up to the relationship's whole time. */
  legs: [name: string, ms: number][];
  /** Its Temporal workflow, for the history profile read after the run. */
  workflowId?: string;
  /** API reads the driver made polling for active (full system): their SQL and Redis are in the counts. */
  reads?: number;
}

/** One side of the comparison: something that takes a relationship from offer to active. */
export interface OnboardingSystem {
  name: string;
  /** Offer → invitation → accept → active for relationship number `index`. */
  onboard(index: number): Promise<OnboardingTimes>;
  /** Set-up that is not onboarding (registering the customers' tenants), done before a round and not counted. */
  prepare?(first: number, count: number): Promise<void>;
}

/** Times consecutive legs of one relationship's way. */
export function legTimer() {
  const legs: [string, number][] = [];
  let last = performance.now();
  return {
    legs,
    /** Ends the current leg under `name`; returns when it ended. */
    lap(name: string): number {
      const now = performance.now();
      legs.push([name, now - last]);
      last = now;
      return now;
    },
  };
}
