import { describe, expect, it } from 'vitest';
import { startTemporalDevServer } from '../../scripts/temporal.js';
import { CODEC_PATH } from '../../src/operator/codecRoutes.js';
import { collectPageProblems, runBrowserSteps, screenshotTaker, useChromium } from '../support/browser.js';
import { freePort } from '../support/freePort.js';
import { customer, newPartner, offer } from '../support/relationshipDriver.js';
import { useScratchFile } from '../support/scratchFile.js';
import { useSuiteResource } from '../support/suiteResource.js';
import { startTestSystem } from '../support/testSystem.js';

// Payloads are encrypted (src/infra/payloadCodec.ts); an operator reads them in
// the Temporal Web UI through the API's codec endpoint. The dev server of this
// file is its own, started as `npm start` starts it (scripts/temporal.ts), with
// --ui-codec-endpoint pointing at the API. The operator signs the browser in to the codec once
// (GET /codec/session, the operator token as the password) and switches on the
// Web UI's "Include cross-origin credentials"; the workflow's input then shows
// the customer admin's address, which the server itself only holds encrypted.
describe('operators read encrypted payloads in the Temporal Web UI', () => {
  const dataFile = useScratchFile('pf-web-ui-codec-', 'temporal.db');
  const stack = useSuiteResource(
    'a Temporal dev server whose Web UI decodes through the API, and the system on it',
    async () => {
      const [port, uiPort, apiPort] = [await freePort(), await freePort(), await freePort()];
      // localhost for both, as npm start has them: one site, so the codec's SameSite=Lax cookie goes along.
      const apiUrl = `http://localhost:${apiPort}`;
      const temporal = await startTemporalDevServer({
        port,
        uiPort,
        dbFile: dataFile.file,
        codecEndpoint: `${apiUrl}${CODEC_PATH}`,
        log: () => undefined,
        onOutput: () => undefined,
      });
      try {
        const system = await startTestSystem('browser-web-ui-codec', {
          port: apiPort,
          env: { TEMPORAL_ADDRESS: temporal.address, TEMPORAL_UI_URL: temporal.uiUrl },
        });
        return { temporal, system, uiUrl: temporal.uiUrl, apiUrl };
      } catch (err) {
        await temporal.stop();
        throw err;
      }
    },
    async ({ temporal, system }) => {
      await system.stop();
      await temporal.stop();
    },
  );
  const browser = useChromium();

  it('shows a workflow’s decrypted input once the browser is signed in to the codec', async () => {
    const { system, uiUrl, apiUrl } = stack;
    const shots = await screenshotTaker('temporal-web-ui-codec');
    const partner = await newPartner(system, 'codec-view');
    const to = customer('codec-view');
    const made = await offer(system, partner, to);
    const workflowUrl = `${uiUrl}/namespaces/${system.config.TEMPORAL_NAMESPACE}/workflows/${made.workflowId}`;

    // Playwright answers the codec's Basic challenge for the API's origin only, as the operator would.
    const context = await browser.newContext({
      viewport: { width: 1400, height: 900 },
      httpCredentials: { username: 'operator', password: system.operatorToken, origin: apiUrl },
    });
    context.setDefaultTimeout(20_000);
    const problems = collectPageProblems(context);
    const page = await context.newPage();
    await runBrowserSteps(shots, () => page, async () => {
      // Not signed in yet: the Web UI gets 401 from the codec and shows no address.
      await page.goto(workflowUrl);
      await page.getByRole('heading', { name: made.workflowId }).waitFor();
      await page.getByText('Codec Server could not connect').filter({ visible: true }).first().waitFor();
      await shots.take(page, 'not-signed-in', { fullPage: false });
      expect(await page.getByText(to.adminEmail).count()).toBe(0);

      const signIn = await page.goto(`${apiUrl}${CODEC_PATH}/session`);
      expect(signIn?.status()).toBe(200);
      await page.getByText('This browser may decode Temporal payloads').waitFor();

      await page.goto(workflowUrl);
      // Before the setting, the Web UI calls the codec without the cookie and is refused.
      await page.getByText('Codec Server could not connect').filter({ visible: true }).first().waitFor();
      await page.getByRole('button', { name: /Codec Server/ }).click();
      await shots.take(page, 'codec-settings', { fullPage: false });
      // The dev server's setting names the endpoint but cannot turn credentials on, so the browser's
      // own setting does (a cluster's UI server, or Temporal Cloud, can set both: README).
      await page.getByRole('button', { name: /^Use Cluster-level setting/ }).click();
      await page.getByText('Use my browser setting and ignore Cluster-level setting.').filter({ visible: true }).first().click();
      await page.getByPlaceholder('Paste your endpoint here').fill(`${apiUrl}${CODEC_PATH}`);
      // Filling the endpoint scrolls the panel under the UI's sticky top bar, which then takes the
      // mouse's clicks: the rest is done by keyboard, as an operator may.
      const credentials = page.getByLabel('Include cross-origin credentials');
      await credentials.focus();
      await page.keyboard.press('Space');
      expect(await credentials.isChecked()).toBe(true);
      await shots.take(page, 'codec-settings-filled', { fullPage: false });
      await page.getByRole('button', { name: 'Apply' }).focus();
      await page.keyboard.press('Enter');

      await page.reload();
      await page.getByText(to.adminEmail).first().waitFor();
      await shots.take(page, 'decoded-input', { fullPage: false });
      // The codec's 401s before the setting, requests the reload cut short and the sign-in page's favicon
      // (the API has none) are the only problems the pages met.
      expect(problems.filter((p) => !/\b401\b|net::ERR_ABORTED|\/favicon\.ico\)$/.test(p)), problems.join('\n')).toEqual([]);
    }, () => context.close());
  }, 120_000);
});
