import { describe, expect, it } from 'vitest';
import { getPage, postForm } from '../support/http.js';
import { customer, invitationLink, newPartner, offer, registerTenant, unique } from '../support/relationshipDriver.js';
import { adminsPage, askSignIn, linkInMail, mailSubjects } from '../support/tenantDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';
import { waitFor } from '../support/waitFor.js';

// Issue 10, item 5: no usable link in Redis (nor, so, in Bull Board, which reads
// Redis). Every kind of emailed link is sent, then every key under this file's
// queue prefix is read whole and searched for the token the email carried. Before
// derived tokens, each of these found the token in the job's data.

describe('no raw link token at rest in Redis', () => {
  const system = useTestSystem('tokens-at-rest');

  /** Everything stored under the test's prefix (jobs, their data, events, results, our own counters). */
  async function redisContents(): Promise<string> {
    const parts: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await system.redis.scan(cursor, 'MATCH', `${system.config.QUEUE_PREFIX}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const type = await system.redis.type(key);
        parts.push(key);
        if (type === 'string') parts.push((await system.redis.get(key)) ?? '');
        else if (type === 'hash') parts.push(JSON.stringify(await system.redis.hgetall(key)));
        else if (type === 'list') parts.push(JSON.stringify(await system.redis.lrange(key, 0, -1)));
        else if (type === 'set') parts.push(JSON.stringify(await system.redis.smembers(key)));
        else if (type === 'zset') parts.push(JSON.stringify(await system.redis.zrange(key, 0, -1)));
        else if (type === 'stream') parts.push(JSON.stringify(await system.redis.xrange(key, '-', '+')));
      }
    } while (cursor !== '0');
    return parts.join('\n');
  }

  /** Waits until the email's job has finished, so its final state is what we read. */
  async function jobDone(to: string) {
    await waitFor(
      async () => {
        const jobs = await system.mailQueue.getJobs(['completed']);
        return jobs.some((job) => job.data.to === to) || undefined;
      },
      { what: `the mail job to ${to} completed` },
    );
  }

  async function expectNotInRedis(link: string, to: string) {
    const token = link.slice(link.lastIndexOf('/') + 1);
    expect(token.length).toBeGreaterThanOrEqual(40);
    await jobDone(to);
    const contents = await redisContents();
    // The scan did read the job (its recipient is there), and found no trace of the link.
    expect(contents).toContain(to);
    expect(contents).not.toContain(token);
    expect(contents).not.toContain(encodeURIComponent(token));
  }

  it('an invitation and a forwarded invitation: the links work, Redis never held them', async () => {
    const partner = await newPartner(system, 'rest');
    const to = customer('rest');
    await offer(system, partner, to);
    const link = await invitationLink(system, to);
    await expectNotInRedis(link, to.adminEmail);
    const page = await getPage(link);
    expect(page.status).toBe(200);
    expect(page.text).toContain(partner.name);

    // Forwarded by a contact who is not an admin: the admin's own link, also never in Redis.
    const other = customer('forward');
    const boss = `boss@${other.tenantDomain}`;
    await registerTenant(system, other, [boss]);
    await offer(system, partner, other, {}, { registered: false });
    const contactLink = await invitationLink(system, other);
    expect((await postForm(`${contactLink}/forward`, {})).status).toBe(200);
    const forwarded = await system.smtp.waitForMail((m) => m.to.includes(boss) && mailSubjects.invitation.test(m.parsed.subject ?? ''), 'the forwarded invitation');
    const bossLink = linkInMail(forwarded, '/invitations');
    await expectNotInRedis(bossLink, boss);
    expect((await getPage(bossLink)).status).toBe(200);
  });

  it('a sign-in link, a domain verification link and an admin invitation link', async () => {
    const to = customer('signin');
    await registerTenant(system, to);
    await askSignIn(system, to.tenantDomain, to.adminEmail);
    const signInMail = await system.smtp.waitForMail((m) => m.to.includes(to.adminEmail) && mailSubjects.signIn.test(m.parsed.subject ?? ''), 'the sign-in email');
    const signInLink = linkInMail(signInMail, '/sign-in');
    await expectNotInRedis(signInLink, to.adminEmail);
    // The link still signs in: its page, then its button.
    const jar = new Map<string, string>();
    expect((await getPage(signInLink, jar)).status).toBe(200);
    expect((await postForm(signInLink, {}, jar)).status).toBe(303);

    const domain = `${unique('verify')}.example.com`;
    const registrant = `owner@${domain}`;
    expect((await postForm(`${system.baseUrl}/tenants/new`, { tenantDomain: domain, name: 'Verify Ltd', email: registrant })).status).toBe(200);
    const verifyMail = await system.smtp.waitForMail((m) => m.to.includes(registrant) && mailSubjects.domainVerification.test(m.parsed.subject ?? ''), 'the verification email');
    const verifyLink = linkInMail(verifyMail, '/tenants/verify');
    await expectNotInRedis(verifyLink, registrant);
    const verifyPage = await getPage(verifyLink);
    expect(verifyPage.status).toBe(200);
    expect(verifyPage.text).toContain(`_partnerflow-challenge.${domain}`);

    const page = await adminsPage(system, jar);
    const deputy = `deputy@${to.tenantDomain}`;
    expect((await postForm(`${system.baseUrl}/tenant-admins`, { email: deputy, csrf: page.csrf }, jar)).status).toBe(200);
    const inviteMail = await system.smtp.waitForMail((m) => m.to.includes(deputy) && mailSubjects.adminInvitation.test(m.parsed.subject ?? ''), 'the admin invitation');
    const confirmLink = linkInMail(inviteMail, '/tenant-admins/confirm');
    await expectNotInRedis(confirmLink, deputy);
    expect((await postForm(confirmLink, {})).status).toBe(200);
    expect((await system.db.tenantAdmin.findMany({ where: { tenantDomain: to.tenantDomain } })).map((a) => a.email)).toContain(deputy);
  });
});
