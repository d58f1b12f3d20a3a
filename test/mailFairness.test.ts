import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { customer, mailTo, newPartner, offer, subjects } from './support/relationshipDriver.js';
import { useTestSystem } from './support/useTestSystem.js';
import { waitFor } from './support/waitFor.js';

// Issue 10, item 3 (fairness), measured. One global send rate (here 10 emails a
// second) and partner A queues a burst of 300 emails: 30 s of sending. Partner B
// then makes an offer. In a FIFO queue B's invitation would be email 301 and
// arrive about 30 s later; with priority by sender volume it goes out within a
// few send intervals, while most of A's burst is still waiting.

const RATE = 10;
const FLOOD = 300;

describe('mail fairness between partners', () => {
  const system = useTestSystem('mail-fairness', { env: { MAIL_RATE_PER_SECOND: String(RATE), RECIPIENT_MAIL_PER_HOUR: '1000' } });

  it("partner B's invitation arrives in its normal time during partner A's burst", async () => {
    const [a, b] = [await newPartner(system, 'flooder'), await newPartner(system, 'bystander')];

    // Normal time first: B's invitation with nothing else queued (workflow start, activity, one send).
    const warmup = customer('normal');
    let started = Date.now();
    await offer(system, b, warmup);
    await mailTo(system, warmup.adminEmail, subjects.invitation);
    const normalMs = Date.now() - started;

    // A's burst: notifications of its relationships, all through the same outbox the activities use.
    const outbox = system.mail;
    const floodTo = (i: number) => `flood-${i}@a-customers.example.com`;
    for (let i = 0; i < FLOOD; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, FLOOD - i) }, (_, k) =>
          outbox.enqueue(`flood-${a.id}-${i + k}`, {
            template: 'invitationExpired',
            to: floodTo(i + k),
            sender: a.id,
            data: { partnerName: a.name, customerName: 'A customer', tenantDomain: 'a-customers.example.com', relationshipId: randomUUID(), expiredAt: new Date() },
          }),
        ),
      );
    }
    const fromA = () => system.smtp.messages.filter((m) => m.to.some((to) => to.startsWith('flood-')));
    await waitFor(() => fromA().length >= 5, { what: "A's burst to be sending" });

    const to = customer('fair');
    started = Date.now();
    const { workflowId } = await offer(system, b, to);
    const mail = await mailTo(system, to.adminEmail, subjects.invitation);
    const latencyMs = Date.now() - started;
    const position = system.smtp.messages.indexOf(mail);
    const aSentBefore = fromA().length;
    const aStillQueued = FLOOD - aSentBefore;

    // The control: B's job was queued behind every one of A's (FIFO would send it last) ...
    const bJob = await system.mailQueue.getJob(`${workflowId}-invitation-1`);
    const aLast = await system.mailQueue.getJob(`flood-${a.id}-${FLOOD - 1}`);
    expect(bJob?.timestamp ?? 0).toBeGreaterThan(aLast?.timestamp ?? Infinity);
    // ... yet it went out while most of A's burst still waited: 200+ emails, 20+ s at this rate.
    expect(aStillQueued).toBeGreaterThan(FLOOD * 0.66);
    // Its latency is its normal time plus a few send intervals, far below the burst's remaining time.
    const intervalMs = 1000 / RATE;
    expect(latencyMs).toBeLessThan(normalMs + 20 * intervalMs + 1_000);
    expect(latencyMs).toBeLessThan((aStillQueued * intervalMs) / 4);
    console.info(
      `fairness: B's invitation took ${latencyMs} ms (alone: ${normalMs} ms), arrived as email ${position + 1} of ${system.smtp.messages.length}, ` +
        `with ${aStillQueued} of A's ${FLOOD} still queued (${(aStillQueued / RATE).toFixed(0)} s of sending); FIFO would have sent it after all of them`,
    );
  });
});
