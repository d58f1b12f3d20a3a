import { roleCatalog } from '../../contract/roles.js';
import { html, page } from './html.js';

export interface AuthorizationView {
  token: string;
  partnerName: string;
  partnerContactEmail: string;
  customerName: string;
  roles: string[];
  terms: string | null;
  durationDays: number | null;
  autoExtend: boolean;
  trial: { offer: string; seats: number; days: number } | null;
  expiresAt: Date;
}

const roleItems = (roles: string[]) =>
  roles.map((id) => {
    const role = roleCatalog.find((r) => r.id === id);
    return html`<li><strong>${role?.name ?? id}</strong>: ${role?.description ?? ''}</li>`;
  });

export function authorizationPage(view: AuthorizationView): string {
  return page(
    `${view.partnerName} asks to be your partner`,
    html`<h1>${view.partnerName} asks for admin access to ${view.customerName}</h1>
<p>${view.partnerName} (${view.partnerContactEmail}) would like to become a delegated administrator for your organisation.</p>
<h2>Access requested</h2>
<ul>${roleItems(view.roles)}</ul>
<p>Duration: ${view.durationDays ? `${view.durationDays} days` : 'until either side ends it'}${view.autoExtend ? ', renewed automatically' : ''}.</p>
${view.terms ? html`<h2>Partner's terms</h2><p>${view.terms}</p>` : ''}
<p>You can remove this partner at any time from <a href="/partner-relationships">Partner relationships</a>.</p>
<form method="post" action="/invitations/${view.token}">
<fieldset>
<legend>Do you authorize ${view.partnerName}?</legend>
<p><label><input type="radio" name="choice" value="yes" required> Yes, authorize ${view.partnerName}</label></p>
<p><label><input type="radio" name="choice" value="no"> No</label></p>
<p><label for="reason">Reason if you decline (optional)</label><br><textarea id="reason" name="reason" rows="2" cols="50" maxlength="2000"></textarea></p>
${
  view.trial
    ? html`<p><label><input type="checkbox" name="startTrial" value="yes" checked> Also start the ${view.trial.offer} trial (${view.trial.seats} seats, ${view.trial.days} days)</label></p>`
    : ''
}
</fieldset>
<p>This invitation expires on ${view.expiresAt.toUTCString()}.</p>
<button type="submit">Next</button>
</form>`,
  );
}

export function acceptedPage(partnerName: string, trial: { offer: string } | null): string {
  return page(
    'Partner authorized',
    html`<h1>You authorized ${partnerName}</h1>
${trial ? html`<p class="notice">We are creating your ${trial.offer} trial now; you will get an email when it is ready.</p>` : ''}
<p>${partnerName} can now administer your organisation within the roles you granted. You can remove this partner at any time from <a href="/partner-relationships">Partner relationships</a>.</p>`,
  );
}

export function declinedPage(partnerName: string): string {
  return page('Request declined', html`<h1>You declined ${partnerName}'s request</h1><p>${partnerName} has no access to your organisation. We let them know.</p>`);
}

export type LinkProblem = 'unknown' | 'expired' | 'used' | 'superseded';

const linkProblemText: Record<LinkProblem, { title: string; text: string }> = {
  unknown: { title: 'This link is not valid', text: 'Check that you opened the whole link from the email.' },
  expired: { title: 'This invitation has expired', text: 'Ask the partner to send a new invitation.' },
  used: { title: 'This invitation was already answered', text: 'The partner request behind this link was already accepted or declined.' },
  superseded: { title: 'This link was replaced', text: 'The partner sent a newer invitation; use the link in the latest email.' },
};

export function linkProblemPage(problem: LinkProblem): string {
  const { title, text } = linkProblemText[problem];
  return page(title, html`<h1>${title}</h1><p class="error">${text}</p><p>Nothing was changed.</p>`);
}

export function messagePage(title: string, text: string): string {
  return page(title, html`<h1>${title}</h1><p class="error">${text}</p>`);
}
