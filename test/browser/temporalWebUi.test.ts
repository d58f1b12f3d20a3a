import { describe, expect, inject, it } from 'vitest';
import { collectPageProblems, runBrowserSteps, screenshotTaker, useChromium } from '../support/browser.js';
import { answer, customer, invitationLink, newPartner, offer, waitFor } from '../support/relationshipDriver.js';
import { useTestSystem } from '../support/useTestSystem.js';

// Operators watch relationships in the Temporal Web UI (v2.42, served by the
// run's dev server). Its workflow list keeps a visibility query in the URL's
// `query` parameter: the filter bar (Add Filter → attribute → value → Enter)
// writes it there, and a link carrying one opens the list already filtered.
describe('operators find a relationship in the Temporal Web UI', () => {
  const system = useTestSystem('browser-temporal-ui');
  const browser = useChromium();

  it('filters the workflow list by RelationshipStatus and finds the workflow', async () => {
    const shots = await screenshotTaker('temporal-web-ui');
    const namespace = system.config.TEMPORAL_NAMESPACE;
    const partner = await newPartner(system, 'operator-view');
    const activeCustomer = customer('ui-active');
    const [active, invited] = await Promise.all([offer(system, partner, activeCustomer), offer(system, partner, customer('ui-invited'))]);
    expect((await answer(await invitationLink(system, activeCustomer), { yes: true })).status).toBe(200);

    // The UI lists what the visibility store holds; wait until it holds both, as the UI will ask.
    const visible = (query: string, workflowId: string) =>
      waitFor(
        async () => {
          for await (const execution of system.temporal.workflow.list({ query })) {
            if (execution.workflowId === workflowId) return true;
          }
          return false;
        },
        { what: `${workflowId} in visibility for ${query}` },
      );
    // PartnerId keeps the list to this test's workflows; other files run on the same server.
    const byStatus = (status: string) => `RelationshipStatus="${status}" AND PartnerId="${partner.id}"`;
    await visible(byStatus('active'), active.workflowId);
    await visible(byStatus('invited'), invited.workflowId);

    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    context.setDefaultTimeout(20_000);
    const problems = collectPageProblems(context);
    const page = await context.newPage();
    await runBrowserSteps(shots, () => page, async () => {
      const listUrl = (query: string) => `${inject('temporalUiUrl')}/namespaces/${namespace}/workflows?query=${encodeURIComponent(query)}`;

      // A link carrying the query opens the list already filtered.
      await page.goto(listUrl(byStatus('invited')));
      await page.getByText(/RelationshipStatus\s*=\s*"invited"/).first().waitFor();
      await page.getByRole('link', { name: invited.workflowId }).waitFor();
      expect(await page.getByRole('link', { name: active.workflowId }).count()).toBe(0);
      await shots.take(page, 'workflows-relationship-status-invited');

      // This partner's two workflows, then the filter bar narrows them by status, as an operator would.
      await page.goto(listUrl(`PartnerId="${partner.id}"`));
      await page.getByRole('link', { name: active.workflowId }).waitFor();
      await page.getByRole('link', { name: invited.workflowId }).waitFor();
      await shots.take(page, 'workflows-of-partner');
      await page.getByRole('button', { name: 'Add Filter' }).click();
      await page.getByRole('menuitem', { name: /^RelationshipStatus/ }).click();
      // The UI's value box has no accessible name; its test id is the stable handle.
      const value = page.getByTestId(/^dropdown-filter-chip-RelationshipStatus-\d+-text$/);
      await value.fill('active');
      await value.press('Enter');
      await page.waitForURL((url) => (url.searchParams.get('query') ?? '').includes('`RelationshipStatus`="active"'));
      await page.getByRole('link', { name: invited.workflowId }).waitFor({ state: 'detached' });
      await page.getByText(/RelationshipStatus\s*=\s*"active"/).first().waitFor();
      await shots.take(page, 'workflows-relationship-status-active');

      // And from the list to the workflow itself.
      await page.getByRole('link', { name: active.workflowId }).click();
      await page.waitForURL(`**/namespaces/${namespace}/workflows/${active.workflowId}/**`);
      await page.getByRole('heading', { name: active.workflowId }).waitFor();
      // The history below makes a full-page shot slow and large; the top says what matters.
      await shots.take(page, 'workflow-detail', { fullPage: false });

      expect(problems).toEqual([]);
    }, () => context.close());
  });
});
