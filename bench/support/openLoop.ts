import type { OnboardingSystem } from './onboardingSystem.js';
import { percentile, sleep } from './stats.js';

// Open-loop load, as operators size a system: onboardings arrive at a fixed
// rate whatever the system's backlog (a closed loop would slow its arrivals
// down with the system and hide the queueing). Steps through the rates until
// the knee: completions fall behind arrivals, or p95 explodes, or errors appear.

export interface StepResult {
  rate: number;
  seconds: number;
  arrived: number;
  /** Arrivals not started because BENCH_MAX_IN_FLIGHT onboardings were already running. */
  shed: number;
  completed: number;
  /** Completed within the arrival window, per second of it. */
  completionRate: number;
  errors: string[];
  /** Offer posted → API shows active, every onboarding of the step (waited for after the window). */
  totalP50Ms: number;
  totalP95Ms: number;
  acceptToActiveP50Ms: number;
  acceptToActiveP95Ms: number;
}

export interface OpenLoopSettings {
  rates: number[];
  stepSeconds: number;
  maxInFlight: number;
  drainTimeoutMs: number;
  firstIndex: number;
  progress: (line: string) => void;
}

export async function runStep(system: OnboardingSystem, rate: number, settings: OpenLoopSettings, firstIndex: number): Promise<StepResult> {
  const planned = Math.max(1, Math.round(rate * settings.stepSeconds));
  await system.prepare?.(firstIndex, planned);
  const totals: number[] = [];
  const acceptToActive: number[] = [];
  const errors: string[] = [];
  let inFlight = 0;
  let shed = 0;
  let completedInWindow = 0;
  const running: Promise<void>[] = [];
  const started = performance.now();
  const windowEnd = started + settings.stepSeconds * 1000;
  for (let k = 0; k < planned; k += 1) {
    const due = started + (k * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    if (inFlight >= settings.maxInFlight) {
      shed += 1;
      continue;
    }
    inFlight += 1;
    const begun = performance.now();
    running.push(
      system
        .onboard(firstIndex + k)
        .then((times) => {
          totals.push(performance.now() - begun);
          acceptToActive.push(times.acceptToActiveMs);
          if (performance.now() <= windowEnd) completedInWindow += 1;
        })
        .catch((err: unknown) => {
          errors.push(`#${firstIndex + k}: ${err instanceof Error ? err.message : String(err)}`);
        })
        .finally(() => (inFlight -= 1)),
    );
  }
  const left = windowEnd - performance.now();
  if (left > 0) await sleep(left);
  const backlog = inFlight;
  await Promise.race([Promise.all(running), sleep(settings.drainTimeoutMs)]);
  const result: StepResult = {
    rate,
    seconds: settings.stepSeconds,
    arrived: planned - shed,
    shed,
    completed: totals.length,
    completionRate: completedInWindow / settings.stepSeconds,
    errors,
    totalP50Ms: percentile(totals, 50),
    totalP95Ms: percentile(totals, 95),
    acceptToActiveP50Ms: percentile(acceptToActive, 50),
    acceptToActiveP95Ms: percentile(acceptToActive, 95),
  };
  settings.progress(
    `open loop ${rate}/s for ${settings.stepSeconds} s: ${result.arrived} arrived (${shed} shed), ${result.completed} done, ` +
      `${result.completionRate.toFixed(2)}/s completed in the window, backlog at its end ${backlog}, ` +
      `offer→active p50/p95 ${result.totalP50Ms.toFixed(0)}/${result.totalP95Ms.toFixed(0)} ms, errors ${errors.length}`,
  );
  return result;
}

/** Why a step is past the knee, or undefined while the system keeps up. */
export function pastKnee(step: StepResult, first: StepResult): string | undefined {
  if (step.errors.length > 0 || step.shed > 0) return `${step.errors.length} errors, ${step.shed} shed`;
  if (step.completionRate < 0.9 * step.rate) return `completions ${step.completionRate.toFixed(2)}/s < 90 % of ${step.rate}/s arriving`;
  if (step.totalP95Ms > 3 * first.totalP95Ms) return `p95 ${step.totalP95Ms.toFixed(0)} ms > 3× the first step's ${first.totalP95Ms.toFixed(0)} ms`;
  return undefined;
}

/**
 * Steps through `rates` until the knee, then runs one more step at half the
 * knee's rate: the latency an operator can size for.
 */
export async function findKnee(system: OnboardingSystem, settings: OpenLoopSettings) {
  const steps: StepResult[] = [];
  let index = settings.firstIndex;
  let knee: { rate: number; why: string } | undefined;
  for (const rate of settings.rates) {
    const step = await runStep(system, rate, settings, index);
    index += Math.round(rate * settings.stepSeconds) + 1;
    steps.push(step);
    const why = pastKnee(step, steps[0] ?? step);
    if (why) {
      knee = { rate, why };
      break;
    }
  }
  let half: StepResult | undefined;
  if (knee) {
    half = await runStep(system, knee.rate / 2, settings, index);
    index += Math.round((knee.rate / 2) * settings.stepSeconds) + 1;
  }
  return { steps, knee, half, nextIndex: index };
}

export type KneeResult = Awaited<ReturnType<typeof findKnee>>;
